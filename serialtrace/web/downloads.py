"""File answers shared by pages and API: attachments, tables as CSV or XLSX, and the streamed recall list."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import Response, send_file, stream_with_context
from sqlalchemy.orm import Session

from ..trace import genealogy
from ..trace.csvexport import csv_chunks
from ..trace.models import Batch
from ..trace.xlsxexport import xlsx_bytes

# The formats every table of the dashboards downloads in (`<table>.csv`, `<table>.xlsx`).
TABLE_FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(body: bytes | Iterable[bytes] | Iterable[str], mimetype: str, filename: str) -> Response:
    """A download the browser saves as `filename`."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def table_download(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], name: str, fmt: str) -> Response:
    """A table as `name`.csv (UTF-8 with the byte order mark Excel needs) or `name`.xlsx, header row first."""
    if fmt == "xlsx":
        return attachment(xlsx_bytes(rows, columns, sheet=name), XLSX_TYPE, f"{name}.xlsx")
    return attachment(csv_chunks(rows, columns, bom=True), "text/csv; charset=utf-8", f"{name}.csv")


def stored_file_response(path: Path, content_type: str, filename: str, *, inline: bool = False) -> Response:
    """A kept upload as its own download: saved as `filename` unless `inline` (an image a page shows), never sniffed,
    sandboxed and not cached."""
    # Read whole (uploads are bounded by their size limit): no file handle outlives the request.
    answer = send_file(io.BytesIO(path.read_bytes()), mimetype=content_type, as_attachment=not inline,
                       download_name=filename, conditional=False, etag=False, max_age=0)
    # As stored (send_file would add a second charset to a text type that names one).
    answer.headers["Content-Type"] = content_type
    answer.headers["X-Content-Type-Options"] = "nosniff"
    answer.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    answer.headers["Cache-Control"] = "private, no-store"
    return answer


def recall_csv_response(session: Session, batch: Batch,
                        options: genealogy.RecallOptions | None = None) -> Response:
    """The batch's recall list as CSV (UTF-8 with the byte order mark Excel needs), streamed so a large recall
    never sits in memory."""
    options = options or genealogy.RecallOptions()
    chunks = genealogy.recall_file(session, batch_ids=[batch.id], options=options)
    suffix = "-customers" if options.group == "customer" else ""
    return attachment(stream_with_context(chunks), "text/csv; charset=utf-8", f"recall-{batch.number}{suffix}.csv")
