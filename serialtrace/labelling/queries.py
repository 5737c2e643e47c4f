"""Reads of the labelling domain: print jobs, a batch's unit count and positions, and its label data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..i18n import _l
from ..labels import LabelData
from ..trace import workflow
from ..trace.models import Batch, Product, Unit
from ..trace.policy import expiry_date
from .models import PrintJob
from .policy import MAX_JOB_ID, ensure_range

# Rows fetched per round trip while streaming a batch's units; memory stays flat in the batch size.
YIELD_PER = 1000


def get_print_job(session: Session, job_id: int, *, lock: bool = False) -> PrintJob:
    """The job with this id as the database has it now (row-locked when `lock`), or NotFound."""
    if isinstance(job_id, bool) or not isinstance(job_id, int) or not 0 < job_id <= MAX_JOB_ID:
        raise NotFound(_l("no print job %(job_id)s", job_id=job_id), details={"job": job_id})
    # Runners change jobs from their own sessions, so a copy in this session's identity map may be stale.
    job = session.get(PrintJob, job_id, populate_existing=True, with_for_update=lock or None)
    if job is None:
        raise NotFound(_l("no print job %(job_id)s", job_id=job_id), details={"job": job_id})
    return job


def list_print_jobs(session: Session, *, batch_id: int | None = None, limit: int = 50) -> list[tuple[PrintJob, Batch]]:
    """Recent jobs with their batch, newest first."""
    stmt = select(PrintJob, Batch).join(Batch, Batch.id == PrintJob.batch_id).order_by(PrintJob.id.desc()).limit(limit)
    if batch_id is not None:
        stmt = stmt.where(PrintJob.batch_id == batch_id)
    return [(job, batch) for job, batch in session.execute(stmt)]


def count_units(session: Session, *, batch_id: int) -> int:
    """How many units the batch holds."""
    return session.scalar(select(func.count()).select_from(Unit).where(Unit.batch_id == batch_id)) or 0


def ensure_label_range(session: Session, batch: Batch, *, first: int | None, last: int | None) -> tuple[int, int]:
    """The unit index range first..last of the batch, checked against its unit count before rendering."""
    return ensure_range(count_units(session, batch_id=batch.id), first, last)


def unit_id_at(session: Session, batch_id: int, index: int) -> int:
    """The id of the batch's unit number `index` (0-based, in unit id order); ValidationError past the end."""
    unit_id = session.scalar(select(Unit.id).where(Unit.batch_id == batch_id).order_by(Unit.id).offset(index).limit(1))
    if unit_id is None:
        raise ValidationError(_l("the batch has no unit number %(index)s", index=index))
    return unit_id


def label_maker(session: Session, batch: Batch, *, url_base: str | None = None) -> Callable[[str], LabelData]:
    """A function turning a serial of `batch` into its label data.

    Products without a GTIN get a QR of `<url_base>/units/<serial>` beside the Code 128 of the serial; products
    with a shelf life get the expiry date (17) their batch's production date gives.
    """
    workflow.ensure_batch_labellable(batch.number, batch.status)
    product = session.get(Product, batch.product_id)
    base = (url_base or "").rstrip("/")
    expires_on = expiry_date(batch.produced_on, product.shelf_life_months)

    def make(serial: str) -> LabelData:
        url = f"{base}/units/{quote(serial, safe='')}" if base and not product.gtin else None
        return LabelData(gtin=product.gtin, batch=batch.number, serial=serial, produced_on=batch.produced_on,
                         product_name=product.name, sku=product.sku, url=url, expires_on=expires_on)

    return make


def label_data_for_batch(session: Session, batch: Batch, *, start: int = 0, stop: int | None = None,
                         url_base: str | None = None) -> Iterator[LabelData]:
    """Label data of the batch's units start..stop-1 (ordered by unit id), streamed, never all loaded."""
    make = label_maker(session, batch, url_base=url_base)
    stmt = select(Unit.serial).where(Unit.batch_id == batch.id).order_by(Unit.id).offset(start)
    if stop is not None:
        stmt = stmt.limit(max(0, stop - start))
    for serial in session.scalars(stmt, execution_options={"yield_per": YIELD_PER}):
        yield make(serial)
