"""Shapes of the root-cause comparison and the customer ABC x XYZ matrix in the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class CompareQuery(BaseModel):
    """Which attribute to compare, over which units, how strictly to flag."""

    attribute: str = Field(min_length=1, max_length=120,
                           description="line, shift, carrier, season, or shipment:<key> of the shipments' attributes")
    sku: str | None = Field(None, max_length=64, description="only units of this product")
    shipped_from: date | None = Field(None, description="first shipment on or after this day (YYYY-MM-DD)")
    shipped_to: date | None = Field(None, description="first shipment on or before this day (YYYY-MM-DD)")
    q: float = Field(0.05, gt=0, lt=1, description="false discovery rate for Benjamini-Hochberg across the values")


class CompareRow(BaseModel):
    """One value of the attribute against all other values."""

    attribute: str
    value: str
    units: int = Field(description="units shipped whose first shipment has this value")
    claims: int = Field(description="of them, units with a claim past draft and not cancelled")
    rate: float = Field(description="claims / units")
    ci_low: float = Field(description="Wilson 95 % interval of the rate, low end")
    ci_high: float = Field(description="Wilson 95 % interval of the rate, high end")
    risk_ratio: float | None = Field(description="rate of this value over the rate of all others; null when the "
                                                 "others have no claim (infinite) or nothing has")
    rr_ci_low: float | None = Field(description="95 % interval of the risk ratio (log method), low end")
    rr_ci_high: float | None = Field(description="95 % interval of the risk ratio, high end")
    p_value: float = Field(description="two-sided Fisher exact test against all other values")
    p_adjusted: float = Field(description="Benjamini-Hochberg adjusted across the values")
    flagged: bool = Field(description="p_adjusted <= q")


class CompareRead(BaseModel):
    """GET /quality/compare: the values in order (seasons by the calendar, others alphabetically)."""

    attribute: str
    q: float
    units: int
    claims: int
    rate: float | None
    units_without_value: int = Field(description="units left out: their shipment has no value for the attribute")
    sku: str | None
    shipped_from: date | None
    shipped_to: date | None
    rows: list[CompareRow]
    attributes: list[str] = Field(description="every attribute that can be compared, shipment keys from the data")


class CustomersQuery(BaseModel):
    """How to class the customers."""

    basis: Literal["cost", "count"] = Field("cost", description="ABC by claim cost or by claim count")
    rule: Literal["before", "including"] = Field(
        "before", description="ABC: cumulative share before the customer < boundary, or including it <= boundary")
    a: float = Field(0.8, gt=0, le=1, description="ABC boundary of A")
    b: float = Field(0.95, gt=0, le=1, description="ABC boundary of B")
    x: float = Field(0.10, gt=0, le=100, description="XYZ: X when the coefficient of variation is at most this")
    y: float = Field(0.25, gt=0, le=100, description="XYZ: Y when at most this, else Z")
    months: int = Field(12, ge=2, le=60, description="full calendar months before this one")
    min_months: int = Field(6, ge=2, le=60, description="months with us a customer needs to be classed XYZ")


class MatrixCustomer(BaseModel):
    """A customer in a cell."""

    customer_id: int
    customer: str


class MatrixCell(BaseModel):
    """One cell of the 3x3 matrix."""

    abc: str
    xyz: str
    count: int
    customers: list[MatrixCustomer]


class CustomerRow(BaseModel):
    """One customer's numbers and classes; cell null (not classified) with the reason."""

    customer_id: int
    customer: str
    claims: int = Field(description="counted claims opened in the period")
    cost: Decimal = Field(description="their cost")
    value: float = Field(description="what ABC ranks: cost or claims")
    pct: float | None
    cumulative_pct: float | None
    abc: str | None
    months: int = Field(description="months of the period the customer was with us")
    mean: float | None
    stdev: float | None = Field(description="sample standard deviation of the monthly claims")
    cv: float | None
    xyz: str | None
    cell: str | None
    reason: str | None = Field(description="why the customer is not classified")
    monthly_claims: list[int] = Field(description="claims per month of the period, oldest first")


class CustomersRead(BaseModel):
    """GET /quality/customers: the matrix and the customers by ABC order."""

    basis: str
    rule: str
    a: float
    b: float
    x: float
    y: float
    months: int
    min_months: int
    period_start: date
    period_end: date = Field(description="first day after the period")
    month_labels: list[str]
    matrix: list[MatrixCell]
    rows: list[CustomerRow]
