"""The security log in the admin area (admins only): filter by kind, user and days, paged, newest first; CSV download
(itself logged, as an export of the log)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import render_template, request, stream_with_context

from ...accounts import security_log
from ...accounts.enums import SECURITY_EVENT_LABELS, SecurityEventKind
from ...trace.csvexport import csv_chunks
from ..auth import requires_page
from ..database import db
from ..downloads import attachment, record_apart
from .admin import bp
from .common import user_text
from .scanlog import page_number, query_day_range

PAGE_SIZE = 50


def _filter() -> tuple[security_log.SecurityFilter, dict[str, str]]:
    """The filter the query string asks for (days are the business's calendar days) and the form values."""
    form = {name: user_text(request.args.get(name, "").strip(), name)[:64] for name in ("kind", "user")}
    since, until, start, end = query_day_range()
    form.update({"from": since.isoformat() if since else "", "to": until.isoformat() if until else ""})
    return security_log.SecurityFilter(kind=form["kind"], user=form["user"], since=start, until=end), form


@bp.get("/security-events")
@requires_page("admin.security_events")
def security_events():
    """The security log, newest first, PAGE_SIZE rows a page."""
    where, form = _filter()
    page = page_number()
    rows = security_log.list_security_events(db(), where, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    query = {k: v for k, v in form.items() if v}
    return render_template("admin_security_events.html", rows=rows[:PAGE_SIZE], form=form, page=page,
                           more=len(rows) > PAGE_SIZE, query=query, kinds=SECURITY_EVENT_LABELS)


def _csv_rows(where: security_log.SecurityFilter) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        # In pages, so a long log is never read into memory at once.
        events = security_log.list_security_events(db(), where, offset=offset, limit=1000)
        yield from (security_log.event_row(e) for e in events)
        if len(events) < 1000:
            return
        offset += len(events)


@bp.get("/security-events.csv")
@requires_page("admin.security_events")
def security_events_csv():
    """The security log with the page's filters as CSV; the download is itself a security event."""
    where, form = _filter()
    with_filter = {k: v for k, v in form.items() if v}
    _log_export(with_filter)
    chunks = csv_chunks(_csv_rows(where), security_log.COLUMNS, bom=True)
    return attachment(stream_with_context(chunks), "text/csv; charset=utf-8", "security-events.csv")


def _log_export(with_filter: dict[str, str]) -> None:
    """Log the download of the log (in a transaction of its own: the download is a GET): who, from where, what
    filter."""
    record_apart(SecurityEventKind.SECURITY_LOG_EXPORT, {"filter": with_filter})
