"""File answers shared by pages and API: attachments, tables as CSV or XLSX, and the streamed recall list."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, request, send_file, stream_with_context
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..accounts.enums import SecurityEventKind
from ..accounts.security_log import record_security_event
from ..db import transaction
from ..trace import genealogy
from ..trace.csvexport import csv_chunks
from ..trace.models import Batch
from ..trace.xlsxexport import xlsx_bytes
from .database import db

# The formats every table of the dashboards downloads in (`<table>.csv`, `<table>.xlsx`).
TABLE_FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(body: bytes | Iterable[bytes] | Iterable[str], mimetype: str, filename: str) -> Response:
    """A download the browser saves as `filename`."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def log_customer_export(name: str, *, fmt: str = "csv", **details: Any) -> None:
    """Record in the security log that the current user is reading customer data (a download, or an API read of a
    recall list): file or list name, format, and what the caller adds. Commits it before the answer is made.

    Downloads are GETs answered from a read-only session, so the event gets a short transaction of its own; when it
    cannot be written, the download fails rather than going unrecorded.
    """
    record_apart(SecurityEventKind.CUSTOMER_EXPORT, {"name": name, "format": fmt,
                                                     "via": "api" if g.get("via_token") else "page",
                                                     "path": request.path[:200], **details})


def record_apart(kind: str, details: dict[str, Any]) -> None:
    """Append a security event about the current user's request and commit it at once, apart from the request's
    own (read-only, later rolled back) session."""
    user = g.get("user")
    values = {"user": user, "actor": user, "address": request.remote_addr or "", "details": details}
    own = db()
    if not isinstance(own.get_bind(), Engine):
        # A session bound to a connection (a caller managing the transaction, as tests do): a second session would
        # write inside the request's savepoint, which its teardown rolls back; record and commit in place.
        record_security_event(own, kind, **values)
        own.commit()
        return
    with transaction(current_app.extensions["serialtrace"].sessions) as session:
        record_security_event(session, kind, **values)


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
    log_customer_export(f"recall-{batch.number}", fmt="csv", batch=batch.number, group=options.group or "")
    chunks = genealogy.recall_file(session, batch_ids=[batch.id], options=options)
    suffix = "-customers" if options.group == "customer" else ""
    return attachment(stream_with_context(chunks), "text/csv; charset=utf-8", f"recall-{batch.number}{suffix}.csv")
