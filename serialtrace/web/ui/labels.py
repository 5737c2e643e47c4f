"""Labels page: preview, PDF/ZPL downloads, print jobs with resume and reprint, quarantine labels at the desk."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from ...accounts.enums import Role
from ...config import business_today
from ...errors import DomainError, NotFound, ValidationError
from ...labelling import queries as labelling_queries
from ...labelling import render as labelling_render
from ...labelling import service as labelling_service
from ...labelling.enums import PrintJobState
from ...labelling.models import PrintJob
from ...labelling.policy import is_resumable
from ...labels import LabelError, quarantine_label
from ...trace import queries
from ...trace.models import Batch, Product
from ...warranty import queries as warranty_queries
from ..auth import current_user, requires, requires_page
from ..database import commit, db
from ..downloads import attachment
from ..i18n import _
from ..printing import MIMETYPES, file_response, render_file, start_job
from .common import STATION_COOKIE, settings

bp = Blueprint("labels", __name__)
R = Role


def _int_or_none(value: Any, name: str) -> int | None:
    """An optional unit index from a form or JSON body."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise ValidationError(_("field %(name)s must be a whole number", name=name), details={"field": name})


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
@requires_page("labels.page")
def page():
    """Pick a batch and template, preview, download or print; the print jobs; quarantine labels."""
    user = current_user()
    can_print = user.has_role(R.PRODUCTION)
    number = request.args.get("batch", "").strip()
    product = request.args.get("product", "").strip()
    template = request.args.get("template", "").strip() or "roll-50x25"
    templates = labelling_render.list_templates(settings())
    batch = sku = None
    units = 0
    error = None
    status = 200
    if number and can_print:
        try:
            batch = queries.get_batch(db(), number, sku=product or None)
            labelling_render.get_template(settings(), template)
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
                           can_quarantine=user.has_role(R.WAREHOUSE), today=business_today(settings())), status


@bp.get("/labels/preview.png")
@requires(R.PRODUCTION)
def preview():
    """The first label of a batch as PNG, for the page's <img>."""
    batch = _batch_from(request.args)
    template = labelling_render.get_template(settings(), request.args.get("template") or "roll-50x25")
    return Response(labelling_render.preview_png(db(), batch, template, url_base=settings().public_url),
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
    job = labelling_service.create_print_job(db(), settings=settings(), batch=batch, template=template,
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
    job = labelling_service.reprint_print_job(db(), settings=settings(), job_id=job_id,
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
    data = quarantine_label(claim.number, serial, business_today(settings()), station, fmt=kind)
    return attachment(data, MIMETYPES[kind], f"quarantine-{claim.number}.{kind}")

