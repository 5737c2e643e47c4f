"""The quality page: claim rates per batch and component lot, outliers flagged first; each table as CSV."""

from __future__ import annotations

from collections.abc import Callable

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
# Rows each table shows unless all are asked for (?all=1): the flagged ones and the next most suspect. Every row is
# in the funnel, the downloads and the API; 2,000 table rows made the page 1.7 MB and 1.6 s of rendering.
TABLE_ROWS = 50


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
    shown = None if request.args.get("all") == "1" else TABLE_ROWS
    return render_template(
        "quality_batches.html", settings=settings, batches=batches, lots=lots,
        batch_table=_head(batches.rows, shown), lot_table=_head(lots.rows, shown),
        batch_funnel=charts.funnel(batches.rows, pooled=batches.pooled_rate,
                                   name=lambda r: f"{r['batch']} ({r['sku']})",
                                   url=_links("pages.quality_batch", "batch_id")),
        lot_funnel=charts.funnel(lots.rows, pooled=lots.pooled_rate,
                                 name=lambda r: f"{r['supplier']} {r['part']} {r['lot_number']}",
                                 url=_links("pages.quality_lot", "lot_id")))


def _links(endpoint: str, key: str) -> Callable[[dict], str | None]:
    """Each row's link to `endpoint` by its integer id `key`, built with one url_for for the whole table (one a row
    took a fifth of the page's time with 2,000 rows)."""
    marker = 987654321
    url = charts.link_for(endpoint, **{key: marker})
    if url is None or url.count(str(marker)) != 1:
        return lambda row: charts.link_for(endpoint, **{key: row[key]})
    before, after = url.split(str(marker))
    return lambda row: f"{before}{int(row[key])}{after}"


def _head(rows: tuple[dict, ...], limit: int | None) -> tuple[dict, ...]:
    """The first `limit` rows (rows come flagged first, then by adjusted p), every flagged row however many."""
    if limit is None:
        return rows
    return rows[:max(limit, sum(1 for r in rows if r["flagged"]))]


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
