"""Root-cause comparison (claim rate by attribute, with a bar chart) and the customer ABC x XYZ matrix pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request

from ...config import business_today
from ...errors import ValidationError
from ...quality import compare, customers
from ..auth import requires_page
from ..database import db
from ..downloads import log_customer_export, table_download
from ..i18n import _, tr
from .common import bp, settings, user_text

MAX_TEXT = 120
DEFAULT_ATTRIBUTE = "line"
MATRIX_COLUMNS = ("abc", "xyz", "count", "customers")
SETTING_NAMES = ("basis", "rule", "a", "b", "x", "y", "months", "min_months")


def _text(name: str) -> str:
    value = user_text(request.args.get(name, "").strip(), name)
    if len(value) > MAX_TEXT:
        raise ValidationError(_("%(field)s must be at most %(limit)s characters", field=name, limit=MAX_TEXT),
                              details={"field": name})
    return value


def _date(name: str) -> date | None:
    text = _text(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("%(field)s must be a date as YYYY-MM-DD, not %(value)r", field=name, value=text),
                              details={"field": name}) from None


def _number(name: str, default: Any, kind: type) -> Any:
    text = _text(name)
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        raise ValidationError(_("%(field)s must be a number, not %(value)r", field=name, value=text),
                              details={"field": name}) from None


def _compare_args() -> dict[str, Any]:
    """The comparison's inputs from the query string, as typed (for the form and the download links)."""
    return {"attribute": _text("attribute") or DEFAULT_ATTRIBUTE, "sku": _text("sku"),
            "shipped_from": _text("shipped_from"), "shipped_to": _text("shipped_to"), "q": _number("q", 0.05, float)}


def _comparison(args: dict[str, Any]) -> compare.Comparison:
    filters = compare.CompareFilters(sku=args["sku"] or None, shipped_from=_date("shipped_from"),
                                     shipped_to=_date("shipped_to"))
    return compare.compare(db(), attribute=args["attribute"], filters=filters, q=args["q"])


def bar_chart(result: compare.Comparison) -> dict[str, Any]:
    """A bar per value (its claim rate) beside a floating bar of its Wilson 95 % interval, for charts.js."""
    seasons = {"winter": _("Winter"), "spring": _("Spring"), "summer": _("Summer"), "autumn": _("Autumn")}
    names = [seasons[r["value"]] if result.attribute == "season" else r["value"] for r in result.rows]
    return {"labels": names,
            "datasets": [{"label": _("Claim rate"), "data": [r["rate"] for r in result.rows]},
                         {"label": _("Interval (95%)"), "color": "#8fb3d9",
                          "data": [[r["ci_low"], r["ci_high"]] for r in result.rows]}],
            "x": {"title": result.attribute}, "y": {"title": _("Claim rate"), "percent": True, "min": 0}}


@bp.get("/quality/compare")
@requires_page("pages.quality_compare")
def quality_compare():
    """Claim rate by attribute, each value against the rest; bad input is shown above the form with a 422."""
    error, result, args = None, None, {"attribute": DEFAULT_ATTRIBUTE, "sku": "", "shipped_from": "",
                                       "shipped_to": "", "q": 0.05}
    try:
        args = _compare_args()
        result = _comparison(args)
    except ValidationError as exc:
        error = exc.message
    attributes = compare.available_attributes(db())
    body = render_template("quality_compare.html", args=args, result=result, error=error, attributes=attributes,
                           chart=bar_chart(result) if result else None)
    # Opening the page without input and finding nothing to compare is a message, not a refused request.
    return body, 422 if error and request.args else 200


@bp.get("/quality/compare.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_compare")
def quality_compare_table(fmt: str):
    """The comparison table as CSV or XLSX."""
    result = _comparison(_compare_args())
    return table_download(result.rows, compare.COLUMNS, f"quality-compare-{result.attribute.replace(':', '-')}",
                          fmt)


def _customer_settings() -> customers.CustomerSettings:
    d = customers.CustomerSettings()
    return customers.CustomerSettings(
        basis=_text("basis") or d.basis, rule=_text("rule") or d.rule, a=_number("a", d.a, float),
        b=_number("b", d.b, float), x=_number("x", d.x, float), y=_number("y", d.y, float),
        months=_number("months", d.months, int), min_months=_number("min_months", d.min_months, int))


def _matrix(found: customers.CustomerMatrix | None = None) -> customers.CustomerMatrix:
    return found or customers.customer_matrix(db(), today=business_today(settings()), settings=_customer_settings())


def _customer_rows(found: customers.CustomerMatrix) -> list[dict[str, Any]]:
    """The per-customer table as downloaded: the reason in the reader's words."""
    return [{**r, "reason": tr(r["reason"]) if r["reason"] is not None else ""} for r in found.rows]


def _matrix_rows(found: customers.CustomerMatrix) -> list[dict[str, Any]]:
    return [{"abc": a, "xyz": x, "count": len(found.cells[a][x]),
             "customers": "; ".join(r["customer"] for r in found.cells[a][x])}
            for a in customers.ABC_CLASSES for x in customers.XYZ_CLASSES]


@bp.get("/quality/customers")
@requires_page("pages.quality_customers")
def quality_customers():
    """Customers in the ABC x XYZ matrix, the ones not classified with the reason, and a table per customer."""
    error, found, current = None, None, customers.CustomerSettings()
    try:
        current = _customer_settings()
        found = customers.customer_matrix(db(), today=business_today(settings()), settings=current)
    except ValidationError as exc:
        error = exc.message
    body = render_template("quality_customers.html", settings=current, found=found, error=error,
                           rows=_customer_rows(found) if found else [],
                           args={k: v for k, v in request.args.items() if k in SETTING_NAMES})
    return body, 422 if error else 200


@bp.get("/quality/customers.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_customers")
def quality_customers_table(fmt: str):
    """The per-customer table as CSV or XLSX."""
    log_customer_export("quality-customers", fmt=fmt)
    return table_download(_customer_rows(_matrix()), customers.COLUMNS, "quality-customers", fmt)


@bp.get("/quality/customer-matrix.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_customers")
def quality_customer_matrix_table(fmt: str):
    """The 3x3 matrix (count and customers per cell) as CSV or XLSX."""
    log_customer_export("quality-customer-matrix", fmt=fmt)
    return table_download(_matrix_rows(_matrix()), MATRIX_COLUMNS, "quality-customer-matrix", fmt)
