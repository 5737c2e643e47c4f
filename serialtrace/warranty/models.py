"""Tables of the warranty domain: claims with their unit cases and timeline, test records, replacement links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from ..columns import utcnow
from .enums import ClaimState, Priority, UnitCaseState


class Claim(SQLModel, table=True):
    """A customer's complaint about a unit, moving through the claim state machine."""

    __tablename__ = "claim"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_type=String(20), unique=True, index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    state: str = Field(default=ClaimState.REGISTERED, sa_type=String(24), index=True)
    symptom: str = Field(default="", sa_type=String(64))
    description: str = ""
    priority: str = Field(default=Priority.P3, sa_type=String(2))
    cost: float = 0.0
    opened_at: datetime = Field(default_factory=utcnow, index=True)
    closed_at: datetime | None = None
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id")
    # How the complaint came in: desk, phone, email, web.
    channel: str = Field(default="desk", sa_type=String(16))


class UnitCase(SQLModel, table=True):
    """One returned serial of a claim, moving through the unit-case state machine."""

    __tablename__ = "unit_case"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    state: str = Field(default=UnitCaseState.EXPECTED, sa_type=String(24), index=True)
    # The serial the desk expects back; a different one arriving makes the case wrong_unit.
    expected_serial: str = Field(sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow)
    # When the expected unit came back: the test queue's age runs from here.
    received_at: datetime | None = None


class ClaimEvent(SQLModel, table=True):
    """Append-only timeline row of a claim: a state change, a comment or an assignment, with author and time."""

    __tablename__ = "claim_event"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    kind: str = Field(sa_type=String(16))
    from_state: str | None = Field(default=None, sa_type=String(24))
    to_state: str | None = Field(default=None, sa_type=String(24))
    reason: str = ""
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author: str = Field(default="", sa_type=String(100))
    at: datetime = Field(default_factory=utcnow)


class TestRecord(SQLModel, table=True):
    """An engineer's test of a returned unit: verdict and failure codes."""

    __tablename__ = "test_record"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    verdict: str = Field(sa_type=String(24))
    failure_mode: str = Field(default="", sa_type=String(64))
    root_cause: str = Field(default="", sa_type=String(64))
    notes: str = ""
    tested_at: datetime = Field(default_factory=utcnow)
    engineer_id: int | None = Field(default=None, foreign_key="user_account.id")


class Replacement(SQLModel, table=True):
    """Link from a returned unit to the unit handed out in its place."""

    __tablename__ = "replacement"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    # Not unique: a unit may be replaced, or handed out as a replacement, more than once over its life; never
    # twice at once, which the unit's status and warranty.service.replace_unit keep.
    returned_unit_id: int = Field(foreign_key="unit.id", index=True)
    replacement_unit_id: int = Field(foreign_key="unit.id", index=True)
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id")
    created_at: datetime = Field(default_factory=utcnow)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
