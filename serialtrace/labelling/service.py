"""Writes of the labelling domain: print jobs created with every check (new jobs and reprints alike), downloads
recorded as finished jobs, resumption and the `labelled` events. Services flush; callers commit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, insert, literal, select
from sqlalchemy.orm import Session

from ..columns import JsonType, utcnow
from ..config import Settings
from ..errors import Conflict, InvalidTransition, ValidationError
from ..i18n import _l
from ..trace import service as trace_service
from ..trace import workflow
from ..trace.enums import EventKind
from ..trace.models import Batch, Unit, UnitEvent
from .enums import PrintJobState
from .models import PrintJob
from .policy import (
    STALE_AFTER,
    ensure_dpi,
    ensure_output,
    ensure_printer_allowed,
    ensure_range,
    ensure_template_name,
    is_resumable,
)
from .queries import count_units, get_print_job, unit_id_at
from .render import get_template


def create_print_job(session: Session, *, settings: Settings, batch: Batch, template: str, printer: str,
                     first: int | None = None, last: int | None = None, dpi: int | None = None,
                     author: trace_service.Author | None = None, allow_path: bool = False) -> PrintJob:
    """Queue labels of units first..last (0-based, inclusive; default the whole batch) for a ZPL printer.

    Everything the runner will need is checked now (template, resolution, printer against SERIALTRACE_PRINTERS,
    range): a job committed with a bad value could never succeed. Flushes; the caller commits.
    """
    resolved = get_template(settings, template, allow_path=allow_path)
    dpi = ensure_dpi(resolved.dpi if dpi is None else dpi)
    printer = ensure_printer_allowed(printer, settings.printers)
    return _add_job(session, batch=batch, template=template, output="zpl", printer=printer, first=first, last=last,
                    dpi=dpi, author=author)


def reprint_print_job(session: Session, *, settings: Settings, job_id: int, first: int | None = None,
                      last: int | None = None, author: trace_service.Author | None = None) -> PrintJob:
    """A new job for a range (default the whole range) of an earlier printer job, checked as a new job is."""
    old = get_print_job(session, job_id)
    if old.printer is None:
        raise ValidationError(_l("job %(job_id)s was a download; download the file again", job_id=job_id))
    batch = session.get(Batch, old.batch_id)
    return create_print_job(session, settings=settings, batch=batch, template=old.template, printer=old.printer,
                            first=old.first_index if first is None else first,
                            last=old.last_index if last is None else last, dpi=old.dpi, author=author)


def record_download(session: Session, *, batch: Batch, template: str, output: str, first: int | None = None,
                    last: int | None = None, author: trace_service.Author | None = None) -> PrintJob:
    """Log a rendered file (no printer) as a finished job with `labelled` events. Flushes; the caller commits."""
    job = _add_job(session, batch=batch, template=template, output=output, printer=None, first=first, last=last,
                   author=author)
    first_id = unit_id_at(session, batch.id, job.first_index)
    last_id = unit_id_at(session, batch.id, job.last_index)
    record_labelled(session, job, first_id, last_id)
    job.next_index, job.state, job.attempts = job.last_index + 1, PrintJobState.DONE.value, 1
    session.flush()
    return job


def resume_print_job(session: Session, job_id: int, *, stale_after: timedelta = STALE_AFTER) -> PrintJob:
    """Queue a failed (or abandoned) job again so a runner continues from next_index. Flushes; the caller commits."""
    job = get_print_job(session, job_id, lock=True)
    if job.printer is None:
        raise InvalidTransition(_l("print job %(id)s was a download; render the file again", id=job.id))
    if job.state == PrintJobState.DONE:
        raise InvalidTransition(_l("print job %(id)s is done; reprint a range with a new job instead", id=job.id))
    if not is_resumable(job, stale_after=stale_after):
        raise Conflict(_l("print job %(id)s is printing right now", id=job.id))
    job.state, job.updated_at = PrintJobState.QUEUED.value, utcnow()
    session.flush()
    return job


def record_labelled(session: Session, job: PrintJob, first_id: int, last_id: int) -> None:
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


def _add_job(session: Session, *, batch: Batch, template: str, output: str, printer: str | None,
             first: int | None, last: int | None, dpi: int = 203,
             author: trace_service.Author | None) -> PrintJob:
    """The job row, once output, template name and range are checked against the batch."""
    ensure_output(output, printer)
    ensure_template_name(template)
    workflow.ensure_batch_labellable(batch.number, batch.status)
    total = count_units(session, batch_id=batch.id)
    if total == 0:
        raise ValidationError(_l("batch %(number)s has no units to label", number=batch.number),
                              details={"field": "batch"})
    first, last = ensure_range(total, first, last)
    who = trace_service.author_fields(author)
    job = PrintJob(batch_id=batch.id, template=template, output=output, printer=printer, dpi=dpi, first_index=first,
                   last_index=last, next_index=first, created_by_id=who["author_id"], created_by=who["author"])
    session.add(job)
    session.flush()
    return job
