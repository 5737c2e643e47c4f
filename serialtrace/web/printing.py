"""Label files and print jobs as both the labels page and the API serve them: render, stream, start, describe."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

from flask import Response, current_app

from ..errors import ValidationError
from ..labelling import render as labelling_render
from ..labelling import service as labelling_service
from ..labelling.models import PrintJob
from ..labelling.runner import print_batch
from ..trace.models import Batch
from .auth import current_user
from .database import db
from .downloads import attachment
from .i18n import _

# Jobs up to this many labels run inside the request; larger ones run on a background thread.
SYNC_PRINT_LIMIT = 2000
MIMETYPES = {"pdf": "application/pdf", "zpl": "application/zpl", "png": "image/png"}
STREAM_CHUNK = 64 * 1024


def _runtime():
    return current_app.extensions["serialtrace"]


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
    settings = _runtime().settings
    template = labelling_render.get_template(settings, template_ref)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        start = first or 0
        stop = None if last is None else last + 1
        count = labelling_render.render_batch(db(), batch, template, kind, spool, start=start, stop=stop,
                                              url_base=settings.public_url)
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
    rt = _runtime()
    if job.last_index - job.next_index + 1 <= SYNC_PRINT_LIMIT:
        return print_batch(rt.sessions, rt.settings, job.id)
    logger = current_app.logger
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
