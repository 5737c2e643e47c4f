"""File answers shared by pages and API: attachments and the streamed recall list."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, stream_with_context
from sqlalchemy.orm import Session

from ..trace import genealogy
from ..trace.models import Batch


def attachment(body: bytes | Iterable[bytes] | Iterable[str], mimetype: str, filename: str) -> Response:
    """A download the browser saves as `filename`."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def recall_csv_response(session: Session, batch: Batch,
                        options: genealogy.RecallOptions | None = None) -> Response:
    """The batch's recall list as CSV (UTF-8 with the byte order mark Excel needs), streamed so a large recall
    never sits in memory."""
    options = options or genealogy.RecallOptions()
    chunks = genealogy.recall_file(session, batch_ids=[batch.id], options=options)
    suffix = "-customers" if options.group == "customer" else ""
    return attachment(stream_with_context(chunks), "text/csv; charset=utf-8", f"recall-{batch.number}{suffix}.csv")
