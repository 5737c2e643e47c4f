"""Shapes of the recall campaign API: starting a campaign, a customer's step or note, closing, and what is read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RecallCreate(BaseModel):
    """What to recall: a batch (number, product SKU when shared), a component lot (id, or number with supplier and
    part) or a filter (product SKU with a production date range, and/or batch numbers); and why."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["batch", "lot", "filter"] = Field(description="batch, lot or filter")
    reason: str = Field(description="why the units are recalled; required")
    title: str = Field("", description="a short title; made from the scope when empty")
    batch: str | None = Field(None, description="kind=batch: the batch number")
    product: str | None = Field(None, description="kind=batch: the product's SKU when the batch number is shared")
    lot_id: int | None = Field(None, ge=1, description="kind=lot: the component lot's id")
    lot_number: str | None = Field(None, description="kind=lot: the supplier's lot number")
    supplier: str | None = Field(None, description="kind=lot: the supplier, when lot numbers are shared")
    part: str | None = Field(None, description="kind=lot: the part, when lot numbers are shared")
    sku: str | None = Field(None, description="kind=filter: the product's SKU")
    produced_from: date | None = Field(None, description="kind=filter: first production day")
    produced_to: date | None = Field(None, description="kind=filter: last production day")
    batches: list[str] = Field(default_factory=list, description="kind=filter: batch numbers")


class RecallQuery(BaseModel):
    """Which campaigns to list."""

    state: Literal["open", "closed"] | None = Field(None, description="open or closed; both when left out")


class RecallPath(BaseModel):
    """A campaign in the URL."""

    number: str = Field(description="the campaign's number, RC-000001")


class RecallCustomerPath(BaseModel):
    """A customer of a campaign in the URL."""

    number: str = Field(description="the campaign's number, RC-000001")
    customer_id: int = Field(description="the customer's id")


class RecallCustomerUpdate(BaseModel):
    """A customer's next status (one step on, or one step back with a note) and/or a note."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["to_contact", "contacted", "units_returned", "closed"] | None = Field(
        None, description="the new status; leave out for a note alone")
    note: str = Field("", description="what was done or said; required when going back a step")


class RecallClose(BaseModel):
    """Why the campaign is closed."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="why; required")


class RecallProgress(BaseModel):
    """Customers by status and units returned of affected."""

    customers: dict[str, int] = Field(description="status -> customers in it")
    customers_total: int
    units_affected: int = Field(description="units out with customers when the campaign started")
    units_returned: int = Field(description="of those, units taken back since the campaign started")
    share_returned: float


class CampaignRead(BaseModel):
    """A campaign with its progress."""

    number: str
    title: str
    reason: str
    scope_kind: str = Field(description="batch, lot or filter")
    scope: dict[str, Any] = Field(description="what was asked")
    batches: list[str] = Field(description="numbers of the recalled batches")
    state: str = Field(description="open or closed")
    created_at: datetime
    created_by: str
    closed_at: datetime | None
    closed_reason: str
    closed_by: str
    progress: RecallProgress


class RecallList(BaseModel):
    """Campaigns, open ones first, newest first."""

    items: list[CampaignRead]


class RecallNoteRead(BaseModel):
    """A note or a status change on a customer (never edited)."""

    id: int
    author: str
    text: str
    status_from: str | None
    status_to: str | None
    created_at: datetime


class CampaignCustomerRead(BaseModel):
    """A customer of a campaign: contacts, status, units affected and returned, notes."""

    customer_id: int
    customer: str
    tax_id: str | None
    contact_name: str
    email: str
    phone: str
    address: str
    status: str
    units: int
    returned: int
    updated_at: datetime
    updated_by: str
    notes: list[RecallNoteRead] = Field(default_factory=list)


class RecallDetail(CampaignRead):
    """A campaign with its customers."""

    customers: list[CampaignCustomerRead]
