"""The field page: the Nevada chart as a heat map, the life table, the Weibull plot and fit, the forecast of returns."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from flask import render_template, request

from ...config import business_today
from ...errors import ValidationError
from ...quality import field
from ..auth import requires_page
from ..database import db
from ..downloads import table_download
from ..i18n import _
from .common import bp, settings, user_text

# Longest filter value accepted: SKUs, batch and lot numbers are far shorter.
MAX_FILTER = 100
HEAT_BUCKETS = 10
TABLES = {"nevada": field.NEVADA_COLUMNS, "life": field.LIFE_COLUMNS, "plot": field.PLOT_COLUMNS,
          "forecast": field.FORECAST_COLUMNS}


def field_query(args: Any) -> tuple[field.FieldFilter, int, dict[str, Any]]:
    """The filters and forecast months of the query string; a bad one is a 422 naming its field."""
    values: dict[str, Any] = {}
    for name in ("product", "batch", "lot"):
        text = user_text(args.get(name, "").strip(), name)
        if len(text) > MAX_FILTER:
            raise ValidationError(_("%(field)s must be at most %(limit)s characters", field=name, limit=MAX_FILTER),
                                  details={"field": name})
        values[name] = text
    text = args.get("months", "").strip()
    months = field.DEFAULT_FORECAST_MONTHS
    if text:
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= field.MAX_FORECAST_MONTHS:
            raise ValidationError(_("months must be a whole number from 1 to %(limit)s, not %(value)r",
                                    limit=field.MAX_FORECAST_MONTHS, value=text), details={"field": "months"})
        months = int(text)
    values["months"] = months
    filters = field.FieldFilter(sku=values["product"] or None, batch=values["batch"] or None,
                                lot=values["lot"] or None)
    return filters, months, values


def _report() -> tuple[field.FieldReport, dict[str, Any]]:
    filters, months, values = field_query(request.args)
    return field.field_report(db(), filters, today=business_today(settings()), months=months), values


def _month_label(day: date) -> str:
    return day.isoformat()[:7]


def heat_map(report: field.FieldReport) -> dict[str, Any]:
    """Rows per ship month, one cell per month in service: returns, rate and a colour bucket (heat-0..9, by rate)."""
    shipped, _returned = report.data.nevada_input()
    if report.nevada is None or not shipped:
        return {"columns": [], "rows": []}
    counts = {(ship, months): n for ship, months, n in report.nevada.cells}
    last = report.data.today.year * 12 + report.data.today.month - 1
    ages = {ship: last - (ship.year * 12 + ship.month - 1) for ship in shipped}
    columns = list(range(max(ages.values()) + 1))
    top = max((n / shipped[ship] for (ship, _m), n in counts.items()), default=0.0)
    rows = []
    for ship in sorted(shipped):
        cells = []
        for month in columns:
            if month > ages[ship]:
                cells.append(None)  # not yet observed: no cell, not a zero
                continue
            n = counts.get((ship, month), 0)
            rate = n / shipped[ship]
            bucket = 0 if n == 0 or top == 0 else max(1, math.ceil((HEAT_BUCKETS - 1) * rate / top))
            cells.append({"returns": n, "rate": rate, "heat": f"heat-{bucket}"})
        rows.append({"month": _month_label(ship), "shipped": shipped[ship], "cells": cells})
    return {"columns": columns, "rows": rows}


def charts(report: field.FieldReport) -> dict[str, Any]:
    """Chart specs for static/charts.js: the life table, the probability plot and the forecast."""
    out: dict[str, Any] = {}
    life = report.life_rows()
    if life:
        out["life"] = {
            "labels": [row["month"] for row in life],
            "datasets": [{"label": _("Return rate"), "data": [row["rate"] for row in life], "type": "bar"},
                         {"label": _("Cumulative F (Kaplan-Meier)"), "data": [row["cumulative_f"] for row in life],
                          "type": "line", "axis": "y2"}],
            "x": {"title": _("Months in service")}, "y": {"title": _("Return rate"), "percent": True, "min": 0},
            "y2": {"title": _("Cumulative F"), "percent": True, "min": 0}}
    if report.plot is not None:
        (x0, y0), (x1, y1) = report.plot.line
        out["plot"] = {
            "datasets": [{"label": _("Returns (median ranks)"),
                          "data": [{"x": p.time, "y": p.y} for p in report.plot.points]},
                         {"label": _("Weibull fit"), "show_line": True,
                          "data": [{"x": math.exp(x0), "y": y0}, {"x": math.exp(x1), "y": y1}]}],
            "x": {"title": _("Months in service (log scale)"), "log": True},
            "y": {"title": _("ln(−ln(1 − F))")}}
    if report.forecast is not None:
        rows = report.forecast_rows()
        labels = [_month_label(field.add_months(report.data.today.replace(day=1), row["month"])) for row in rows]
        out["forecast"] = {
            "labels": labels,
            "datasets": [{"label": _("Low (95%)"), "data": [r["low"] for r in rows], "dashed": True, "points": False},
                         {"label": _("High (95%)"), "data": [r["high"] for r in rows], "dashed": True,
                          "points": False, "fill": "-1"},
                         {"label": _("Expected returns"), "data": [r["expected"] for r in rows]}],
            "x": {"title": _("Month")}, "y": {"title": _("Returns"), "min": 0}}
    return out


@bp.get("/quality/field")
@requires_page("pages.quality_field")
def quality_field():
    """Failures over time in the field: Nevada heat map, life table, Weibull plot and fit, forecast of returns."""
    report, values = _report()
    forecast_months = [_month_label(field.add_months(report.data.today.replace(day=1), row["month"]))
                       for row in report.forecast_rows()]
    return render_template("quality_field.html", report=report, values=values, heat=heat_map(report),
                           charts=charts(report), forecast_months=forecast_months,
                           max_months=field.MAX_FORECAST_MONTHS)


@bp.get("/quality/field/<any(nevada, life, plot, forecast):table>.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_field")
def quality_field_table(table: str, fmt: str):
    """One of the page's tables as CSV or XLSX with a header row."""
    report, _values = _report()
    rows = {"nevada": report.nevada_rows, "life": report.life_rows, "plot": report.plot_rows,
            "forecast": report.forecast_rows}[table]()
    return table_download(rows, TABLES[table], f"quality-field-{table}", fmt)
