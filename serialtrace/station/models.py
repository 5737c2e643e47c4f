"""Station tables: the log of every scan and each station's learned scanner profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from ..columns import JsonType, utcnow
from .policy import NAME_MAX, RAW_MAX


class ScanLog(SQLModel, table=True):
    """One scan as it arrived: who, where, the raw text, how it was read and what it matched."""

    __tablename__ = "scan_log"
    # By station and text for the repeat check; by station and time for the station's recent scans and the log page.
    __table_args__ = (Index("ix_scan_log_station_raw_at", "station", "raw", "scanned_at"),
                      Index("ix_scan_log_station_at", "station", "scanned_at"))

    id: int | None = Field(default=None, primary_key=True)
    scanned_at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    station: str = Field(default="", sa_type=String(NAME_MAX))
    source: str = Field(default="typed", sa_type=String(16))
    raw: str = Field(sa_type=String(RAW_MAX))
    kind: str | None = Field(default=None, sa_type=String(16))
    result: str = Field(sa_type=String(16), index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)


class ScannerStation(SQLModel, table=True):
    """A named scanning station and the profile (prefix, suffix, separator, layout) of its scanner."""

    __tablename__ = "scanner_station"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(NAME_MAX), unique=True, index=True)
    profile: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # SHA-256 of the key the station's own device holds in a cookie (set when it first calibrated the station):
    # only that device, or an admin, may change the profile. NULL for a station calibrated before the key existed.
    device_key_hash: str | None = Field(default=None, sa_type=String(64))
