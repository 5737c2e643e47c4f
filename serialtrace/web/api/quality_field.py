"""Failures over time in the field: GET /quality/nevada and /quality/weibull (fit, plot points, forecast)."""

from __future__ import annotations

from flask import jsonify

from ...config import business_today
from ...errors import ValidationError
from ...quality import field
from ...quality.field_schemas import FieldQuery, NevadaRead, WeibullRead
from ..auth import requires
from ..database import db
from . import bp, errors, runtime
from .quality import QUALITY_READERS, TAG


def _report(query: FieldQuery, *, weibull: bool = True) -> field.FieldReport:
    filters = field.FieldFilter(sku=query.product.strip() or None, batch=query.batch.strip() or None,
                                lot=query.lot.strip() or None)
    return field.field_report(db(), filters, today=business_today(runtime().settings), months=query.months,
                              weibull=weibull)


@bp.get("/quality/nevada", tags=[TAG], responses={200: NevadaRead, **errors(401, 403, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_nevada(query: FieldQuery):
    """Returns by ship month and months in service (first shipment to first counted claim) and the life table:
    return rate and Kaplan-Meier cumulative F by months in service. 422 when nothing was shipped."""
    report = _report(query, weibull=False)  # the fit is not shown here (about 80 ms at 20,000 claims)
    if report.nevada is None:
        raise ValidationError(report.nevada_error or "", details={"reason": "no_shipments"})
    return jsonify({"today": report.data.today.isoformat(), "units": report.data.units,
                    "returns": sum(report.data.failures.values()), "cells": report.nevada_rows(),
                    "months": report.life_rows()})


@bp.get("/quality/weibull", tags=[TAG], responses={200: WeibullRead, **errors(401, 403, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_weibull(query: FieldQuery):
    """Weibull fit by maximum likelihood (returns interval-censored to their day, units in the field as suspensions,
    months), probability-plot points and the forecast of returns for the next `months` months. 422 when there are
    not enough failures to fit."""
    report = _report(query)
    if report.fit is None or report.plot is None:
        raise ValidationError(report.weibull_error or "", details={"reason": "not_enough_failures"})
    fit = report.fit
    start = report.data.today.replace(day=1)
    forecast = None if report.forecast is None else {
        "units": report.forecast.units, "method": report.forecast.method,
        "months": [{**row, "calendar_month": field.add_months(start, row["month"]).isoformat()[:7]}
                   for row in report.forecast_rows()]}
    return jsonify({
        "today": report.data.today.isoformat(), "units": report.data.units,
        "returns": sum(report.data.failures.values()),
        "fit": {name: getattr(fit, name) for name in ("beta", "beta_low", "beta_high", "eta", "eta_low", "eta_high",
                                                      "b10", "b10_low", "b10_high", "loglik")},
        "plot": {"points": report.plot_rows(), "line": [list(end) for end in report.plot.line]},
        "forecast": forecast, "forecast_message": report.forecast_error})
