"""Tables of the warranty domain: claims with their unit cases and timeline, test records, replacement links."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..columns import JsonType, utcnow
from .enums import ClaimState, DispositionState, Priority, UnitCaseState


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
    # What the claim cost us (repairs, parts); money is Numeric, never float.
    cost: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    # What the customer is charged when the claim is billed (the product's price), and when.
    billed_amount: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    billed_at: datetime | None = None
    opened_at: datetime = Field(default_factory=utcnow, index=True)
    closed_at: datetime | None = None
    # Indexed for the "my claims" filters (registered by me, assigned to me).
    author_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
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
    # The day after which a unit still expected becomes not_returned and its claim is billed; None: no deadline.
    return_due: date | None = Field(default=None, index=True)
    # The engineer who took the case into test, and when; two engineers cannot take the same case.
    engineer_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    taken_at: datetime | None = None
    # The verdict of the case's current (not superseded) test record.
    verdict: str | None = Field(default=None, sa_type=String(24))


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


class FailureCode(SQLModel, table=True):
    """One code of a failure-code list (symptom, mode, cause, location, action), managed by quality and admins."""

    __tablename__ = "failure_code"
    __table_args__ = (UniqueConstraint("list", "code", name="uq_failure_code_list_code"),)

    id: int | None = Field(default=None, primary_key=True)
    list: str = Field(sa_type=String(16), index=True)
    code: str = Field(sa_type=String(64))
    name: str = Field(sa_type=String(200))
    # Retired codes stay for the records that used them but are no longer offered.
    active: bool = True
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class TestProcedure(SQLModel, table=True):
    """One version of a product's test procedure: its ordered steps (pass/fail, or a measured value with limits)."""

    __tablename__ = "test_procedure"
    __table_args__ = (UniqueConstraint("product_id", "version", name="uq_test_procedure_product_version"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    version: int
    # [{"name", "kind": "pass_fail" | "measure", "low", "high", "unit"}], in the order the engineer runs them.
    steps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")


class TestRecord(SQLModel, table=True):
    """An engineer's test of a returned unit: procedure version, verdict and failure codes. Never edited: a correction
    is a new record that supersedes this one."""

    __tablename__ = "test_record"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="unit_case.id", index=True)
    procedure_id: int | None = Field(default=None, foreign_key="test_procedure.id")
    verdict: str = Field(sa_type=String(24))
    # Codes from the failure-code lists: symptom, failure mode, root-cause category, defect location, repair action.
    symptom: str = Field(default="", sa_type=String(64))
    failure_mode: str = Field(default="", sa_type=String(64))
    root_cause: str = Field(default="", sa_type=String(64))
    location: str = Field(default="", sa_type=String(64))
    action: str = Field(default="", sa_type=String(64))
    notes: str = ""
    # The record this one corrects; a record is superseded at most once.
    supersedes_id: int | None = Field(default=None, foreign_key="test_record.id", unique=True)
    tested_at: datetime = Field(default_factory=utcnow)
    engineer_id: int | None = Field(default=None, foreign_key="user_account.id")


class TestStepResult(SQLModel, table=True):
    """One step of a test record: the procedure step as it was, the value measured and pass/fail from its limits."""

    __tablename__ = "test_step_result"

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="test_record.id", index=True)
    position: int
    name: str = Field(sa_type=String(200))
    kind: str = Field(sa_type=String(16))
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str = Field(default="", sa_type=String(32))
    passed: bool


class DispositionRecord(SQLModel, table=True):
    """What happens to a tested unit: proposed, approved or rejected by quality when needed, then executed."""

    __tablename__ = "disposition"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="unit_case.id", index=True)
    kind: str = Field(sa_type=String(24))
    state: str = Field(default=DispositionState.PROPOSED, sa_type=String(16), index=True)
    # The unit's value as the proposer saw it: above the configured limit (or a scrap) quality must approve.
    value: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    needs_approval: bool = False
    notes: str = ""
    proposed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    proposed_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = None
    decision_reason: str = ""
    executed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    executed_at: datetime | None = None


class Comment(SQLModel, table=True):
    """A comment on a claim: internal, or meant for the customer. Never edited."""

    __tablename__ = "comment"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    body: str
    # "internal" (staff only) or "customer" (may be shown to or sent to the customer).
    visibility: str = Field(default="internal", sa_type=String(16))
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author: str = Field(default="", sa_type=String(100))
    at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """A file kept with a claim (and optionally its case or test record), stored under a random name."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="unit_case.id", index=True)
    test_record_id: int | None = Field(default=None, foreign_key="test_record.id", index=True)
    # The random name under the instance's attachment folder; never derived from what the uploader sent.
    stored_name: str = Field(sa_type=String(64), unique=True)
    filename: str = Field(sa_type=String(255))
    content_type: str = Field(sa_type=String(100))
    size: int
    sha256: str = Field(sa_type=String(64))
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author: str = Field(default="", sa_type=String(100))
    at: datetime = Field(default_factory=utcnow)


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
