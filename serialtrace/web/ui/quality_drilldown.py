"""Drill-down pages of the claim rates: a batch or a component lot with its claims, failure-mode Pareto (chart and
table), customers and the batches beside it; every table as CSV or XLSX."""

from __future__ import annotations

from typing import Any

from flask import render_template

from ...quality import drilldown
from ..auth import requires_page
from ..database import db
from ..downloads import log_customer_export, table_download
from ..i18n import _, tr
from .common import bp

# The claim-rate list's readers open its drill-downs.
READERS = "pages.quality_batches"
SHARED_TABLES = {"claims": drilldown.CLAIM_COLUMNS, "failure-modes": drilldown.PARETO_COUNT_COLUMNS,
                 "failure-costs": drilldown.PARETO_COST_COLUMNS, "customers": drilldown.CUSTOMER_COLUMNS}


def pareto_chart(rows: tuple[dict[str, Any], ...], key: str, title: str) -> dict[str, Any]:
    """A charts.js spec: bars of `key` per failure mode and the cumulative share as a line on a 0-100 % axis."""
    return {"labels": [str(tr(r["name"])) for r in rows],
            "datasets": [{"label": title, "type": "bar", "data": [float(r[key]) for r in rows]},
                         {"label": _("Cumulative share"), "type": "line", "axis": "y2",
                          "data": [r["cumulative_pct"] / 100 for r in rows]}],
            "x": {"title": _("Failure mode")}, "y": {"title": title, "min": 0},
            "y2": {"title": _("Cumulative share"), "percent": True, "min": 0, "max": 1}}


def _page(template: str, done: drilldown.Drilldown, **context: Any) -> str:
    return render_template(template, d=done, names=drilldown.mode_names(db()), **context,
                           count_chart=pareto_chart(done.pareto_count, "count", _("Claimed units")),
                           cost_chart=pareto_chart(done.pareto_cost, "cost", _("Claim cost")))


def _download(done: drilldown.Drilldown, table: str, name: str, fmt: str, extra: dict[str, Any]):
    """One table of a drill-down as `name`-`table`.csv/.xlsx; failure-mode names in the reader's language."""
    rows: Any = {"claims": done.claim_rows, "failure-modes": done.pareto_count, "failure-costs": done.pareto_cost,
                 "customers": done.customers, **extra}[table]
    if table.startswith("failure-"):
        rows = [{**r, "name": str(tr(r["name"]))} for r in rows]
    columns = {**SHARED_TABLES, "siblings": drilldown.SIBLING_COLUMNS, "batches": drilldown.BATCH_COLUMNS}[table]
    if "customer" in columns:
        log_customer_export(f"{name}-{table}", fmt=fmt)
    return table_download(rows, columns, f"{name}-{table}", fmt)


@bp.get("/quality/batches/<int:batch_id>")
@requires_page(READERS)
def quality_batch(batch_id: int):
    """A batch's claims, failure modes by units and by cost, customers, and its component lots' other batches."""
    return _page("quality_batch.html", drilldown.batch_drilldown(db(), batch_id))


@bp.get("/quality/batches/<int:batch_id>/<any(claims, 'failure-modes', 'failure-costs', customers, siblings):table>"
        ".<any(csv, xlsx):fmt>")
@requires_page(READERS)
def quality_batch_table(batch_id: int, table: str, fmt: str):
    """One of a batch's drill-down tables as CSV or XLSX with a header row."""
    done = drilldown.batch_drilldown(db(), batch_id)
    return _download(done, table, f"batch-{batch_id}", fmt, {"siblings": done.siblings()})


@bp.get("/quality/lots/<int:lot_id>")
@requires_page(READERS)
def quality_lot(lot_id: int):
    """A component lot over every batch it went into: claims, failure modes, customers and the batches."""
    return _page("quality_lot.html", drilldown.lot_drilldown(db(), lot_id))


@bp.get("/quality/lots/<int:lot_id>/<any(claims, 'failure-modes', 'failure-costs', customers, batches):table>"
        ".<any(csv, xlsx):fmt>")
@requires_page(READERS)
def quality_lot_table(lot_id: int, table: str, fmt: str):
    """One of a component lot's drill-down tables as CSV or XLSX with a header row."""
    done = drilldown.lot_drilldown(db(), lot_id)
    return _download(done, table, f"lot-{lot_id}", fmt, {"batches": done.batches})
