"""Tables of the quality domain: recall campaigns with their units and customers, and 8D / CAPA records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..columns import JsonType, utcnow


class RecallCampaign(SQLModel, table=True):
    """A recall of the units of some batches (chosen by batch, component lot or filter), followed per customer."""

    __tablename__ = "recall_campaign"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_type=String(20), unique=True, index=True)
    title: str = Field(sa_type=String(200))
    reason: str = Field(default="", sa_type=String(2000))
    # batch, lot or filter, and what was chosen (batch ids, the lot, the filter's fields), kept as asked.
    scope_kind: str = Field(sa_type=String(16))
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    # open or closed
    state: str = Field(default="open", sa_type=String(16), index=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", sa_type=String(100))
    closed_at: datetime | None = None


class RecallUnit(SQLModel, table=True):
    """A unit a campaign recalls, the customer it went to, and when it came back under the recall."""

    __tablename__ = "recall_unit"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", name="uq_recall_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="recall_campaign.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    returned_at: datetime | None = None
    returned_by: str = Field(default="", sa_type=String(100))


class RecallCustomer(SQLModel, table=True):
    """A customer's progress in a campaign: to_contact, contacted, units_returned, closed."""

    __tablename__ = "recall_customer"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id", name="uq_recall_customer"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="recall_campaign.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(default="to_contact", sa_type=String(16))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(default="", sa_type=String(100))


class RecallNote(SQLModel, table=True):
    """An append-only note or status change on a campaign's customer (who, when, from and to which status)."""

    __tablename__ = "recall_note"

    id: int | None = Field(default=None, primary_key=True)
    recall_customer_id: int = Field(foreign_key="recall_customer.id", index=True)
    author: str = Field(default="", sa_type=String(100))
    text: str = Field(default="", sa_type=String(4000))
    status_from: str = Field(default="", sa_type=String(16))
    status_to: str = Field(default="", sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow)


class EightD(SQLModel, table=True):
    """An 8D / CAPA record: a problem worked through the disciplines D1-D8, linked to claims, batches and lots."""

    __tablename__ = "eight_d"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_type=String(20), unique=True, index=True)
    title: str = Field(sa_type=String(200))
    # open or closed
    state: str = Field(default="open", sa_type=String(16), index=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", sa_type=String(100))
    closed_at: datetime | None = None
    # Optimistic locking: an edit names the version it read (a stale edit is a 409).
    version: int = 1


class EightDStep(SQLModel, table=True):
    """One discipline (D1-D8) of an 8D: owner, due date, what was found or done, and when it was completed."""

    __tablename__ = "eight_d_step"
    __table_args__ = (UniqueConstraint("eight_d_id", "discipline", name="uq_eight_d_step"),)

    id: int | None = Field(default=None, primary_key=True)
    eight_d_id: int = Field(foreign_key="eight_d.id", index=True)
    discipline: str = Field(sa_type=String(2))
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    due_on: date | None = None
    text: str = Field(default="", sa_type=String(8000))
    done_at: datetime | None = None


class EightDLink(SQLModel, table=True):
    """An 8D's link to a claim, a batch or a component lot (kind and the row's id)."""

    __tablename__ = "eight_d_link"
    __table_args__ = (UniqueConstraint("eight_d_id", "kind", "target_id", name="uq_eight_d_link"),
                      Index("ix_eight_d_link_target", "kind", "target_id"))

    id: int | None = Field(default=None, primary_key=True)
    eight_d_id: int = Field(foreign_key="eight_d.id", index=True)
    # claim, batch or lot
    kind: str = Field(sa_type=String(8))
    target_id: int
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", sa_type=String(100))
