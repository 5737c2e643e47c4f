"""Shapes of the field API: the Nevada chart with its life table, and the Weibull fit, plot and forecast."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .field import DEFAULT_FORECAST_MONTHS, MAX_FORECAST_MONTHS


class FieldQuery(BaseModel):
    """Which units (each filter optional, all must match) and how far to forecast."""

    product: str = Field("", max_length=100, description="a product's SKU")
    batch: str = Field("", max_length=100, description="a batch number")
    lot: str = Field("", max_length=100, description="a component lot number: the units of every batch it went into")
    months: int = Field(DEFAULT_FORECAST_MONTHS, ge=1, le=MAX_FORECAST_MONTHS,
                        description="months to forecast (weibull only)")


class NevadaCellRead(BaseModel):
    """Returns of one ship month in one month of service."""

    ship_month: str = Field(description="YYYY-MM of the units' first shipment")
    months_in_service: int = Field(description="0: returned in the month it shipped")
    return_month: str = Field(description="YYYY-MM of the first counted claim")
    returns: int
    shipped: int = Field(description="units of the ship month")
    rate: float = Field(description="returns / shipped")


class LifeMonthRead(BaseModel):
    """One month in service over all ship months: returns, units still in the field, at risk, rate, Kaplan-Meier F."""

    month: int
    failures: int
    suspensions: int
    at_risk: int
    rate: float
    cumulative_f: float


class NevadaRead(BaseModel):
    """GET /quality/nevada: units shipped, the Nevada cells and the life table, as of `today`."""

    today: str
    units: int
    returns: int
    cells: list[NevadaCellRead]
    months: list[LifeMonthRead]


class WeibullFitRead(BaseModel):
    """Shape beta and scale eta (months) by maximum likelihood, B10 life, each with 95 % Fisher-matrix bounds."""

    beta: float
    beta_low: float
    beta_high: float
    eta: float
    eta_low: float
    eta_high: float
    b10: float
    b10_low: float
    b10_high: float
    loglik: float


class PlotPointRead(BaseModel):
    """A probability-plot point: time (months), Johnson's adjusted rank, Bernard's F, x = ln t, y = ln(-ln(1-F))."""

    time: float
    rank: float
    f: float
    x: float
    y: float


class PlotRead(BaseModel):
    """The plot's points and the fitted line's two ends as [x, y]."""

    points: list[PlotPointRead]
    line: list[list[float]]


class ForecastMonthRead(BaseModel):
    """Expected returns in the k-th coming month, and cumulated to it, with 95 % bounds."""

    month: int
    calendar_month: str = Field(description="YYYY-MM")
    expected: float
    low: float
    high: float
    cumulative: float
    cumulative_low: float
    cumulative_high: float


class ForecastRead(BaseModel):
    """Returns expected from the units still in the field; `method` names how the bounds were made."""

    units: int
    method: str
    months: list[ForecastMonthRead]


class WeibullRead(BaseModel):
    """GET /quality/weibull: the fit, the probability plot and the forecast (null when no unit is left in the field)."""

    today: str
    units: int
    returns: int
    fit: WeibullFitRead
    plot: PlotRead
    forecast: ForecastRead | None
    forecast_message: str | None = Field(None, description="why there is no forecast")
