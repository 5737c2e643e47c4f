"""The print-job runner: a job's range rendered to ZPL and sent to its printer in chunks, each confirmed chunk
committed, so a failed job resumes from the last label the printer took."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import sessionmaker

from ..columns import utcnow
from ..config import Settings
from ..db import transaction
from ..errors import Conflict
from ..i18n import _l
from ..labels import send_zpl, zpl_bytes
from ..trace.models import Batch, Unit
from .enums import PrintJobState
from .models import PrintJob
from .policy import ensure_printer_allowed, parse_printer
from .queries import get_print_job, label_maker, unit_id_at
from .render import get_template
from .service import record_labelled

Render = Callable[[Sequence[Row]], bytes]
Send = Callable[[bytes], None]


def print_batch(session_factory: sessionmaker, settings: Settings, job_id: int, *, chunk: int = 100,
                progress: Callable[[int], None] | None = None, timeout: float = 5.0, retries: int = 2,
                allow_path: bool = False) -> PrintJob:
    """Run a queued print job: ZPL chunks rendered from the batch and sent to the job's printer over raw TCP."""
    with transaction(session_factory) as s:
        job = get_print_job(s, job_id)
        batch = s.get(Batch, job.batch_id)
        template = get_template(settings, job.template, allow_path=allow_path)
        make = label_maker(s, batch, url_base=settings.public_url)
        dpi = job.dpi
        # Checked again at run time: a resumed job must not reach a printer the allow-list dropped since.
        host, port = parse_printer(ensure_printer_allowed(job.printer or "", settings.printers))

    def render(rows) -> bytes:
        return zpl_bytes((make(row.serial) for row in rows), template, dpi=dpi)

    def send(data: bytes) -> None:
        send_zpl(host, port, data, timeout=timeout, retries=retries)

    return run_print_job(session_factory, job_id, render=render, send=send, chunk=chunk, progress=progress)


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
            raise Conflict(_l("print job %(job_id)s is %(state)s, not queued; resume it first", job_id=job_id,
                              state=job.state))
        batch_id, position, last = job.batch_id, job.next_index, job.last_index
        lower = unit_id_at(s, batch_id, position) if position <= last else None
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
                raise Conflict(_l("print job %(job_id)s was changed by someone else while printing", job_id=job_id))
            record_labelled(s, get_print_job(s, job_id), rows[0].id, rows[-1].id)
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
