"""Failures over time in the field: the Nevada chart and the Weibull fit, forecast and plot from shipments and claims.

A unit's time in service runs from its first shipment to its first counted claim (counted as in queries: past draft,
not cancelled, once per unit, shipped units only), or to today while it is still in the field (a suspension).
Units are grouped by first-shipment day (from the kept first shipments), claims by unit, so a million units in the
field are a few thousand (age, count) rows, and the Weibull fit works on those with counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..i18n import _l
from ..trace import analytics
from ..trace.models import Batch, BatchInput, ComponentLot, Product, Shipment
from ..warranty.models import Claim
from .queries import NOT_COUNTED, first_shipments

# Days in an average month: ages in months are days / this, so a year is 12 months exactly.
MONTH_DAYS = 365.25 / 12
MAX_FORECAST_MONTHS = 24
DEFAULT_FORECAST_MONTHS = 6

NEVADA_COLUMNS = ("ship_month", "months_in_service", "return_month", "returns", "shipped", "rate")
LIFE_COLUMNS = ("month", "failures", "suspensions", "at_risk", "rate", "cumulative_f")
FORECAST_COLUMNS = ("month", "expected", "low", "high", "cumulative", "cumulative_low", "cumulative_high")
PLOT_COLUMNS = ("time", "rank", "f", "x", "y")


@dataclass(frozen=True)
class FieldFilter:
    """Which units: a product's SKU, a batch number, a component lot number (each optional, all must match)."""

    sku: str | None = None
    batch: str | None = None
    lot: str | None = None


@dataclass(frozen=True)
class FieldData:
    """Units shipped per first-shipment day, and per failure (shipment day, claim day, units) as of `today`."""

    today: date
    shipped: dict[date, int] = field(default_factory=dict)
    failures: dict[tuple[date, date], int] = field(default_factory=dict)

    @property
    def units(self) -> int:
        """Shipped units."""
        return sum(self.shipped.values())

    def nevada_input(self) -> tuple[dict[date, int], dict[tuple[date, date], int]]:
        """Units shipped per ship month and returns per (ship month, return month), months as their first day."""
        return self._nevada_input

    @cached_property
    def _nevada_input(self) -> tuple[dict[date, int], dict[tuple[date, date], int]]:
        # Worked out once per report: the page and the report read it several times (20,000 claims: ~25 ms each).
        shipped: Counter[date] = Counter()
        for day, count in self.shipped.items():
            shipped[_month(day)] += count
        returned: Counter[tuple[date, date]] = Counter()
        last = _month(self.today)
        for (ship, opened), count in self.failures.items():
            # A claim dated before its unit's shipment (registered from stock) is a return in the ship month.
            returned[_month(ship), min(last, max(_month(ship), _month(opened)))] += count
        return dict(shipped), dict(returned)

    def weibull_input(self) -> tuple[dict[tuple[float, float], int], dict[float, int]]:
        """Failures as day-long intervals ((d, d + 1] days in service, in months) and suspensions by age in months.

        Dates are whole days, so a return on day d of service happened some time in that day: interval censoring.
        """
        failed: Counter[int] = Counter()
        failed_per_ship: Counter[date] = Counter()
        for (ship, opened), count in self.failures.items():
            failed[max(0, (opened - ship).days)] += count
            failed_per_ship[ship] += count
        intervals = {(days / MONTH_DAYS, (days + 1) / MONTH_DAYS): count for days, count in sorted(failed.items())}
        suspended: Counter[int] = Counter()
        for ship, count in self.shipped.items():
            left = count - failed_per_ship[ship]
            if left:
                suspended[max(0, (self.today - ship).days)] += left
        return intervals, {days / MONTH_DAYS: count for days, count in sorted(suspended.items())}


@lru_cache(maxsize=4096)
def _month(day: date) -> date:
    # Memoised: tens of thousands of (ship, return) days per view fall on a few hundred distinct days.
    return day.replace(day=1)


@dataclass(frozen=True)
class _Units:
    """Which units the filters keep: of one product, of some batches (None: any)."""

    product_id: int | None = None
    batch_ids: frozenset[int] | None = None

    def mask(self, batch: np.ndarray, product: np.ndarray) -> np.ndarray:
        """True for the units (given by their batch and product arrays) the filters keep."""
        keep = np.ones(len(batch), dtype=bool)
        if self.product_id is not None:
            keep &= product == self.product_id
        if self.batch_ids is not None:
            keep &= np.isin(batch, np.fromiter(self.batch_ids, dtype=np.int64, count=len(self.batch_ids)))
        return keep


def _units_where(session: Session, filters: FieldFilter) -> _Units:
    """The units the filters keep; a product, batch or lot that does not exist is a 422 naming the field."""
    product_id = None
    batch_ids: set[int] | None = None
    if filters.sku:
        product_id = session.scalar(select(Product.id).where(Product.sku == filters.sku))
        if product_id is None:
            raise ValidationError(_l("product: no product with SKU %(value)r", value=filters.sku),
                                  details={"field": "product"})
    if filters.batch:
        batches = select(Batch.id).where(Batch.number == filters.batch)
        if product_id is not None:
            batches = batches.where(Batch.product_id == product_id)
        batch_ids = set(session.scalars(batches))
        if not batch_ids:
            raise ValidationError(_l("batch: no batch numbered %(value)r", value=filters.batch),
                                  details={"field": "batch"})
    if filters.lot:
        lots = select(ComponentLot.id).where(ComponentLot.lot_number == filters.lot)
        if session.scalar(lots.limit(1)) is None:
            raise ValidationError(_l("lot: no component lot numbered %(value)r", value=filters.lot),
                                  details={"field": "lot"})
        in_lots = set(session.scalars(select(BatchInput.batch_id).where(BatchInput.component_lot_id.in_(lots))))
        batch_ids = in_lots if batch_ids is None else batch_ids & in_lots
    return _Units(product_id, None if batch_ids is None else frozenset(batch_ids))


def field_data(session: Session, filters: FieldFilter = FieldFilter(), *, today: date) -> FieldData:
    """The shipped units and their counted claims of the filtered units.

    Every shipped unit's first shipment is kept between views (quality.queries.first_shipments): units per
    first-shipment day are counted in memory, and the few claimed units are looked up in it."""
    units = _units_where(session, filters)
    first = first_shipments(session)
    days = dict(session.execute(select(Shipment.id, Shipment.shipped_on)).all())
    shipped: Counter[date] = Counter()
    if len(first.unit):
        per_shipment = np.bincount(first.shipment[units.mask(first.batch, first.product)])
        for shipment_id in np.flatnonzero(per_shipment):
            shipped[days[int(shipment_id)]] += int(per_shipment[shipment_id])
    failures: Counter[tuple[date, date]] = Counter()
    claims = session.execute(select(Claim.unit_id, func.min(Claim.opened_at)).where(Claim.state.not_in(NOT_COUNTED))
                             .group_by(Claim.unit_id)).all()
    if claims and len(first.unit):
        at = first.positions([unit_id for unit_id, _ in claims])
        # A claim on a unit never shipped counts for nothing.
        kept = (at >= 0) & units.mask(first.batch[np.maximum(at, 0)], first.product[np.maximum(at, 0)])
        ships = np.where(kept, first.shipment[np.maximum(at, 0)], -1).tolist()
        for (_, opened), shipment_id in zip(claims, ships, strict=True):
            if shipment_id >= 0:
                failures[days[shipment_id], min(today, opened.date())] += 1
    return FieldData(today=today, shipped={day: count for day, count in sorted(shipped.items())},
                     failures=dict(failures))


@dataclass(frozen=True)
class FieldReport:
    """The Nevada chart and the Weibull analysis of one filtered population; `weibull_error` says why there is none."""

    data: FieldData
    nevada: analytics.Nevada | None
    fit: analytics.WeibullFit | None = None
    plot: analytics.WeibullPlot | None = None
    forecast: analytics.WeibullForecast | None = None
    weibull_error: str | None = None
    nevada_error: str | None = None
    forecast_error: str | None = None

    def nevada_rows(self) -> list[dict[str, Any]]:
        """The Nevada cells with the month they came back in and their share of the ship month's units."""
        if self.nevada is None:
            return []
        shipped, _ = self.data.nevada_input()
        return [{"ship_month": ship.isoformat()[:7], "months_in_service": months,
                 "return_month": add_months(ship, months).isoformat()[:7], "returns": count,
                 "shipped": shipped[ship], "rate": count / shipped[ship]} for ship, months, count in self.nevada.cells]

    def life_rows(self) -> list[dict[str, Any]]:
        """Return rate and Kaplan-Meier cumulative F by months in service."""
        return [vars(m) for m in self.nevada.months] if self.nevada is not None else []

    def forecast_rows(self) -> list[dict[str, Any]]:
        """Expected returns per coming month with bounds."""
        return [vars(m) for m in self.forecast.months] if self.forecast is not None else []

    def plot_rows(self) -> list[dict[str, Any]]:
        """The probability plot's points."""
        return [vars(p) for p in self.plot.points] if self.plot is not None else []


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _message(error: ValueError) -> str:
    """The error's message as raised (a translatable Message the pages show in the reader's language)."""
    return error.args[0] if error.args and isinstance(error.args[0], str) else str(error)


def field_report(session: Session, filters: FieldFilter = FieldFilter(), *, today: date,
                 months: int = DEFAULT_FORECAST_MONTHS, weibull: bool = True) -> FieldReport:
    """Nevada, life table, Weibull fit with plot points and the forecast for the next `months` months (`weibull`
    False: the Nevada chart and life table alone, for readers that show nothing else)."""
    data = field_data(session, filters, today=today)
    nevada, nevada_error = None, None
    shipped, returned = data.nevada_input()
    try:
        nevada = analytics.nevada(shipped, returned, end=today)
    except ValueError as error:
        nevada_error = _message(error)
    if not weibull:
        return FieldReport(data=data, nevada=nevada, nevada_error=nevada_error)
    intervals, suspensions = data.weibull_input()
    try:
        fit = analytics.weibull_fit([], list(suspensions), intervals=list(intervals),
                                    suspension_counts=list(suspensions.values()),
                                    interval_counts=list(intervals.values()))
        # The plot puts each return at the end of its day in service.
        plot = analytics.weibull_plot_points([high for _, high in intervals], list(suspensions),
                                             failure_counts=list(intervals.values()),
                                             suspension_counts=list(suspensions.values()), fit=fit)
    except ValueError as error:
        return FieldReport(data=data, nevada=nevada, nevada_error=nevada_error, weibull_error=_message(error))
    try:
        forecast = analytics.weibull_forecast(fit, suspensions, months=months)
    except ValueError as error:
        return FieldReport(data=data, nevada=nevada, nevada_error=nevada_error, fit=fit, plot=plot,
                           forecast_error=_message(error))
    return FieldReport(data=data, nevada=nevada, nevada_error=nevada_error, fit=fit, plot=plot, forecast=forecast)
