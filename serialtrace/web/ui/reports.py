"""Control reports for supervisors and quality: the daily registration report, as a page and as CSV."""

from __future__ import annotations

from flask import render_template, request

from ...trace.csvexport import csv_chunks
from ...warranty import reports
from ..auth import requires_page
from ..database import db
from ..downloads import attachment, log_customer_export
from .common import bp, settings, user_text


def _report() -> dict:
    day = user_text(request.args.get("day", ""), "day").strip()
    return reports.daily_registration_report(db(), day or None, fallback_timezone=settings().timezone,
                                             stale_hours=settings().stale_registration_hours)


@bp.get("/reports/registrations")
@requires_page("pages.registration_report")
def registration_report():
    """Complaints registered on a day per person and channel, own-customer confirmations, stale drafts."""
    return render_template("report_registrations.html", report=_report())


@bp.get("/reports/registrations.csv")
@requires_page("pages.registration_report")
def registration_report_csv():
    """The same report as one CSV table (its `section` column says which part a row belongs to)."""
    report = _report()
    log_customer_export(f"registrations-{report['day']}", fmt="csv")
    return attachment(csv_chunks(reports.csv_rows(report), reports.CSV_COLUMNS, bom=True), "text/csv; charset=utf-8",
                      f"registrations-{report['day']}.csv")
