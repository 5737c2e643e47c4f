"""Tables of the warranty domain: claims with their unit cases and timeline, test records, replacement links."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Index, Numeric, String, UniqueConstraint
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
    # Impact and urgency, each 1 (high) to 3 (low); the priority is sla.priority(impact, urgency) unless changed
    # with a reason.
    impact: int = 2
    urgency: int = 2
    # The team that owns the claim's stages (routing rules choose it at registration).
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    # The SLA cycle: 1 at registration, one more at every reopening.
    cycle: int = 1
    # A consumer-law deadline in calendar days that never pauses (None: no statutory clock).
    statutory_due_at: datetime | None = None
    # The registrar is the customer's account manager and confirmed registering it anyway.
    own_customer_confirmed: bool = False


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


class StoredFile(SQLModel):
    """The columns of a kept upload (attachments.keep_file): where it lies and what it is."""

    # The random name under the instance's attachment folder; never derived from what the uploader sent.
    stored_name: str = Field(sa_type=String(64), unique=True)
    filename: str = Field(sa_type=String(255))
    content_type: str = Field(sa_type=String(100))
    size: int
    sha256: str = Field(sa_type=String(64))


class Attachment(StoredFile, table=True):
    """A file kept with a claim (and optionally its case or test record), stored under a random name."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="unit_case.id", index=True)
    test_record_id: int | None = Field(default=None, foreign_key="test_record.id", index=True)
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


# ---------------------------------------------------------------------------------------------- stages and SLA


class BusinessCalendar(SQLModel, table=True):
    """Working hours, weekdays, holidays and time zone that SLA clocks count business time on."""

    __tablename__ = "business_calendar"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True)
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    # Working weekdays, Monday 0.
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], sa_column=Column(JsonType, nullable=False))
    # ISO 3166 code whose public holidays (the `holidays` package) are days off; None: only the company's own.
    country: str | None = Field(default=None, sa_type=String(8))
    timezone: str = Field(default="UTC", sa_type=String(64))
    # The company's own days off and worked transfer days (ISO dates).
    holidays: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    extra_days: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    # The calendar of teams without one of their own.
    is_default: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class Team(SQLModel, table=True):
    """A group that owns stage tasks, with the supervisor overdue stages escalate to."""

    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True)
    supervisor_id: int | None = Field(default=None, foreign_key="user_account.id")
    calendar_id: int | None = Field(default=None, foreign_key="business_calendar.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class TeamMember(SQLModel, table=True):
    """A user who works a team's tasks."""

    __tablename__ = "team_member"

    team_id: int = Field(foreign_key="team.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)


class RoutingRule(SQLModel, table=True):
    """Picks a claim's default team: the first rule by position whose set fields all match (empty matches any)."""

    __tablename__ = "routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    position: int = 0
    product_family: str = Field(default="", sa_type=String(100))
    channel: str = Field(default="", sa_type=String(16))
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    team_id: int = Field(foreign_key="team.id")
    created_at: datetime = Field(default_factory=utcnow)


class StageTask(SQLModel, table=True):
    """The work a claim's stage needs: a responsible user or team, a deadline and a priority; closed when the stage
    ends, and the next stage opens its own."""

    __tablename__ = "stage_task"
    __table_args__ = (Index("ix_stage_task_open_assignee", "assignee_id", "closed_at"),
                      Index("ix_stage_task_open_team", "team_id", "closed_at"))

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    stage: str = Field(sa_type=String(16))
    cycle: int = 1
    team_id: int | None = Field(default=None, foreign_key="team.id")
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id")
    priority: str = Field(default=Priority.P3, sa_type=String(2))
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class SlaClock(SQLModel, table=True):
    """An SLA clock of a claim (resolution) or of a stage task, persisted for the escalation pass and worklist.

    Business seconds already counted are kept in `elapsed_seconds`; a running clock also counts from
    `running_since`. `due_at` (when the target is reached if it keeps running) and `next_escalation_at` (when the
    next threshold is passed) are wall times recomputed at every change, so the pass and the worklist read an index
    instead of computing business time for every clock.
    """

    __tablename__ = "sla_clock"
    __table_args__ = (Index("ix_sla_clock_next_escalation", "next_escalation_at"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="stage_task.id", index=True)
    # "resolution" (the claim, registration to resolution) or "stage" (one stage task).
    kind: str = Field(sa_type=String(16))
    calendar_id: int | None = Field(default=None, foreign_key="business_calendar.id")
    target_seconds: float
    cycle: int = 1
    state: str = Field(default="running", sa_type=String(8))
    elapsed_seconds: float = 0.0
    running_since: datetime | None = None
    due_at: datetime | None = Field(default=None, index=True)
    breached: bool = False
    # The highest escalation threshold (75, 100, 150) already acted on in this cycle; 0: none.
    escalated: int = 0
    next_escalation_at: datetime | None = None
    started_at: datetime = Field(default_factory=utcnow)
    stopped_at: datetime | None = None


class Notification(SQLModel, table=True):
    """A message to a user, shown under the bell and mailed when the user has an address.

    An escalation is unique per clock, cycle, threshold and recipient, so two passes at once write it once; the
    mail is marked sent only after the SMTP server accepted it, and a pass retries the ones that failed.
    """

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("clock_id", "cycle", "threshold", "user_id", name="uq_notification_escalation"),
                      Index("ix_notification_user_unread", "user_id", "read_at"))

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    clock_id: int | None = Field(default=None, foreign_key="sla_clock.id")
    cycle: int | None = None
    threshold: int | None = None
    kind: str = Field(sa_type=String(24))
    subject: str = Field(sa_type=String(200))
    body: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    # "pending" (to be mailed), "sent", "none" (no address or mail not configured).
    mail_state: str = Field(default="pending", sa_type=String(8), index=True)
    mail_attempts: int = 0
    mail_error: str = ""
    # A pass that is mailing this notification holds it until then; another pass leaves it alone.
    mail_lease_until: datetime | None = None
    mailed_at: datetime | None = None


# ---------------------------------------------------------------------------------------------- knowledge base


class KnowledgeArticle(SQLModel, table=True):
    """A solution that worked, keyed by product family and symptom code; the text lives in its versions."""

    __tablename__ = "knowledge_article"
    __table_args__ = (Index("ix_knowledge_article_key", "product_family", "symptom"),)

    id: int | None = Field(default=None, primary_key=True)
    # Empty product family or symptom: the article applies to any.
    product_family: str = Field(default="", sa_type=String(100))
    symptom: str = Field(default="", sa_type=String(64))
    title: str = Field(sa_type=String(200))
    body: str = ""
    version: int = 1
    # Claims on which "this solved it" was marked; suggestions rank by it.
    successes: int = 0
    active: bool = True
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class KnowledgeVersion(SQLModel, table=True):
    """One saved version of an article's text; never edited."""

    __tablename__ = "knowledge_version"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_knowledge_version"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="knowledge_article.id", index=True)
    version: int
    title: str = Field(sa_type=String(200))
    body: str = ""
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author: str = Field(default="", sa_type=String(100))
    at: datetime = Field(default_factory=utcnow)


class KnowledgeFile(StoredFile, table=True):
    """A picture or file of an article, stored under a random name like claim attachments."""

    __tablename__ = "knowledge_file"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="knowledge_article.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)


class KnowledgeUse(SQLModel, table=True):
    """"This solved it": an article marked as the solution of a claim, counted once per claim."""

    __tablename__ = "knowledge_use"
    __table_args__ = (UniqueConstraint("article_id", "claim_id", name="uq_knowledge_use"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="knowledge_article.id", index=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)


# ---------------------------------------------------------------------------------------------- survey


class Survey(SQLModel, table=True):
    """The one-question survey sent when a claim closes: a signed link, answerable once, expiring.

    Only the SHA-256 of the link's token is stored.
    """

    __tablename__ = "survey"
    __table_args__ = (UniqueConstraint("claim_id", "cycle", name="uq_survey_claim_cycle"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    cycle: int = 1
    email: str = Field(default="", sa_type=String(200))
    token_hash: str = Field(sa_type=String(64), unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    # "pending", "sent", "none" (no address), as for notifications.
    mail_state: str = Field(default="pending", sa_type=String(8), index=True)
    mail_attempts: int = 0
    mail_error: str = ""
    mailed_at: datetime | None = None
    answered_at: datetime | None = None
    resolved: bool | None = None
    score: int | None = None
    comment: str = ""
