"""Recall campaign pages: the list with progress and the form that starts one, a campaign per customer, its
exports."""

from __future__ import annotations

import re
from datetime import date

from flask import flash, redirect, render_template, request, url_for

from ...errors import DomainError, ValidationError
from ...quality import recall_queries, recalls
from ..auth import current_user, requires, requires_page
from ..database import commit, db
from ..downloads import log_customer_export, table_download
from ..i18n import _, tr
from .common import bp, optional_id, user_text

FORM_FIELDS = ("scope", "title", "reason", "batch", "product", "lot_id", "lot_number", "supplier", "part", "sku",
               "produced_from", "produced_to", "batches")


def _may_manage() -> bool:
    user = current_user()
    return user is not None and user.has_role(*recalls.RECALL_MANAGERS)


def _day(value: str, field: str) -> date | None:
    """A date typed in the form (YYYY-MM-DD); empty is None, anything else a 422 naming the field."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(_("%(field)s must be a date (YYYY-MM-DD), not %(value)r", field=field, value=value),
                              details={"field": field}) from None


def _list_page(form: dict[str, str], *, error: str | None = None, status: int = 200):
    return render_template("quality_recalls.html", campaigns=recall_queries.list_campaigns(db()), form=form,
                           error=error, may_manage=_may_manage(), steps=recalls.STEPS), status


@bp.get("/quality/recalls")
@requires_page("pages.quality_recalls")
def quality_recalls():
    """Campaigns with their progress; the form that starts one (prefilled from a batch or lot page's link)."""
    form = {name: user_text(request.args.get(name, ""), name) for name in FORM_FIELDS}
    form["scope"] = form["scope"] if form["scope"] in recalls.SCOPES else "batch"
    return _list_page(form)


# The list's columns as downloaded: the campaign, its customers by status and its units returned of affected.
TABLE_COLUMNS = ("number", "title", "batches", "state", "created_at", "created_by",
                 *(f"customers_{s}" for s in recalls.STEPS), "units_returned", "units_affected")


def _table_row(c: dict) -> dict:
    p = c["progress"]
    return {**c, "batches": " ".join(c["batches"]), **{f"customers_{s}": p["customers"][s] for s in recalls.STEPS},
            "units_returned": p["units_returned"], "units_affected": p["units_affected"]}


@bp.get("/quality/recalls.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_recalls")
def quality_recalls_table(fmt: str):
    """The campaigns with their progress as CSV or XLSX."""
    return table_download(map(_table_row, recall_queries.list_campaigns(db())), TABLE_COLUMNS, "recall-campaigns", fmt)


def _start(form: dict[str, str]) -> recalls.RecallCampaign:
    """The campaign the form asks for: by batch, by component lot, or by filter."""
    common = {"title": form["title"], "reason": form["reason"], "author": current_user()}
    if form["scope"] == "batch":
        return recalls.create_from_batch(db(), number=form["batch"], sku=form["product"] or None, **common)
    if form["scope"] == "lot":
        lot = recalls.find_component_lot(db(), lot_id=optional_id(form["lot_id"], "lot_id"),
                                         lot_number=form["lot_number"], supplier=form["supplier"], part=form["part"])
        return recalls.create_from_lot(db(), lot=lot, **common)
    if form["scope"] == "filter":
        numbers = [n for n in re.split(r"[\s,;]+", form["batches"]) if n]
        return recalls.create_from_filter(db(), sku=form["sku"], produced_from=_day(form["produced_from"],
                                                                                    "produced_from"),
                                          produced_to=_day(form["produced_to"], "produced_to"),
                                          batch_numbers=numbers, **common)
    raise ValidationError(_("choose what to recall: a batch, a component lot or a filter"),
                          details={"field": "scope"})


@bp.post("/quality/recalls")
@requires(*recalls.RECALL_MANAGERS)
def quality_recall_create():
    """Start a campaign; a refusal (nothing to recall, a batch already in an open campaign) is shown on the form."""
    form = {name: user_text(request.form.get(name, ""), name) for name in FORM_FIELDS}
    try:
        campaign = _start(form)
    except DomainError as exc:
        db().rollback()
        return _list_page(form, error=tr(exc.message), status=exc.status_code)
    number = campaign.number
    commit()
    flash(_("recall campaign %(number)s started", number=number), "ok")
    return redirect(url_for("pages.quality_recall", number=number))


def _detail_page(number: str, *, error: str | None = None, failed: int | None = None, status: int = 200):
    campaign = recalls.get_campaign(db(), number)
    return render_template(
        "quality_recall.html", campaign=recall_queries.campaign_dict(db(), campaign),
        customers=recall_queries.customer_rows(db(), campaign), notes=recall_queries.notes(db(), campaign),
        may_manage=_may_manage() and campaign.state == recalls.OPEN, steps=recalls.STEPS, error=error,
        failed=failed), status


@bp.get("/quality/recalls/<number>")
@requires_page("pages.quality_recall")
def quality_recall(number: str):
    """A campaign: progress, and per customer the contacts, units affected and returned, status and notes."""
    return _detail_page(user_text(number, "number"))


@bp.post("/quality/recalls/<number>/customers/<int:customer_id>")
@requires(*recalls.RECALL_MANAGERS)
def quality_recall_customer(number: str, customer_id: int):
    """Move a customer one step on (or back, with a note) and/or note something."""
    number = user_text(number, "number")
    status = user_text(request.form.get("status", ""), "status")
    note = user_text(request.form.get("note", ""), "note")
    try:
        recalls.update_customer(db(), number=number, customer_id=customer_id, status=status or None, note=note,
                                author=current_user())
    except DomainError as exc:
        db().rollback()
        return _detail_page(number, error=tr(exc.message), failed=customer_id, status=exc.status_code)
    commit()
    flash(_("saved"), "ok")
    return redirect(url_for("pages.quality_recall", number=number, _anchor=f"customer-{customer_id}"))


@bp.post("/quality/recalls/<number>/close")
@requires(*recalls.RECALL_MANAGERS)
def quality_recall_close(number: str):
    """Close a campaign with the reason."""
    number = user_text(number, "number")
    try:
        recalls.close_campaign(db(), number=number, reason=user_text(request.form.get("reason", ""), "reason"),
                               author=current_user())
    except DomainError as exc:
        db().rollback()
        return _detail_page(number, error=tr(exc.message), status=exc.status_code)
    commit()
    flash(_("recall campaign %(number)s closed", number=number), "ok")
    return redirect(url_for("pages.quality_recall", number=number))


@bp.get("/quality/recalls/<number>/customers.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_recall")
def quality_recall_customers_table(number: str, fmt: str):
    """The campaign's customers as CSV or XLSX."""
    campaign = recalls.get_campaign(db(), user_text(number, "number"))
    log_customer_export(f"{campaign.number}-customers", fmt=fmt, campaign=campaign.number)
    return table_download(recall_queries.customer_rows(db(), campaign), recall_queries.CUSTOMER_COLUMNS,
                          f"{campaign.number}-customers", fmt)


@bp.get("/quality/recalls/<number>/units.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_recall")
def quality_recall_units_table(number: str, fmt: str):
    """The campaign's units as CSV or XLSX."""
    campaign = recalls.get_campaign(db(), user_text(number, "number"))
    log_customer_export(f"{campaign.number}-units", fmt=fmt, campaign=campaign.number)
    return table_download(recall_queries.unit_rows(db(), campaign), recall_queries.UNIT_COLUMNS,
                          f"{campaign.number}-units", fmt)
