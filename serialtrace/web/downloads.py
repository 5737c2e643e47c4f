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


def recall_csv_response(session: Session, batch: Batch) -> Response:
    """The batch's recall list as CSV, streamed so a large recall never sits in memory."""
    rows = genealogy.recall_rows(session, batch_ids=[batch.id])
    return attachment(stream_with_context(genealogy.recall_csv(rows)), "text/csv", f"recall-{batch.number}.csv")
