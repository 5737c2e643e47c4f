"""Shapes of the notification and escalation API: a notification, a user's list with its unread count, a pass's
summary."""

from pydantic import BaseModel, Field


class EscalationRun(BaseModel):
    """A request to run one pass now: an empty object (the pass always runs at the server's present time)."""

    model_config = {"extra": "forbid"}


class NotificationPath(BaseModel):
    """A notification in the URL."""

    id: int = Field(description="the notification's id")


class NotificationRead(BaseModel):
    """One notification of the caller."""

    id: int
    kind: str = Field(description="escalation, ...")
    subject: str
    body: str
    claim_id: int | None
    threshold: int | None = Field(description="for an escalation: 75, 100 or 150 (% of the SLA target)")
    created_at: str
    read: bool
    read_at: str | None
    mail_state: str = Field(description="pending (to be mailed, or retried), sent, none (no address or mail off)")


class NotificationList(BaseModel):
    """The caller's notifications, newest first, and how many are unread."""

    unread: int
    items: list[NotificationRead]


class EscalationNotice(BaseModel):
    """A notification a pass wrote or mailed."""

    id: int | None
    claim: str | None
    claim_id: int | None
    threshold: int | None
    user: str
    mail: str = Field(description="sent, pending (failed: retried next pass) or none")
    error: str


class EscalationSummary(BaseModel):
    """What one escalation pass did."""

    now: str
    clocks: int = Field(description="clocks due at the moment of the pass")
    escalated: int = Field(description="clocks that passed a threshold")
    mailed: int
    notifications: list[EscalationNotice] = Field(description="written by this pass")
    retried: list[EscalationNotice] = Field(description="earlier notifications whose mail this pass retried")
