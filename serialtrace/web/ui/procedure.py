"""The test procedure editor of a product: the current version's steps, publishing the next version, the older
versions read-only. A version is never edited; records keep the version they were made with."""

from __future__ import annotations

import math
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ...errors import DomainError, ValidationError
from ...trace import queries as trace_queries
from ...warranty import procedures as procedure_service
from ...warranty import queries as warranty_queries
from ..auth import current_user, requires_page
from ..database import commit, db
from ..i18n import _
from .bench import refusal
from .common import bp, user_text

STEP_FIELDS = ("name", "kind", "low", "high", "unit")
# Empty rows offered under the steps, so a new step can be typed without a script.
SPARE_ROWS = 1


def _blank() -> dict[str, str]:
    return {"name": "", "kind": "pass_fail", "low": "", "high": "", "unit": ""}


def _typed_rows() -> list[dict[str, str]]:
    """The rows as typed (steps[i].name, ...), in order, up to the procedure's limit."""
    rows = []
    for index in range(procedure_service.MAX_STEPS + SPARE_ROWS):
        row = {key: user_text(request.form.get(f"steps[{index}].{key}", ""), f"steps[{index}].{key}").strip()
               for key in STEP_FIELDS}
        if f"steps[{index}].name" not in request.form:
            break
        rows.append(row)
    return rows


def _limit(text: str, field: str) -> float | None:
    """A typed limit as a number (a decimal comma is fine), None when empty; anything else a 422 naming the field."""
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValidationError(_("%(field)s must be a number, not %(value)r", field=field, value=text),
                              details={"field": field})
    return value


def _filled(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows with something typed in them; empty ones are left out, so a step's number is its row's."""
    return [row for row in rows if any(row[key] for key in ("name", "low", "high", "unit"))]


def _steps(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The filled rows as procedure steps."""
    steps = []
    for index, row in enumerate(rows):
        steps.append({"name": row["name"], "kind": row["kind"],
                      "low": _limit(row["low"], f"steps[{index}].low"),
                      "high": _limit(row["high"], f"steps[{index}].high"), "unit": row["unit"]})
    return steps


def _shown(value: float | None) -> str:
    """A stored limit as the form shows it: 12 rather than 12.0."""
    return "" if value is None else f"{value:g}"


def _page(sku: str, rows: list[dict[str, str]] | None = None, status: int = 200, **page: Any):
    product = trace_queries.get_product(db(), sku)
    versions = warranty_queries.list_procedures(db(), product.id)
    if rows is None:
        current = versions[0].steps if versions else []
        rows = [{"name": s["name"], "kind": s["kind"], "low": _shown(s.get("low")), "high": _shown(s.get("high")),
                 "unit": s.get("unit") or ""} for s in current]
        rows += [_blank() for _spare in range(SPARE_ROWS)]
    page = {"error": None, "error_field": None, **page}
    return render_template("procedure.html", product=product, versions=versions, rows=rows,
                           kinds=procedure_service.KINDS, shown=_shown, **page), status


@bp.get("/products/<sku>/procedure")
@requires_page("pages.procedure")
def procedure(sku: str):
    """The product's test procedure: the current version as an editable copy, the older versions below."""
    return _page(sku)


@bp.post("/products/<sku>/procedure")
@requires_page("pages.procedure")
def procedure_publish(sku: str):
    """Publish the rows as the next version, or add an empty row to type another step into."""
    rows = _typed_rows()
    if request.form.get("add_row"):
        rows.append(_blank())
        return _page(sku, rows, focus=len(rows) - 1)
    product = trace_queries.get_product(db(), sku)
    rows = _filled(rows)
    try:
        published = procedure_service.publish_procedure(db(), product_id=product.id, steps=_steps(rows),
                                                         author=current_user())
        commit()
    except DomainError as exc:
        return _page(sku, [*rows, _blank()], exc.status_code, **refusal(exc))
    flash(_("version %(version)s of the test procedure published", version=published.version), "ok")
    return redirect(url_for("pages.procedure", sku=product.sku))
