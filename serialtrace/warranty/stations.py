"""Scanning stations: the log of every scan and each station's learned scanner profile."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Column, Index, String, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import Field, SQLModel

from ..db import transaction, with_lock_wait
from ..errors import Contention, ValidationError
from ..columns import JsonType, utcnow

log = logging.getLogger(__name__)

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


def scan_log_entry(*, raw: str, result: str, user: Any = None, station: str = "", source: str = "typed",
                   kind: str | None = None, unit_id: int | None = None, batch_id: int | None = None,
                   at: datetime | None = None) -> dict[str, Any]:
    """The column values of one scan log row, fixed at the moment of the scan (it may be written later)."""
    return {"raw": raw[:RAW_MAX], "result": result, "user_id": getattr(user, "id", None),
            "station": station[:NAME_MAX], "source": source, "kind": kind, "unit_id": unit_id, "batch_id": batch_id,
            "scanned_at": at or utcnow()}


def log_scan(session: Session, **scan: Any) -> ScanLog:
    """Append one scan (the arguments of scan_log_entry) to the log. Flushes; the caller commits."""
    return add_scan_entry(session, scan_log_entry(**scan))


def add_scan_entry(session: Session, entry: dict[str, Any]) -> ScanLog:
    """Append a scan_log_entry to the log. Flushes; the caller commits."""
    row = ScanLog(**entry)
    session.add(row)
    session.flush()
    return row


class ScanLogWriter:
    """Writes scan log entries in transactions of their own, so a scan never waits for the write lock.

    An entry is written at once when the lock comes free within `wait_ms`; otherwise (SQLite during a long batch
    registration) it is queued in order and a background thread writes the queue as soon as the lock is free,
    retrying for as long as the database stays busy. A lock never drops an entry; the process exiting waits
    up to `exit_seconds` for the queue.
    """

    def __init__(self, sessions: sessionmaker, *, wait_ms: int = 250, retry_seconds: float = 0.5,
                 exit_seconds: float = 60.0) -> None:
        self._quick = with_lock_wait(sessions, wait_ms)
        self._patient = sessions
        self.retry_seconds = retry_seconds
        self.exit_seconds = exit_seconds
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._exit_hooked = False

    def write(self, entry: dict[str, Any]) -> bool:
        """Store a scan_log_entry; True when written now, False when queued behind a held lock."""
        with self._lock:
            if self._pending:
                # Behind entries already waiting, so the log keeps the order of the scans.
                self._queue(entry)
                return False
        try:
            with transaction(self._quick) as session:
                session.add(ScanLog(**entry))
        except Contention:
            with self._lock:
                self._queue(entry)
            return False
        return True

    def pending(self) -> list[dict[str, Any]]:
        """A copy of the entries waiting to be written, oldest first."""
        with self._lock:
            return list(self._pending)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued entry is written (or `timeout` seconds pass); True when none is left."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    def _queue(self, entry: dict[str, Any]) -> None:
        # Called with self._lock held.
        self._pending.append(entry)
        if self._thread is None:
            if not self._exit_hooked:
                atexit.register(self.flush, self.exit_seconds)
                self._exit_hooked = True
            self._thread = threading.Thread(target=self._drain, name="scan-log-writer", daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    self._idle.notify_all()
                    return
                entries = list(self._pending)
            written = self._write_all(entries)
            with self._lock:
                del self._pending[:written]
                if not self._pending:
                    self._idle.notify_all()
            if written < len(entries):
                time.sleep(self.retry_seconds)

    def _write_all(self, entries: list[dict[str, Any]]) -> int:
        """Write the entries in one transaction; how many are done (all, or none while the lock is held)."""
        try:
            with transaction(self._patient) as session:
                session.add_all([ScanLog(**entry) for entry in entries])
            return len(entries)
        except Contention:
            return 0
        except Exception:
            log.exception("scan log: writing %s queued entries failed; writing them one by one", len(entries))
        for done, entry in enumerate(entries):
            try:
                with transaction(self._patient) as session:
                    session.add(ScanLog(**entry))
            except Contention:
                return done
            except Exception as exc:
                # Not a lock: this entry cannot be stored, and retrying it would hold back every entry after it.
                log.error("scan log: entry refused by the database and left out: %r (%s)", entry, exc)
        return len(entries)


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
