"""Shapes of the claim-rate drill-downs: a batch or a component lot with its claims, failure-mode Paretos, customers
and the batches beside it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BatchPath(BaseModel):
    """A batch by id."""

    batch_id: int = Field(description="the batch's id (as in GET /quality/batches)")


class LotPath(BaseModel):
    """A component lot by id."""

    lot_id: int = Field(description="the component lot's id (as in GET /quality/component-lots)")


class RateTotals(BaseModel):
    """Units shipped, claimed units (past draft, not cancelled, each unit once), the rate (null: none shipped)."""

    units: int
    claims: int
    rate: float | None
    ci_low: float | None = Field(description="Wilson 95 % interval, low end")
    ci_high: float | None = Field(description="Wilson 95 % interval, high end")


class DrillClaimRead(BaseModel):
    """A counted claim with the verdict and failure mode of its current test record (null: not yet tested)."""

    claim: str = Field(description="claim number")
    serial: str
    batch: str
    sku: str
    customer: str
    state: str
    symptom: str
    verdict: str | None
    failure_mode: str | None
    cost: str = Field(description="decimal amount as a string")
    opened_on: str = Field(description="day opened (UTC), YYYY-MM-DD")
    opened_at: str = Field(description="when opened, ISO 8601")


class ParetoCountRead(BaseModel):
    """A failure mode by claimed units; code "(no failure mode)" and "(not yet tested)" are the buckets."""

    code: str
    name: str
    count: int
    pct: float
    cumulative: int
    cumulative_pct: float
    vital: bool = Field(description="one of the vital few: the cumulative share before it is under 80 %")


class ParetoCostRead(BaseModel):
    """A failure mode by claim cost (decimal strings)."""

    code: str
    name: str
    cost: str
    pct: float
    cumulative: str
    cumulative_pct: float
    vital: bool


class DrillCustomerRead(BaseModel):
    """A customer: the units first shipped to it and how many of them were claimed."""

    customer_id: int
    customer: str
    units: int
    claims: int
    rate: float


class SiblingRead(BaseModel):
    """Another batch the component lot went into."""

    batch_id: int
    batch: str
    sku: str
    status: str
    units: int
    claims: int
    rate: float | None


class DrillLotRead(BaseModel):
    """One of the batch's component lots with the other batches it went into, highest rate first."""

    lot_id: int
    supplier: str
    part: str
    lot_number: str
    status: str
    siblings: list[SiblingRead]


class DrillBatchRowRead(RateTotals):
    """A batch a component lot went into; held_by_lot: the lot's hold put it on hold."""

    batch_id: int
    batch: str
    sku: str
    status: str
    held_by_lot: bool


class DrillCommon(RateTotals):
    """What both drill-downs carry: the claims, the Paretos and the customers."""

    claim_list: list[DrillClaimRead]
    pareto_count: list[ParetoCountRead]
    pareto_cost: list[ParetoCostRead]
    customers: list[DrillCustomerRead]


class BatchDrilldownRead(DrillCommon):
    """GET /quality/batches/{batch_id}: the batch's numbers and its component lots' other batches."""

    batch_id: int
    batch: str
    sku: str
    produced_on: str
    status: str
    component_lots: list[DrillLotRead]


class LotDrilldownRead(DrillCommon):
    """GET /quality/component-lots/{lot_id}: the lot's numbers over every batch it went into, and those batches."""

    lot_id: int
    supplier: str
    part: str
    lot_number: str
    status: str
    hold_reason: str
    held_at: str | None
    held_by: str
    batches: list[DrillBatchRowRead]
