"""Labels: a batch's label file, and print jobs to ZPL printers (queued, run, resumed)."""

from __future__ import annotations

from flask import jsonify, url_for
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from ...accounts.enums import Role
from ...labelling import queries as labelling_queries
from ...labelling import service as labelling_service
from ...labelling.schemas import LabelFileCreate, PrintJobCreate, PrintJobList, PrintJobRead
from ...trace import queries as trace_queries
from ...trace.models import Batch
from ..auth import current_user, requires
from ..database import commit, db
from ..printing import file_response, job_dict, render_file, start_job
from . import bp, errors, runtime
from .batches import BatchPath

TAG = Tag(name="labels", description="label files and print jobs")
DEFAULT_TEMPLATE = "roll-50x25"

_LABEL_FILE = {200: {"description": "the labels as one file, streamed", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "application/zpl": {"schema": {"type": "string"}}}}}


class PrintJobPath(BaseModel):
    """A print job in the URL."""

    id: int = Field(description="the print job's id")


class PrintJobQuery(BaseModel):
    """Narrowing the job list to one batch."""

    batch: str = Field(None, description="batch number")
    product: str = Field(None, description="SKU or GTIN when several products share the batch number")


@bp.post("/batches/<path:number>/labels", tags=[TAG],
         responses={**_LABEL_FILE, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.PRODUCTION)
def post_batch_labels(path: BatchPath, body: LabelFileCreate):
    """The batch's labels as one PDF or ZPL file, streamed; a bad template or label is 422 naming field and rule."""
    batch = trace_queries.get_batch(db(), path.number, sku=body.product)
    kind = body.format or "pdf"
    # Checked against the unit count here, so a range past the batch is a 422 and not a failure mid-render.
    labelling_queries.ensure_label_range(db(), batch, first=body.first, last=body.last)
    spool, _count = render_file(batch, body.template or DEFAULT_TEMPLATE, kind, first=body.first, last=body.last)
    commit()
    return file_response(spool, kind, f"labels-{batch.number}.{kind}")


@bp.get("/print-jobs", tags=[TAG], responses={200: PrintJobList, **errors(401, 403, 404, 409, 422)})
@requires(Role.PRODUCTION)
def get_print_jobs(query: PrintJobQuery):
    """Recent print jobs, newest first (?batch= narrows to one batch)."""
    batch_id = None
    if query.batch:
        batch_id = trace_queries.get_batch(db(), query.batch, sku=query.product).id
    jobs = labelling_queries.list_print_jobs(db(), batch_id=batch_id)
    return jsonify({"jobs": [job_dict(job, batch.number) for job, batch in jobs]})


@bp.post("/print-jobs", tags=[TAG], responses={201: PrintJobRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.PRODUCTION)
def post_print_job(body: PrintJobCreate):
    """Send a batch (or a range of it) to a ZPL printer as a resumable job; small jobs run at once.

    The answer's state is done, failed (with error; resume it) or queued (run it with `serialtrace labels resume`).
    """
    batch = trace_queries.get_batch(db(), body.batch, sku=body.product)
    job = labelling_service.create_print_job(db(), settings=runtime().settings, batch=batch,
                                             template=body.template or DEFAULT_TEMPLATE, printer=body.printer,
                                             first=body.first, last=body.last, author=current_user())
    commit()
    job = start_job(job)
    return jsonify(job_dict(job, batch.number)), 201, {"Location": url_for("api.get_print_jobs")}


@bp.post("/print-jobs/<int:id>/resume", tags=[TAG],
         responses={200: PrintJobRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.PRODUCTION)
def post_print_job_resume(path: PrintJobPath):
    """Continue a failed print job from next_index."""
    job = labelling_service.resume_print_job(db(), path.id)
    number = db().get(Batch, job.batch_id).number
    commit()
    return jsonify(job_dict(start_job(job), number))
