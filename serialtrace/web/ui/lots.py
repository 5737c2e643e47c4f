"""The pages a scan opens that are neither units nor batches: a component lot (the batches it went into, its hold
and release) and a product (its facts and batches)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...errors import DomainError, NotFound
from ...trace import genealogy, lots, queries
from ..auth import current_user, requires
from ..database import commit, db
from ..i18n import _, tr
from .common import bp, user_text


def _lot_page(number: str, *, error: str | None = None, failed: int | None = None, status: int = 200):
    lots_found = queries.list_lots_by_number(db(), number) if "\x00" not in number else []
    if not lots_found:
        raise NotFound(_("no component lot %(number)r", number=number), details={"lot": number})
    user = current_user()
    return render_template(
        "lot.html", number=lots_found[0].lot_number, error=error, failed=failed,
        may_hold=user is not None and user.has_role(*lots.LOT_HOLDERS),
        lots=[{"lot": lot, "batches": genealogy.lot_forward(db(), lot)["batches"]} for lot in lots_found]), status


@bp.get("/lots/<path:number>")
@requires()
def lot(number: str):
    """Every supplier's lot with this number and the batches each went into."""
    return _lot_page(number)


def _change(number: str, action: str):
    """Hold or release the lot the form names (by supplier and part) with the form's reason."""
    form = {name: user_text(request.form.get(name, ""), name) for name in ("supplier", "part", "reason")}
    found = None
    try:
        found = lots.find_lot(db(), number, supplier=form["supplier"], part=form["part"])
        change = lots.hold_lot if action == "hold" else lots.release_lot
        batches = change(db(), found, reason=form["reason"], author=current_user())
    except DomainError as exc:
        db().rollback()
        return _lot_page(number, error=tr(exc.message), failed=found.id if found else None, status=exc.status_code)
    lot_id = found.id
    commit()
    numbers = ", ".join(b.number for b in batches) or "—"
    flash(_("component lot %(lot)s on hold; batches held: %(batches)s", lot=number, batches=numbers)
          if action == "hold" else
          _("component lot %(lot)s released; batches released: %(batches)s", lot=number, batches=numbers), "ok")
    return redirect(url_for("pages.lot", number=number, _anchor=f"lot-{lot_id}"))


@bp.post("/lots/<path:number>/hold")
@requires(*lots.LOT_HOLDERS)
def lot_hold(number: str):
    """Put a component lot on hold, with every released batch it went into."""
    return _change(number, "hold")


@bp.post("/lots/<path:number>/release")
@requires(*lots.LOT_HOLDERS)
def lot_release(number: str):
    """Release a component lot and the batches its hold held."""
    return _change(number, "release")


@bp.get("/products/<path:sku>")
@requires()
def product(sku: str):
    """A product (by SKU or GTIN): its facts and its batches, newest first."""
    if "\x00" in sku:
        raise NotFound(_("no product with SKU or GTIN %(key)r", key=sku))
    found = queries.get_product(db(), sku)
    return render_template("product.html", product=found, batches=queries.list_product_batches(db(), found.id))
