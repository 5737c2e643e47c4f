"""Shapes of the control reports' API: the day asked for and the daily registration report."""

from pydantic import BaseModel, Field


class RegistrationReportQuery(BaseModel):
    """Which day to report."""

    day: str | None = Field(None, max_length=32,
                            description="YYYY-MM-DD in the business calendar's time zone; default: today there")


class RegisteredCountRead(BaseModel):
    """Complaints one person registered through one channel that day."""

    user: str
    channel: str
    count: int


class ReportClaimRead(BaseModel):
    """A claim the report lists."""

    id: int
    number: str
    state: str
    channel: str
    customer: str | None
    user: str
    opened_at: str
    since: str = Field(description="when it was registered (own customer) or entered its state (stale)")
    hours_open: int = Field(description="hours since `since`")


class RegistrationReportRead(BaseModel):
    """GET /reports/registrations: registered per person and channel, own-customer confirmations, stale claims."""

    day: str
    timezone: str
    stale_hours: int
    from_: str = Field(alias="from")
    to: str
    total: int
    registered: list[RegisteredCountRead]
    own_customer: list[ReportClaimRead] = Field(description="registered by the customer's account manager, confirmed")
    stale: list[ReportClaimRead] = Field(description="still in draft or registered after the stale hours")
