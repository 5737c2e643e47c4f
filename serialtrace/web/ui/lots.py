"""The pages a scan opens that are neither units nor batches: a component lot (the batches it went into) and a
product (its facts and batches)."""

from __future__ import annotations

from flask import render_template

from ...errors import NotFound
from ...trace import genealogy, queries
from ..auth import requires
from ..database import db
from ..i18n import _
from .common import bp


@bp.get("/lots/<path:number>")
@requires()
def lot(number: str):
    """Every supplier's lot with this number and the batches each went into."""
    lots = queries.list_lots_by_number(db(), number) if "\x00" not in number else []
    if not lots:
        raise NotFound(_("no component lot %(number)r", number=number), details={"lot": number})
    return render_template("lot.html", number=lots[0].lot_number,
                           lots=[{"lot": lot, "batches": genealogy.lot_forward(db(), lot)["batches"]} for lot in lots])


@bp.get("/products/<path:sku>")
@requires()
def product(sku: str):
    """A product (by SKU or GTIN): its facts and its batches, newest first."""
    if "\x00" in sku:
        raise NotFound(_("no product with SKU or GTIN %(key)r", key=sku))
    found = queries.get_product(db(), sku)
    return render_template("product.html", product=found, batches=queries.list_product_batches(db(), found.id))
