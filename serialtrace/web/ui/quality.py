"""The quality page: claim rates per batch and component lot, outliers flagged first; each table as CSV."""

from __future__ import annotations

from flask import render_template, request

from ...errors import ValidationError
from ...quality import queries
from .. import charts
from ..auth import requires_page
from ..database import db
from ..downloads import table_download
from ..i18n import _
from .common import bp, optional_id

DEFAULTS = {"q": 0.05, "min_units": 30, "min_claims": 3}


def _settings() -> dict:
    """q, min_units and min_claims from the query string (defaults when empty); a bad one is a 422 naming it."""
    out = dict(DEFAULTS)
    text = request.args.get("q", "").strip()
    if text:
        try:
            q = float(text)
        except ValueError:
            q = -1.0
        if not 0 < q < 1:
            raise ValidationError(_("q must be a number between 0 and 1, not %(value)r", value=text),
                                  details={"field": "q"})
        out["q"] = q
    for field in ("min_units", "min_claims"):
        value = optional_id(request.args.get(field, ""), field)
        if value is not None:
            out[field] = value
    return out


@bp.get("/quality/batches")
@requires_page("pages.quality_batches")
def quality_batches():
    """Batches and component lots by claim rate: flagged rows first, rate and interval in percent, p-values."""
    settings = _settings()
    rows = queries.batch_rows(db())  # one pass over the units for both tables
    batches = queries.batch_report(db(), **settings, batches=rows)
    lots = queries.lot_report(db(), **settings, batches=rows)
    return render_template(
        "quality_batches.html", settings=settings, batches=batches, lots=lots,
        batch_funnel=charts.funnel(batches.rows, pooled=batches.pooled_rate,
                                   name=lambda r: f"{r['batch']} ({r['sku']})",
                                   url=lambda r: charts.link_for("pages.quality_batch", batch_id=r["batch_id"])),
        lot_funnel=charts.funnel(lots.rows, pooled=lots.pooled_rate,
                                 name=lambda r: f"{r['supplier']} {r['part']} {r['lot_number']}",
                                 url=lambda r: charts.link_for("pages.quality_lot", lot_id=r["lot_id"])))


@bp.get("/quality/batches.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_batches")
def quality_batches_table(fmt: str):
    """The batch table as CSV or XLSX with a header row."""
    rows = queries.batch_report(db(), **_settings()).rows
    return table_download(rows, queries.BATCH_COLUMNS, "quality-batches", fmt)


@bp.get("/quality/component-lots.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_batches")
def quality_lots_table(fmt: str):
    """The component-lot table as CSV or XLSX with a header row."""
    rows = queries.lot_report(db(), **_settings()).rows
    return table_download(rows, queries.LOT_COLUMNS, "quality-component-lots", fmt)
