"""Failures over time in the field: the Nevada chart and the Weibull fit, forecast and plot from shipments and claims.

A unit's time in service runs from its first shipment to its first counted claim (counted as in queries: past draft,
not cancelled, once per unit, shipped units only), or to today while it is still in the field (a suspension).
Everything is grouped in SQL: units by first-shipment day, claims by unit, so a million units in the field are a few
thousand (age, count) rows, and the Weibull fit works on those with counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..i18n import _l
from ..trace import analytics
from ..trace.models import Batch, BatchInput, ComponentLot, Product, Shipment, ShipmentItem, Unit
from ..warranty.models import Claim
from .queries import NOT_COUNTED

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


def _month(day: date) -> date:
    return day.replace(day=1)


def _units_where(session: Session, filters: FieldFilter) -> list[Any]:
    """Conditions on Unit for the filters; a product, batch or lot that does not exist is a 422 naming the field."""
    where: list[Any] = []
    product_id = None
    if filters.sku:
        product_id = session.scalar(select(Product.id).where(Product.sku == filters.sku))
        if product_id is None:
            raise ValidationError(_l("product: no product with SKU %(value)r", value=filters.sku),
                                  details={"field": "product"})
        where.append(Unit.product_id == product_id)
    if filters.batch:
        batches = select(Batch.id).where(Batch.number == filters.batch)
        if product_id is not None:
            batches = batches.where(Batch.product_id == product_id)
        if session.scalar(batches.limit(1)) is None:
            raise ValidationError(_l("batch: no batch numbered %(value)r", value=filters.batch),
                                  details={"field": "batch"})
        where.append(Unit.batch_id.in_(batches))
    if filters.lot:
        lots = select(ComponentLot.id).where(ComponentLot.lot_number == filters.lot)
        if session.scalar(lots.limit(1)) is None:
            raise ValidationError(_l("lot: no component lot numbered %(value)r", value=filters.lot),
                                  details={"field": "lot"})
        where.append(Unit.batch_id.in_(select(BatchInput.batch_id).where(BatchInput.component_lot_id.in_(lots))))
    return where


def _first_shipments(session: Session, where: list[Any]) -> dict[date, int]:
    """Units per first-shipment day: shipment lines per day, less the later shipments of units shipped again."""
    # Grouping the lines by unit first (a min per unit) walks a million units one by one (20 s on SQLite); lines
    # per day are one pass, and the few units shipped more than once are corrected after.
    lines = (select(Shipment.shipped_on, func.count()).select_from(ShipmentItem)
             .join(Shipment, Shipment.id == ShipmentItem.shipment_id).where(ShipmentItem.unit_id.is_not(None)))
    again = select(ShipmentItem.unit_id).where(ShipmentItem.unit_id.is_not(None))
    if where:
        lines = lines.join(Unit, Unit.id == ShipmentItem.unit_id).where(*where)
        again = again.join(Unit, Unit.id == ShipmentItem.unit_id).where(*where)
    shipped: Counter[date] = Counter(dict(session.execute(lines.group_by(Shipment.shipped_on)).all()))
    repeated = again.group_by(ShipmentItem.unit_id).having(func.count() > 1)
    days: dict[int, list[date]] = {}
    for unit_id, day in session.execute(
            select(ShipmentItem.unit_id, Shipment.shipped_on).join(Shipment, Shipment.id == ShipmentItem.shipment_id)
            .where(ShipmentItem.unit_id.in_(repeated))):
        days.setdefault(unit_id, []).append(day)
    for unit_days in days.values():
        unit_days.remove(min(unit_days))
        shipped.subtract(unit_days)
    return {day: int(count) for day, count in sorted(shipped.items()) if count > 0}


def field_data(session: Session, filters: FieldFilter = FieldFilter(), *, today: date) -> FieldData:
    """The shipped units and their counted claims of the filtered units, grouped in the database."""
    where = _units_where(session, filters)
    shipped = _first_shipments(session, where)
    # From the few claims: each claimed unit's first shipment is an index lookup, not a pass over all units.
    shipped_on = (select(func.min(Shipment.shipped_on)).join(ShipmentItem, ShipmentItem.shipment_id == Shipment.id)
                  .where(ShipmentItem.unit_id == Claim.unit_id).correlate(Claim).scalar_subquery())
    claims = (select(shipped_on.label("shipped_on"), func.min(Claim.opened_at).label("opened_at"))
              .where(Claim.state.not_in(NOT_COUNTED)))
    if where:
        claims = claims.join(Unit, Unit.id == Claim.unit_id).where(*where)
    failures: Counter[tuple[date, date]] = Counter()
    for ship, opened in session.execute(claims.group_by(Claim.unit_id)):
        if ship is not None:
            failures[ship, min(today, opened.date())] += 1
    return FieldData(today=today, shipped=shipped, failures=dict(failures))


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
                 months: int = DEFAULT_FORECAST_MONTHS) -> FieldReport:
    """Nevada, life table, Weibull fit with plot points and the forecast for the next `months` months."""
    data = field_data(session, filters, today=today)
    nevada, nevada_error = None, None
    shipped, returned = data.nevada_input()
    try:
        nevada = analytics.nevada(shipped, returned, end=today)
    except ValueError as error:
        nevada_error = _message(error)
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
