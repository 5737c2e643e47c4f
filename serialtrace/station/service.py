"""Station writes: the scan flow (parse, resolve, dedupe, log), the scan log and its deferred writer, profiles."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ..accounts.enums import Role
from ..columns import utcnow
from ..db import is_unavailable, transaction, with_lock_wait
from ..errors import Contention, NotFound, PermissionDenied, ValidationError
from ..i18n import _l
from ..scanner import ScanError, ScannerProfile, calibrate, parse_scan
from ..serials import SerialScheme, is_mistyped
from . import policy, queries
from .models import ScanLog, ScannerStation
from .policy import NAME_MAX, RAW_MAX
from .schemas import parsed_dict

logger = logging.getLogger(__name__)


def scan_log_entry(*, raw: str, result: str, user: Any = None, station: str = "", source: str = "typed",
                   kind: str | None = None, unit_id: int | None = None, batch_id: int | None = None,
                   at: datetime | None = None) -> dict[str, Any]:
    """The column values of one scan log row, fixed at the moment of the scan (it may be written later)."""
    return {"raw": raw[:RAW_MAX], "result": result, "user_id": getattr(user, "id", None),
            "station": station[:NAME_MAX], "source": source, "kind": kind, "unit_id": unit_id, "batch_id": batch_id,
            "scanned_at": at or utcnow()}


def add_scan_entry(session: Session, entry: dict[str, Any]) -> ScanLog:
    """Append a scan_log_entry to the log. Flushes; the caller commits."""
    row = ScanLog(**entry)
    session.add(row)
    session.flush()
    return row


# Scan log entries held in memory at most, behind a held write lock: enough for minutes of every station scanning
# during the longest batch registration, and a bound on memory (about 1 kB each). Past it a scan is refused (409) and
# the station tries again, rather than the process growing, or holding more acknowledged scans than a crash loses.
PENDING_MAX = 10_000


class ScanLogWriter:
    """Writes scan log entries in transactions of their own, so a scan never waits for the write lock.

    An entry is written at once when the lock comes free within `wait_ms`; otherwise (SQLite during a long batch
    registration) it is queued in order and a background thread writes the queue as soon as the lock is free,
    retrying for as long as the database stays busy. A lock never drops an entry; the process exiting waits
    up to `exit_seconds` for the queue.
    """

    def __init__(self, sessions: sessionmaker, *, wait_ms: int = 250, retry_seconds: float = 0.5,
                 exit_seconds: float = 60.0, pending_max: int = PENDING_MAX) -> None:
        self._quick = with_lock_wait(sessions, wait_ms)
        self._patient = sessions
        self.retry_seconds = retry_seconds
        self.exit_seconds = exit_seconds
        self.pending_max = pending_max
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
                # A plain INSERT: the ORM's unit of work cost more than the round trip on every scan.
                session.execute(ScanLog.__table__.insert(), entry)
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
        if len(self._pending) >= self.pending_max:
            raise Contention(_l("the scan log is %(count)s entries behind a long write; nothing was logged; scan "
                                "again in a moment", count=len(self._pending)))
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
        except Exception as exc:
            if is_unavailable(exc):
                # The database is down or restarting: keep every entry (they were acknowledged) and try again.
                logger.warning("scan log: database unreachable; %s queued entries kept for the next try", len(entries))
                return 0
            logger.exception("scan log: writing %s queued entries failed; writing them one by one", len(entries))
        for done, entry in enumerate(entries):
            try:
                with transaction(self._patient) as session:
                    session.add(ScanLog(**entry))
            except Contention:
                return done
            except Exception as exc:
                if is_unavailable(exc):
                    return done
                # Not a lock: this entry cannot be stored, and retrying it would hold back every entry after it.
                logger.error("scan log: entry refused by the database and left out: %r (%s)", entry, exc)
        return len(entries)


def save_station_profile(session: Session, *, name: str, profile: dict[str, Any], author: Any = None,
                         device_key: str | None = None) -> ScannerStation:
    """Create or replace the scanner profile of station `name`. Flushes; the caller commits.

    With `device_key` (the key the requesting browser or client holds; the web passes one always) the change is
    checked: a new station is bound to that device; an existing one may be changed only from its own device or by
    an admin (PermissionDenied otherwise); an admin's change binds a station that has no device yet. Without it (the
    server's console, tests) nothing is checked.
    """
    name = policy.ensure_station_name(name)
    clean = policy.clean_profile(profile)
    station = queries.find_station(session, name)
    if station is None:
        station = ScannerStation(name=name, device_key_hash=policy.device_key_hash(device_key) if device_key else None)
        session.add(station)
    elif device_key is not None:
        admin = getattr(author, "active", False) and getattr(author, "role", None) == Role.ADMIN
        if not admin and not policy.is_own_device(station.device_key_hash, device_key):
            raise PermissionDenied(_l("the scanner profile of station %(name)s can be changed only from the "
                                      "station's own device (the browser that calibrated it first) or by an admin",
                                      name=name), details={"field": "station"})
        if station.device_key_hash is None and device_key:
            station.device_key_hash = policy.device_key_hash(device_key)
    station.profile = clean
    station.updated_at = utcnow()
    station.updated_by_id = getattr(author, "id", None)
    session.flush()
    return station


def delete_station_profile(session: Session, station_id: int) -> ScannerStation:
    """Forget a station's scanner profile: its scans are read as an uncalibrated station's until it is calibrated
    again (the scan log keeps its name). NotFound when there is no such station. Flushes."""
    station = session.get(ScannerStation, station_id)
    if station is None:
        raise NotFound(_l("no station %(id)s", id=station_id), details={"field": "station"})
    session.delete(station)
    session.flush()
    return station


def calibrate_station(session: Session, *, name: str, raw: str, author: Any = None,
                      device_key: str | None = None) -> ScannerProfile:
    """Learn the scanner profile of station `name` from one scan of the test symbol and save it. Flushes.

    Raises ValidationError naming the station field (no name, too long) or the code field (empty scan, not the
    test symbol), PermissionDenied when the station is another device's (see save_station_profile); nothing is
    saved then.
    """
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError(_l("a station name is required (at most %(max)s characters)", max=NAME_MAX),
                              details={"field": "station"})
    if not raw.strip():
        raise ValidationError(_l("scan the test symbol into the field"), details={"field": "code"})
    try:
        learned = calibrate(raw)
    except ScanError as exc:
        raise ValidationError(_l("that scan is not the test symbol: %(reason)s", reason=exc.message),
                              details={"field": "code"}) from None
    save_station_profile(session, name=name, profile=policy.profile_dict(learned), author=author,
                         device_key=device_key)
    return learned


def scan_payload(session: Session, code: str, *, station: str = "", user: Any = None, source: str = "typed",
                 now: datetime | None = None, log: ScanLogWriter | None = None,
                 scheme: SerialScheme | None = None) -> dict[str, Any]:
    """Parse `code` with the station's profile, list what it matches and log it.

    result is unit, batch, claim, lot, product, choose, not_found, invalid, ambiguous (the readings that match
    are in `matches`), mismatch (the label's batch is not the unit's batch), or repeat (the same code from the
    same station within a second: `repeat_of` holds what it matched, and it is not logged again). With `log`,
    `session` only reads and the entry goes to the writer (written at once, or queued while another action holds
    the write lock); without, into `session`.
    With the configured serial `scheme`, a typed serial found nowhere whose check character is wrong says so.
    `previous` is the latest earlier scan of the same unit, batch or text at this station (time, station, result,
    user), or None.
    """
    code = code.strip("\r\n")
    station = policy.station_key(station)
    now = now or utcnow()
    saved = None if source in policy.DECODED_SOURCES else queries.find_station_profile(session, station)
    payload = _answer(session, code, policy.scan_profile(source, saved),
                      None if source in policy.DECODED_SOURCES else scheme)
    payload["station"] = station
    matches = payload["matches"]
    only = matches[0] if len(matches) == 1 else None
    unit_id = only["id"] if only and only["kind"] == "unit" else None
    batch_id = only["id"] if only and only["kind"] == "batch" else None
    # The desk sees that it has had this unit (batch, or text) in its hands before, and when; and a repeat (the
    # same code within the window) is counted once. One statement answers both.
    previous, repeat = _history(session, log, station=station, user=user, now=now, unit_id=unit_id,
                                batch_id=batch_id, raw=code) if code.strip() else (None, False)
    payload["previous"] = previous
    if repeat:
        # Still answered in full, so a station page can keep showing the unit; only the log skips it.
        payload.update(result="repeat", repeat_of=payload["result"],
                       message=_l("the same code again within a second; counted once"))
        return payload
    entry = scan_log_entry(raw=code, result=payload["result"], user=user, station=station, source=source,
                           kind=(payload["parsed"] or {}).get("kind"), at=now, unit_id=unit_id, batch_id=batch_id)
    if log is None:
        add_scan_entry(session, entry)
    else:
        log.write(entry)
    return payload


def _history(session: Session, log: ScanLogWriter | None, *, station: str, user: Any, now: datetime,
             unit_id: int | None, batch_id: int | None, raw: str) -> tuple[dict[str, Any] | None, bool]:
    """The latest earlier scan of the same thing at this station as JSON (time in UTC, ISO 8601) or None, and
    whether the same code from the same station (or unnamed client) is logged, or queued, within the repeat
    window."""
    since = now - policy.REPEAT_WINDOW
    found, repeat = queries.find_scan_history(session, raw=raw, station=station, now=now, since=since, user=user,
                                              unit_id=unit_id, batch_id=batch_id)
    previous = None
    if found is not None:
        at = found["at"] if found["at"].tzinfo else found["at"].replace(tzinfo=UTC)
        previous = {**found, "at": at.isoformat()}
    return previous, repeat or _is_queued(log, raw=raw, station=station, since=since, user=user)


def _is_queued(log: ScanLogWriter | None, *, raw: str, station: str, since: datetime, user: Any) -> bool:
    """True when the same code from the same station (or unnamed client) waits in the writer's queue since `since`."""
    probe = scan_log_entry(raw=raw, result="", user=user, station=station)
    return any(e["raw"] == probe["raw"] and e["station"] == probe["station"] and e["scanned_at"] >= since
               and (station or e["user_id"] == probe["user_id"]) for e in (log.pending() if log else ()))


def _answer(session: Session, code: str, profile: ScannerProfile | None,
            scheme: SerialScheme | None = None) -> dict[str, Any]:
    if not code.strip():
        return {"code": code, "result": "invalid", "message": _l("empty scan"), "parsed": None, "matches": []}
    try:
        parsed = parse_scan(code, profile=profile)
    except ScanError as exc:
        # An unreadable scan is an answer the station shows (and logs), not a failed request.
        return {"code": code, "result": "invalid", "message": exc.message, "parsed": None, "matches": []}
    if parsed.ambiguous:
        # Every reading is looked up: the ones that name something are offered to choose from, never picked.
        found: dict[tuple[str, int], queries.Match] = {}
        for reading in (parsed.ai, *parsed.alternatives):
            for match in queries.resolve(session, gtin=reading.get("01"), serial=reading.get("21"),
                                         batch=reading.get("10")):
                found.setdefault((match.kind, match.id), match)
        if found:
            return {"code": code, "result": "ambiguous", "parsed": parsed_dict(parsed),
                    "matches": [m.as_dict() for m in found.values()],
                    "alternatives": [dict(a) for a in parsed.alternatives],
                    "message": _l("the scan can be read more than one way; %(count)s of the readings match: "
                                  "choose one", count=len(found))}
        return {"code": code, "result": "ambiguous", "parsed": parsed_dict(parsed), "matches": [],
                "alternatives": [dict(a) for a in parsed.alternatives],
                "message": _l("the scan can be read more than one way; scan again with separators")}
    if parsed.kind in ("gs1", "digital_link"):
        matches = queries.resolve(session, gtin=parsed.gtin, serial=parsed.serial, batch=parsed.batch)
    else:
        matches = queries.resolve(session, text=parsed.text)
    if parsed.serial and parsed.batch and matches and all(m.batch != parsed.batch for m in matches):
        # The label names another batch than the unit's own: a relabelled unit or a wrong label. Showing the
        # unit as a plain hit could pull someone else's history, so the person looks and chooses.
        result = "mismatch"
        message = _l("the label says batch %(label_batch)s, but serial %(serial)s is in batch %(batch)s; "
                     "check the unit", label_batch=parsed.batch, serial=parsed.serial, batch=matches[0].batch)
    elif not matches:
        result, message = "not_found", _l("nothing found for %(code)s", code=parsed.serial or parsed.text)
        if (scheme is not None and parsed.symbology_id is None and parsed.kind not in ("gs1", "digital_link")
                and is_mistyped(scheme, parsed.text)):
            # Typed by hand (no scanner identifier) in the shape of our serials: a typo, not a missing unit.
            message = _l("nothing found for %(code)s: check character wrong: mistyped serial?",
                         code=parsed.serial or parsed.text)
    elif len(matches) == 1:
        result, message = matches[0].kind, matches[0].label
    else:
        result, message = "choose", _l("%(count)s matches; choose one", count=len(matches))
    return {"code": code, "result": result, "message": message, "parsed": parsed_dict(parsed),
            "matches": [m.as_dict() for m in matches]}
