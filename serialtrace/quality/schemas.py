"""Shapes of the quality API: the test's settings asked for and the claim-rate rows per batch and component lot."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RateQuery(BaseModel):
    """How strictly to flag: the false discovery rate and the minimum size a row needs before it may be flagged."""

    q: float = Field(0.05, gt=0, lt=1, description="false discovery rate for Benjamini-Hochberg, between 0 and 1")
    min_units: int = Field(30, ge=0, le=1_000_000_000, description="units shipped a row needs before it may be flagged")
    min_claims: int = Field(3, ge=0, le=1_000_000_000, description="claims a row needs before it may be flagged")
    format: Literal["json", "csv"] = Field("json", description="csv: the rows as a CSV file with a header row")


class RateNumbers(BaseModel):
    """A row's numbers: units shipped, claimed units, the rate with its Wilson 95 % interval and the test."""

    units: int = Field(description="units shipped (each shipped unit once)")
    claims: int = Field(description="shipped units with a claim past draft and not cancelled")
    rate: float = Field(description="claims / units")
    ci_low: float = Field(description="Wilson 95 % interval, low end")
    ci_high: float = Field(description="Wilson 95 % interval, high end")
    p_value: float = Field(description="one-sided Fisher exact test against all other rows")
    p_adjusted: float = Field(description="Benjamini-Hochberg adjusted p-value")
    eligible: bool = Field(description="at least min_units units and min_claims claims")
    flagged: bool = Field(description="eligible and p_adjusted <= q")


class BatchRateRead(RateNumbers):
    """One batch."""

    batch_id: int
    batch: str = Field(description="batch number")
    sku: str = Field(description="the batch's product")


class LotRateRead(RateNumbers):
    """One component lot: the units of every batch it went into."""

    lot_id: int
    supplier: str
    part: str
    lot_number: str


class RateReportRead(BaseModel):
    """The settings the rows were tested at and the pooled rate (null when nothing was shipped)."""

    q: float
    min_units: int
    min_claims: int
    pooled_rate: float | None


# With ?format=csv the same rows come as a CSV file with a header row.
_CSV_TOO = {"text/csv": {"schema": {"type": "string"}}}


class BatchReportRead(RateReportRead):
    """GET /quality/batches: batches with a shipped unit, flagged first, then by adjusted p-value."""

    model_config = {"openapi_extra": {"description": "the batches (CSV with ?format=csv)", "content": _CSV_TOO}}

    rows: list[BatchRateRead]


class LotReportRead(RateReportRead):
    """GET /quality/component-lots: component lots with a shipped unit, flagged first, then by adjusted p-value."""

    model_config = {"openapi_extra": {"description": "the component lots (CSV with ?format=csv)",
                                      "content": _CSV_TOO}}

    rows: list[LotRateRead]
