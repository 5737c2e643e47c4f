"""The SLA compliance page: time to first response and to resolution in business time, share breached, median and
p90, by stage, priority, team and week with the weekly trend as a chart; each table as CSV and XLSX."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import select

from ...columns import utcnow
from ...quality import sla_report
from ...trace.models import Product
from ...warranty import service as warranty_service
from ...warranty.enums import STAGE_LABELS, Priority
from ...warranty.models import Team
from ..auth import requires_page
from ..database import db
from ..downloads import table_download
from ..i18n import _, tr
from .claim_sla import duration
from .common import bp, settings

FIELDS = ("from", "to", "team", "family", "sku", "priority", "channel", "method")


def _report() -> sla_report.SlaReport:
    """The report the query string asks for; a bad filter is a 422 naming it."""
    now = utcnow()
    args = {name: request.args.get(name, "") for name in FIELDS}
    chosen = sla_report.make_filters(
        db(), today=sla_report.local_today(db(), now, settings().timezone), date_from=args["from"],
        date_to=args["to"], team=args["team"], family=args["family"], sku=args["sku"], priority=args["priority"],
        channel=args["channel"], method=args["method"])
    return sla_report.sla_report(db(), chosen, now=now, timezone=settings().timezone)


def hours(seconds: float | None) -> str:
    """Business seconds as the claim page says them ("3 h 10 min"); a dash when there are none."""
    return "—" if seconds is None else duration(seconds)


def share(value: float | None) -> str:
    """A share as a percentage with one decimal; a dash when there is nothing to share."""
    return "—" if value is None else f"{value * 100:.1f} %"


def trend_chart(report: sla_report.SlaReport) -> dict[str, Any]:
    """The weekly share breached as a line chart spec for static/charts.js (empty weeks are gaps)."""
    return {"labels": [row["week"] for row in report.weeks],
            "datasets": [{"label": _("First response breached"),
                          "data": [row["first_response_share_breached"] for row in report.weeks]},
                         {"label": _("Resolution breached"),
                          "data": [row["resolution_share_breached"] for row in report.weeks]}],
            "x": {"title": _("Week from")}, "y": {"title": _("Share breached"), "percent": True, "min": 0, "max": 1}}


def _choices() -> dict[str, list[str]]:
    """What the filter form offers."""
    session = db()
    return {"teams": list(session.scalars(select(Team.name).order_by(Team.name))),
            "families": list(session.scalars(select(Product.family).where(Product.family != "").distinct()
                                             .order_by(Product.family))),
            "priorities": [p.value for p in Priority], "channels": list(warranty_service.CHANNELS),
            "methods": list(sla_report.METHODS)}


@bp.get("/quality/sla")
@requires_page("pages.quality_sla")
def quality_sla():
    """SLA compliance of the claims registered in a period: overall, by stage, priority, team and week."""
    report = _report()
    stage_names = {row["stage"]: tr(STAGE_LABELS.get(row["stage"], row["stage"])) for row in report.stages}
    return render_template("quality_sla.html", report=report, args=report.filters.as_args(), choices=_choices(),
                           hours=hours, share=share, stage_names=stage_names, chart=trend_chart(report))


@bp.get("/quality/sla/<any(stages, priorities, teams, weeks):table>.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_sla")
def quality_sla_table(table: str, fmt: str):
    """One table of the SLA page as CSV or XLSX: times in business hours, shares as fractions."""
    report = _report()
    return table_download(sla_report.table_rows(report, table), sla_report.table_columns(table), f"sla-{table}", fmt)
