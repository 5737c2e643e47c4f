"""The scan log page: every scan with who, where and what it found; filters, paging and a CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template, request, stream_with_context

from ...accounts.enums import Role
from ...errors import ValidationError
from ...station import queries as station_queries
from ...station.enums import SCAN_RESULT_LABELS
from ...trace.csvexport import csv_chunks
from ...trace.policy import MAX_INT
from ..auth import current_user, requires
from ..database import db
from ..downloads import attachment
from ..i18n import _
from .common import bp, settings, station_name, user_text
from .scan_result import match_url

R = Role
# Who reads the scan log (admins always may); warehouse staff see their own station's scans only.
SCAN_LOG_ROLES = (R.SUPERVISOR, R.QUALITY, R.COORDINATOR, R.WAREHOUSE)
PAGE_SIZE = 50
# GS shown as a visible symbol: the log keeps scans exactly as the scanner sent them.
GS_SHOWN = "\u241d"


def query_day(field: str) -> date | None:
    """The date in the query field `field` (YYYY-MM-DD), or None; anything else is a 422 naming the field."""
    value = user_text(request.args.get(field, "").strip(), field)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(_("%(field)s must be a date as YYYY-MM-DD, not %(value)r", field=field, value=value),
                              details={"field": field}) from None


def query_day_range() -> tuple[date | None, date | None, datetime | None, datetime | None]:
    """The query's `from` and `to` days, and the UTC moments from the start of `from` to the end of `to` as the
    business's calendar days (SERIALTRACE_TIMEZONE); 422 naming the field for a bad day or a range that ends first."""
    since, until = query_day("from"), query_day("to")
    if since and until and until < since:
        raise ValidationError(_("the date range ends (%(end)s) before it starts (%(start)s)", end=until.isoformat(),
                                start=since.isoformat()), details={"field": "to"})
    zone = ZoneInfo(settings().timezone)
    start = datetime.combine(since, time(), zone).astimezone(UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC) if until else None
    return since, until, start, end


def page_number() -> int:
    """The page number of the query string (from 1); anything else is a 422 naming the field."""
    value = request.args.get("page", "1").strip() or "1"
    # ASCII digits only (int() also reads ² and ٣, isdigit() passes ² that int() refuses); past MAX_INT pages the
    # offset would overflow PostgreSQL's parameter, and no list is that long.
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_INT:
        raise ValidationError(_("page must be a whole number from 1, not %(value)r", value=value),
                              details={"field": "page"})
    return int(value)


def scan_filter() -> tuple[station_queries.ScanFilter, dict[str, Any]]:
    """The filter the query string asks for, narrowed to the reader's own station for warehouse staff, and the
    form values to show again."""
    form = {name: user_text(request.args.get(name, "").strip(), name) for name in ("station", "user", "result")}
    if form["result"] and form["result"] not in SCAN_RESULT_LABELS:
        raise ValidationError(_("result %(value)r is not known; choose one from the list", value=form["result"]),
                              details={"field": "result"})
    since, until, start, end = query_day_range()
    user = current_user()
    station, user_id = form["station"] or None, None
    own = not user.has_role(*[r for r in SCAN_LOG_ROLES if r != R.WAREHOUSE])
    if own:
        # Warehouse staff read their own station's log; at an unnamed station, their own scans.
        station = station_name()
        user_id = None if station else user.id
        form["station"] = station
    form.update({"from": since.isoformat() if since else "", "to": until.isoformat() if until else "", "own": own})
    return station_queries.ScanFilter(station=station, username=form["user"] or None, result=form["result"] or None,
                                      since=start, until=end, user_id=user_id), form


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A log row as the page shows it: GS visible, the matched unit or batch linked."""
    row = {**row, "raw": row["raw"].replace("\x1d", GS_SHOWN)}
    if row["serial"]:
        row["href"] = match_url({"kind": "unit", "serial": row["serial"]})
    elif row["batch"]:
        row["href"] = match_url({"kind": "batch", "batch": row["batch"], "product_sku": row["product_sku"]})
    return row


@bp.get("/scans")
@requires(*SCAN_LOG_ROLES)
def scans():
    """The scan log, newest first, PAGE_SIZE rows a page."""
    where, form = scan_filter()
    page = page_number()
    rows = station_queries.list_scans(db(), where, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    query = {k: v for k, v in form.items() if v and k != "own"}
    return render_template("scanlog.html", rows=[_shown(r) for r in rows[:PAGE_SIZE]], form=form, page=page,
                           more=len(rows) > PAGE_SIZE, query=query, results=SCAN_RESULT_LABELS)


def _csv_rows(where: station_queries.ScanFilter) -> Iterator[dict[str, Any]]:
    zone = ZoneInfo(settings().timezone)
    for row in station_queries.iter_scans(db(), where):
        at = row["scanned_at"] if row["scanned_at"].tzinfo else row["scanned_at"].replace(tzinfo=UTC)
        # The business's local time with its offset, so a spreadsheet shows the hour people worked in.
        yield {**row, "scanned_at": at.astimezone(zone).isoformat(timespec="seconds")}


@bp.get("/scans.csv")
@requires(*SCAN_LOG_ROLES)
def scans_csv():
    """The scan log with the page's filters as CSV (every row, streamed; cells safe for spreadsheets)."""
    where, _form = scan_filter()
    chunks = csv_chunks(_csv_rows(where), station_queries.SCAN_COLUMNS, bom=True)
    return attachment(stream_with_context(chunks), "text/csv; charset=utf-8", "scans.csv")
