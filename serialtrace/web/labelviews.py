"""Labels page: preview, PDF/ZPL downloads, print jobs with resume and reprint, quarantine labels at the desk."""

from __future__ import annotations

import tempfile
import threading
from typing import IO, Any, Iterator

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for

from ..accounts.enums import Role
from ..config import business_today
from ..errors import DomainError, NotFound, ValidationError
from ..labelling import queries as labelling_queries
from ..labelling import render as labelling_render
from ..labelling import service as labelling_service
from ..labelling.enums import PrintJobState
from ..labelling.models import PrintJob
from ..labelling.policy import is_resumable
from ..labelling.runner import print_batch
from ..labels import LabelError, quarantine_label
from ..trace import queries
from ..trace.models import Batch, Product
from ..warranty import queries as warranty_queries
from .auth import current_user, requires
from .downloads import attachment
from .database import commit, db
from .i18n import _
from .pages import STATION_COOKIE

bp = Blueprint("labels", __name__)
R = Role
# Jobs up to this many labels run inside the request; larger ones run on a background thread.
SYNC_PRINT_LIMIT = 2000
MIMETYPES = {"pdf": "application/pdf", "zpl": "application/zpl", "png": "image/png"}
STREAM_CHUNK = 64 * 1024


def _settings():
    return current_app.extensions["serialtrace"].settings


def _runtime():
    return current_app.extensions["serialtrace"]


def _int_or_none(value: Any, name: str) -> int | None:
    """An optional unit index from a form or JSON body."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValidationError(_("field %(name)s must be a whole number", name=name), details={"field": name})


def job_dict(job: PrintJob, batch_number: str) -> dict[str, Any]:
    """A print job as the API and the page show it."""
    return {"id": job.id, "batch": batch_number, "template": job.template, "format": job.output,
            "printer": job.printer, "from": job.first_index, "to": job.last_index, "next_index": job.next_index,
            "done": job.done, "total": job.total, "state": job.state, "error": job.error or None,
            "attempts": job.attempts, "created_by": job.created_by, "created_at": job.created_at.isoformat(),
            "updated_at": job.updated_at.isoformat()}


def render_file(batch: Batch, template_ref: str, kind: str, *, first: int | None = None, last: int | None = None
                ) -> tuple[IO[bytes], int]:
    """Render a batch's PDF or ZPL into a spool (so a LabelError comes before any byte is sent) and log it."""
    if kind not in ("pdf", "zpl"):
        raise ValidationError(_("format must be pdf or zpl"), details={"field": "format"})
    template = labelling_render.get_template(_settings(), template_ref)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        start = first or 0
        stop = None if last is None else last + 1
        count = labelling_render.render_batch(db(), batch, template, kind, spool, start=start, stop=stop,
                                              url_base=_settings().public_url)
        labelling_service.record_download(db(), batch=batch, template=template_ref, output=kind, first=start,
                                          last=start + count - 1, author=current_user())
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, count


def file_response(spool: IO[bytes], kind: str, filename: str) -> Response:
    """Stream a spooled file to the client in chunks and close it afterwards."""

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(STREAM_CHUNK):
                yield block

    return attachment(chunks(), MIMETYPES[kind], filename)


def start_job(job: PrintJob) -> PrintJob:
    """Run a just committed, queued job: a small one inside the request, a big one on a background thread.

    The request's session must stay idle from its commit on: a transaction opened on it now would hold
    SQLite's write lock against the runner's own short transactions.
    """
    if job.last_index - job.next_index + 1 <= SYNC_PRINT_LIMIT:
        return print_batch(_runtime().sessions, _settings(), job.id)
    rt, logger = _runtime(), current_app.logger
    # The runner commits after every chunk, so the job list shows progress; if the server stops midway the
    # job stays "printing" and can be resumed once it is stale (see labelling.service.resume_print_job).
    threading.Thread(target=_print_in_background, args=(rt, job.id, logger), name=f"print-job-{job.id}",
                     daemon=True).start()
    return job


def _print_in_background(rt, job_id: int, logger) -> None:
    try:
        print_batch(rt.sessions, rt.settings, job_id)
    except Exception:  # the runner already marked the job failed; the log keeps the trace for support
        logger.exception("print job %s stopped", job_id)


def _batch_from(values) -> Batch:
    number = (values.get("batch") or "").strip()
    if not number:
        raise ValidationError(_("name a batch number"), details={"field": "batch"})
    return queries.get_batch(db(), number, sku=(values.get("product") or "").strip() or None)


def _flash_job(job: PrintJob) -> None:
    if job.state == PrintJobState.DONE:
        flash(_("print job %(id)s: %(n)s labels sent to %(printer)s", id=job.id, n=job.total, printer=job.printer),
              "ok")
    elif job.state == PrintJobState.FAILED:
        flash(_("print job %(id)s failed after %(done)s of %(total)s labels: %(error)s. Check the printer, then "
                "resume the job or reprint a range.", id=job.id, done=job.done, total=job.total, error=job.error),
              "error")
    else:
        flash(_("print job %(id)s (%(total)s labels) is printing in the background; its progress shows below",
                id=job.id, total=job.total), "ok")


def _back(batch: Batch | None = None, product: str | None = None, template: str | None = None):
    if batch is None:
        return redirect(url_for("labels.page"))
    return redirect(url_for("labels.page", batch=batch.number, product=product or None, template=template or None))


@bp.get("/labels")
@requires(R.PRODUCTION, R.WAREHOUSE)
def page():
    """Pick a batch and template, preview, download or print; the print jobs; quarantine labels."""
    user = current_user()
    can_print = user.has_role(R.PRODUCTION)
    number = request.args.get("batch", "").strip()
    product = request.args.get("product", "").strip()
    template = request.args.get("template", "").strip() or "roll-50x25"
    templates = labelling_render.list_templates(_settings())
    batch = sku = None
    units = 0
    error = None
    status = 200
    if number and can_print:
        try:
            batch = queries.get_batch(db(), number, sku=product or None)
            labelling_render.get_template(_settings(), template)
        except (DomainError, LabelError) as exc:
            # Shown on the page next to the form, so the operator can correct the batch or template.
            error = exc.message if isinstance(exc, DomainError) else str(exc)
            status = exc.status_code if isinstance(exc, DomainError) else 422
            batch = None
        else:
            sku = db().get(Product, batch.product_id).sku
            units = labelling_queries.count_units(db(), batch_id=batch.id)
    jobs = [(job, b.number) for job, b in labelling_queries.list_print_jobs(db(), limit=30)] if can_print else []
    resumable = {job.id for job, _number in jobs if is_resumable(job)}
    return render_template("labels.html", batch=batch, sku=sku, number=number, product=product, template=template,
                           templates=templates, units=units, jobs=jobs, resumable=resumable, error=error,
                           can_print=can_print,
                           can_quarantine=user.has_role(R.WAREHOUSE), today=business_today(_settings())), status


@bp.get("/labels/preview.png")
@requires(R.PRODUCTION)
def preview():
    """The first label of a batch as PNG, for the page's <img>."""
    batch = _batch_from(request.args)
    template = labelling_render.get_template(_settings(), request.args.get("template") or "roll-50x25")
    return Response(labelling_render.preview_png(db(), batch, template, url_base=_settings().public_url),
                    mimetype="image/png",
                    headers={"Cache-Control": "no-store"})


@bp.post("/labels/download")
@requires(R.PRODUCTION)
def download():
    """The batch's labels as one PDF or ZPL file, streamed."""
    form = request.form
    batch = _batch_from(form)
    kind = form.get("format", "pdf")
    spool, _count = render_file(batch, form.get("template") or "roll-50x25", kind,
                                first=_int_or_none(form.get("from"), "from"), last=_int_or_none(form.get("to"), "to"))
    commit()
    return file_response(spool, kind, f"labels-{batch.number}.{kind}")


@bp.post("/labels/print")
@requires(R.PRODUCTION)
def print_labels():
    """Queue a print job for the batch (or a range) and run it now when it is small."""
    form = request.form
    batch = _batch_from(form)
    template = form.get("template") or "roll-50x25"
    job = labelling_service.create_print_job(db(), settings=_settings(), batch=batch, template=template,
                                             printer=form.get("printer", ""),
                                             first=_int_or_none(form.get("from"), "from"),
                                             last=_int_or_none(form.get("to"), "to"), author=current_user())
    commit()
    _flash_job(start_job(job))
    return _back(batch, form.get("product"), template)


@bp.post("/labels/jobs/<int:job_id>/resume")
@requires(R.PRODUCTION)
def resume(job_id: int):
    """Continue a failed job from the last confirmed label."""
    job = labelling_service.resume_print_job(db(), job_id)
    commit()
    _flash_job(start_job(job))
    # Back to the job's batch, so the operator keeps looking at what they were printing.
    return _back(db().get(Batch, job.batch_id), template=job.template)


@bp.post("/labels/jobs/<int:job_id>/reprint")
@requires(R.PRODUCTION)
def reprint(job_id: int):
    """Print an explicit range of a job's batch again, as a new job checked as any new job is."""
    job = labelling_service.reprint_print_job(db(), settings=_settings(), job_id=job_id,
                                              first=_int_or_none(request.form.get("from"), "from"),
                                              last=_int_or_none(request.form.get("to"), "to"), author=current_user())
    commit()
    _flash_job(start_job(job))
    return _back(db().get(Batch, job.batch_id), template=job.template)


@bp.post("/labels/quarantine")
@requires(R.WAREHOUSE)
def quarantine():
    """The quarantine label of a returned unit: claim number, serial, today's date and this station."""
    form = request.form
    number = (form.get("claim") or "").strip()
    serial = (form.get("serial") or "").strip()
    kind = form.get("format") or "pdf"
    if kind not in MIMETYPES:
        raise ValidationError(_("format must be pdf, zpl or png"), details={"field": "format"})
    claim = warranty_queries.find_claim(db(), number) if number else None
    if claim is None:
        raise NotFound(_("no claim %(number)s", number=number), details={"field": "claim"})
    if serial not in warranty_queries.list_claim_serials(db(), claim):
        # A label naming the wrong unit would send a good unit to quarantine and leave the faulty one in stock.
        raise ValidationError(_("serial %(serial)s is not the unit of claim %(number)s nor its replacement",
                                serial=serial, number=claim.number), details={"field": "serial"})
    station = (form.get("station") or request.cookies.get(STATION_COOKIE) or "").strip()
    data = quarantine_label(claim.number, serial, business_today(_settings()), station, fmt=kind)
    return attachment(data, MIMETYPES[kind], f"quarantine-{claim.number}.{kind}")

