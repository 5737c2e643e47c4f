"""Scanning stations: the log of every scan and each station's learned scanner profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Column, Index, String, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from ..errors import ValidationError
from ..models_base import JsonType, utcnow

# Longer scans are cut when logged; no real symbol carries more (GS1-128 holds 48 characters).
RAW_MAX = 500
NAME_MAX = 64
PROFILE_KEYS = ("prefix", "suffix", "separator", "layout")


class ScanLog(SQLModel, table=True):
    """One scan as it arrived: who, where, the raw text, how it was read and what it matched."""

    __tablename__ = "scan_log"
    __table_args__ = (Index("ix_scan_log_station_raw_at", "station", "raw", "scanned_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scanned_at: datetime = Field(default_factory=utcnow, index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user_account.id", index=True)
    station: str = Field(default="", sa_type=String(NAME_MAX))
    source: str = Field(default="typed", sa_type=String(16))
    raw: str = Field(sa_type=String(RAW_MAX))
    kind: Optional[str] = Field(default=None, sa_type=String(16))
    result: str = Field(sa_type=String(16), index=True)
    unit_id: Optional[int] = Field(default=None, foreign_key="unit.id", index=True)
    batch_id: Optional[int] = Field(default=None, foreign_key="batch.id", index=True)


class ScannerStation(SQLModel, table=True):
    """A named scanning station and the profile (prefix, suffix, separator, layout) of its scanner."""

    __tablename__ = "scanner_station"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(NAME_MAX), unique=True, index=True)
    profile: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: Optional[int] = Field(default=None, foreign_key="user_account.id")


def log_scan(session: Session, *, raw: str, result: str, user: Any = None, station: str = "",
             source: str = "typed", kind: str | None = None, unit_id: int | None = None,
             batch_id: int | None = None, at: datetime | None = None) -> ScanLog:
    """Append one scan to the log. Flushes; the caller commits."""
    row = ScanLog(raw=raw[:RAW_MAX], result=result, user_id=getattr(user, "id", None), station=station[:NAME_MAX],
                  source=source, kind=kind, unit_id=unit_id, batch_id=batch_id, scanned_at=at or utcnow())
    session.add(row)
    session.flush()
    return row


def get_recent_scan(session: Session, *, raw: str, station: str, since: datetime,
                    user: Any = None) -> ScanLog | None:
    """The latest logged scan of `raw` at `station` since `since`; without a station name, by the same user."""
    stmt = (select(ScanLog).where(ScanLog.station == station[:NAME_MAX], ScanLog.raw == raw[:RAW_MAX],
                                  ScanLog.scanned_at >= since)
            .order_by(ScanLog.scanned_at.desc()).limit(1))
    if not station:
        # Unnamed API clients are told apart by who they are, so two of them never swallow each other's scans.
        stmt = stmt.where(ScanLog.user_id == getattr(user, "id", None))
    return session.scalars(stmt).first()


def ensure_station_name(name: str) -> str:
    """The trimmed station name; raises ValidationError when it is empty or too long."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("a station name is required", details={"field": "station"})
    if len(name) > NAME_MAX:
        raise ValidationError(f"a station name has at most {NAME_MAX} characters", details={"field": "station"})
    return name


def save_station_profile(session: Session, *, name: str, profile: dict[str, Any], author: Any = None) -> ScannerStation:
    """Create or replace the scanner profile of station `name`. Flushes; the caller commits."""
    name = ensure_station_name(name)
    clean = {key: profile.get(key) for key in PROFILE_KEYS}
    for key in ("prefix", "suffix", "separator"):
        if not isinstance(clean[key] or "", str):
            raise ValidationError(f"profile {key} must be text", details={"field": key})
        clean[key] = clean[key] or ""
    station = session.scalars(select(ScannerStation).where(ScannerStation.name == name)).first()
    if station is None:
        station = ScannerStation(name=name)
        session.add(station)
    station.profile = clean
    station.updated_at = utcnow()
    station.updated_by_id = getattr(author, "id", None)
    session.flush()
    return station


def get_station_profile(session: Session, name: str) -> dict[str, Any] | None:
    """The saved profile of station `name`, or None when the station was never calibrated."""
    if not name:
        return None
    station = session.scalars(select(ScannerStation).where(ScannerStation.name == name.strip())).first()
    return dict(station.profile) if station is not None else None
