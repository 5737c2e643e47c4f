"""Print jobs: a range of a batch's units sent to a printer in chunks, resumable from the last confirmed chunk.

Labels are rendered and sent by callables the caller passes in (the CLI and web own the labels calls), so
this module stays free of the labels package.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional, Sequence

from sqlalchemy import CheckConstraint, DateTime, Integer, String, func, insert, literal, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import Field, SQLModel

from ..db import transaction
from ..errors import Conflict, InvalidTransition, NotFound, ValidationError
from ..columns import JsonType, utcnow
from .enums import EventKind, PrintJobState
from .models import Batch, Unit, UnitEvent
from .service import Author, author_fields

OUTPUTS = ("zpl", "pdf", "png")
# A runner refreshes updated_at after every chunk; a "printing" job silent for longer than this lost its runner.
STALE_AFTER = timedelta(minutes=5)
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,252}")
# Raw ZPL printing; without SERIALTRACE_PRINTERS a job may target this port on any host and nothing else.
RAW_PRINT_PORT = 9100
# Job ids are 32-bit integer keys; a larger id cannot exist.
MAX_JOB_ID = 2**31 - 1

Render = Callable[[Sequence[Row]], bytes]
Send = Callable[[bytes], None]


class PrintJob(SQLModel, table=True):
    """Labels for units first_index..last_index (by unit id within the batch); next_index is the first not yet sent."""

    __tablename__ = "print_job"
    __table_args__ = (
        CheckConstraint("first_index >= 0 AND last_index >= first_index", name="ck_print_job_range"),
        CheckConstraint("next_index >= first_index AND next_index <= last_index + 1", name="ck_print_job_next"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    template: str = Field(sa_type=String(64))
    output: str = Field(default="zpl", sa_type=String(8))
    printer: Optional[str] = Field(default=None, sa_type=String(260))
    dpi: int = 203
    first_index: int
    last_index: int
    next_index: int
    state: str = Field(default=PrintJobState.QUEUED, sa_type=String(16), index=True)
    error: str = ""
    attempts: int = 0
    created_by_id: Optional[int] = Field(default=None, foreign_key="user_account.id")
    created_by: str = Field(default="", sa_type=String(100))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def total(self) -> int:
        """Labels in the job's range."""
        return self.last_index - self.first_index + 1

    @property
    def done(self) -> int:
        """Labels confirmed sent."""
        return self.next_index - self.first_index


def parse_printer(text: str) -> tuple[str, int]:
    """Split "host:port" into its parts; ValidationError when it is not a host name or address and a port."""
    host, sep, port = (text or "").strip().rpartition(":")
    if not sep or not _HOST.fullmatch(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError(f"printer {text!r} must be HOST:PORT, for example 10.0.0.7:9100",
                              details={"field": "printer"})
    return host, int(port)


def ensure_printer_allowed(printer: str, allowed: str) -> str:
    """The printer as HOST:PORT when the allow-list (comma-separated HOST:PORT) admits it; ValidationError if not.

    An empty allow-list admits port 9100 on any host, so a job cannot be pointed at another service.
    """
    host, port = parse_printer(printer)
    target = f"{host}:{port}"
    entries = [e.strip() for e in (allowed or "").split(",") if e.strip()]
    if entries:
        permitted = {f"{h.lower()}:{p}" for h, p in (parse_printer(e) for e in entries)}
        if target.lower() not in permitted:
            raise ValidationError(f"printer {target} is not in SERIALTRACE_PRINTERS ({', '.join(entries)})",
                                  details={"field": "printer"})
    elif port != RAW_PRINT_PORT:
        raise ValidationError(f"printer {target} must use port {RAW_PRINT_PORT}; list other printers in "
                              "SERIALTRACE_PRINTERS", details={"field": "printer"})
    return target


def ensure_range(total: int, first: int | None, last: int | None) -> tuple[int, int]:
    """The unit index range first..last (default the whole batch of `total`); ValidationError naming from/to."""
    if total == 0:
        raise ValidationError("the batch has no units to label", details={"field": "batch"})
    first = 0 if first is None else first
    last = total - 1 if last is None else last
    for name, value in (("from", first), ("to", last)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < total:
            raise ValidationError(f"{name} must be a unit index from 0 to {total - 1}, got {value!r}",
                                  details={"field": name})
    if last < first:
        raise ValidationError(f"the range {first}..{last} is empty", details={"field": "to"})
    return first, last


def count_units(session: Session, *, batch_id: int) -> int:
    """How many units the batch holds."""
    return session.scalar(select(func.count()).select_from(Unit).where(Unit.batch_id == batch_id)) or 0


def create_print_job(session: Session, *, batch: Batch, template: str, output: str = "zpl",
                     printer: str | None = None, first: int | None = None, last: int | None = None, dpi: int = 203,
                     author: Author | None = None) -> PrintJob:
    """Queue labels for units first..last (0-based, inclusive; default the whole batch). Flushes; the caller commits."""
    if output not in OUTPUTS:
        raise ValidationError(f"output must be one of {', '.join(OUTPUTS)}, not {output!r}", details={"field": "format"})
    if printer is not None:
        host, port = parse_printer(printer)
        printer = f"{host}:{port}"
        if output != "zpl":
            raise ValidationError("printers take ZPL; PDF and PNG are downloads", details={"field": "format"})
    if not template or len(template) > 64:
        raise ValidationError("template name must be 1 to 64 characters", details={"field": "template"})
    total = count_units(session, batch_id=batch.id)
    if total == 0:
        raise ValidationError(f"batch {batch.number} has no units to label", details={"field": "batch"})
    first, last = ensure_range(total, first, last)
    who = author_fields(author)
    job = PrintJob(batch_id=batch.id, template=template, output=output, printer=printer, dpi=dpi, first_index=first,
                   last_index=last, next_index=first, created_by_id=who["author_id"], created_by=who["author"])
    session.add(job)
    session.flush()
    return job


def record_download(session: Session, *, batch: Batch, template: str, output: str, first: int | None = None,
                    last: int | None = None, author: Author | None = None) -> PrintJob:
    """Log a rendered file (no printer) as a finished job with `labelled` events. Flushes; the caller commits."""
    job = create_print_job(session, batch=batch, template=template, output=output, first=first, last=last,
                           author=author)
    first_id = _unit_id_at(session, batch.id, job.first_index)
    last_id = _unit_id_at(session, batch.id, job.last_index)
    _record_labelled(session, job, first_id, last_id)
    job.next_index, job.state, job.attempts = job.last_index + 1, PrintJobState.DONE.value, 1
    session.flush()
    return job


def get_print_job(session: Session, job_id: int, *, lock: bool = False) -> PrintJob:
    """The job with this id as the database has it now (row-locked when `lock`), or NotFound."""
    if isinstance(job_id, bool) or not isinstance(job_id, int) or not 0 < job_id <= MAX_JOB_ID:
        raise NotFound(f"no print job {job_id}", details={"job": job_id})
    # Runners change jobs from their own sessions, so a copy in this session's identity map may be stale.
    job = session.get(PrintJob, job_id, populate_existing=True, with_for_update=lock or None)
    if job is None:
        raise NotFound(f"no print job {job_id}", details={"job": job_id})
    return job


def list_print_jobs(session: Session, *, batch_id: int | None = None, limit: int = 50) -> list[tuple[PrintJob, Batch]]:
    """Recent jobs with their batch, newest first."""
    stmt = select(PrintJob, Batch).join(Batch, Batch.id == PrintJob.batch_id).order_by(PrintJob.id.desc()).limit(limit)
    if batch_id is not None:
        stmt = stmt.where(PrintJob.batch_id == batch_id)
    return [(job, batch) for job, batch in session.execute(stmt)]


def is_resumable(job: PrintJob, *, stale_after: timedelta = STALE_AFTER) -> bool:
    """True for a printer job that failed, waits, or was left "printing" by a runner that stopped."""
    if job.printer is None or job.state == PrintJobState.DONE:
        return False
    return job.state != PrintJobState.PRINTING or _aware(job.updated_at) <= utcnow() - stale_after


def resume_print_job(session: Session, job_id: int, *, stale_after: timedelta = STALE_AFTER) -> PrintJob:
    """Queue a failed (or abandoned) job again so a runner continues from next_index. Flushes; the caller commits."""
    job = get_print_job(session, job_id, lock=True)
    if job.printer is None:
        raise InvalidTransition(f"print job {job.id} was a download; render the file again")
    if job.state == PrintJobState.DONE:
        raise InvalidTransition(f"print job {job.id} is done; reprint a range with a new job instead")
    if not is_resumable(job, stale_after=stale_after):
        raise Conflict(f"print job {job.id} is printing right now")
    job.state, job.updated_at = PrintJobState.QUEUED.value, utcnow()
    session.flush()
    return job


def run_print_job(session_factory: sessionmaker, job_id: int, *, render: Render, send: Send, chunk: int = 100,
                  progress: Callable[[int], None] | None = None) -> PrintJob:
    """Send a queued job chunk by chunk, committing next_index and `labelled` events after each confirmed chunk.

    Returns the job: done, or failed with the reason when `send` raised OSError (the printer's answer to the
    operator, who resumes or reprints a range). Any other error is recorded on the job and raised again.
    Each transaction is short; none is held open while the printer takes data.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    table = PrintJob.__table__
    with transaction(session_factory) as s:
        claimed = s.execute(update(table).where(table.c.id == job_id, table.c.state == PrintJobState.QUEUED.value)
                            .values(state=PrintJobState.PRINTING.value, attempts=table.c.attempts + 1, error="",
                                    updated_at=utcnow())).rowcount
        job = get_print_job(s, job_id)
        if claimed != 1:
            raise Conflict(f"print job {job_id} is {job.state}, not queued; resume it first")
        batch_id, position, last = job.batch_id, job.next_index, job.last_index
        lower = _unit_id_at(s, batch_id, position) if position <= last else None
    while position <= last:
        size = min(chunk, last - position + 1)
        with transaction(session_factory) as s:
            rows = s.execute(select(Unit.id, Unit.serial).where(Unit.batch_id == batch_id, Unit.id >= lower)
                             .order_by(Unit.id).limit(size)).all()
        if not rows:
            return _fail(session_factory, job_id, "the batch has fewer units than the job's range")
        try:
            data = render(rows)
        except Exception as exc:
            _fail(session_factory, job_id, f"cannot render labels: {exc}")
            raise
        try:
            send(data)
        except OSError as exc:
            return _fail(session_factory, job_id, str(exc) or type(exc).__name__)
        with transaction(session_factory) as s:
            moved = s.execute(update(table).where(table.c.id == job_id, table.c.state == PrintJobState.PRINTING.value)
                              .values(next_index=position + len(rows), updated_at=utcnow())).rowcount
            if moved != 1:
                raise Conflict(f"print job {job_id} was changed by someone else while printing")
            _record_labelled(s, get_print_job(s, job_id), rows[0].id, rows[-1].id)
        position += len(rows)
        lower = rows[-1].id + 1
        if progress is not None:
            progress(len(rows))
    with transaction(session_factory) as s:
        s.execute(update(table).where(table.c.id == job_id, table.c.state == PrintJobState.PRINTING.value)
                  .values(state=PrintJobState.DONE.value, updated_at=utcnow()))
        job = get_print_job(s, job_id)
    return job


def _fail(session_factory: sessionmaker, job_id: int, reason: str) -> PrintJob:
    table = PrintJob.__table__
    with transaction(session_factory) as s:
        s.execute(update(table).where(table.c.id == job_id)
                  .values(state=PrintJobState.FAILED.value, error=reason[:2000], updated_at=utcnow()))
        job = get_print_job(s, job_id)
    return job


def _unit_id_at(session: Session, batch_id: int, index: int) -> int:
    unit_id = session.scalar(select(Unit.id).where(Unit.batch_id == batch_id).order_by(Unit.id).offset(index).limit(1))
    if unit_id is None:
        raise ValidationError(f"the batch has no unit number {index}")
    return unit_id


def _record_labelled(session: Session, job: PrintJob, first_id: int, last_id: int) -> None:
    """One INSERT ... SELECT of `labelled` events for the batch's units with ids first_id..last_id."""
    unit, event = Unit.__table__, UnitEvent.__table__
    payload: dict[str, Any] = {"job_id": job.id, "template": job.template, "output": job.output,
                               "printer": job.printer}
    session.connection().execute(insert(event).from_select(
        ["unit_id", "kind", "at", "author_id", "author", "payload"],
        select(unit.c.id, literal(EventKind.LABELLED.value, String), literal(utcnow(), DateTime),
               literal(job.created_by_id, Integer), literal(job.created_by or "system", String),
               literal(payload, JsonType))
        .where(unit.c.batch_id == job.batch_id, unit.c.id.between(first_id, last_id)),
    ))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
