"""Shapes of business calendars, teams and routing rules over the API: requests in, answers out."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..trace.schemas import Text, WholeNumber

Name = Text(length=100)
IsoDate = Text(length=10, description="YYYY-MM-DD")


class CalendarWrite(BaseModel):
    """POST /calendars (every field) and PATCH /calendars/{id} (only the fields to change)."""

    name: Name | None = None
    opens: Text(length=8, description="HH:MM") | None = None
    closes: Text(length=8, description="HH:MM") | None = None
    weekdays: list[WholeNumber(0, 6)] | None = Field(None, description="working weekdays, Monday 0")
    country: Text(length=8, description="ISO code whose public holidays are days off; empty: none") | None = None
    timezone: Text(length=64, description="IANA time zone such as Europe/Moscow") | None = None
    holidays: list[IsoDate] | None = Field(None, max_length=1000, description="the company's own days off")
    extra_days: list[IsoDate] | None = Field(None, max_length=1000, description="worked transfer days")
    is_default: bool | None = Field(None, description="make it the one default calendar")


class CalendarRead(BaseModel):
    """A business calendar."""

    id: int
    name: str
    opens: str
    closes: str
    weekdays: list[int]
    country: str | None
    timezone: str
    holidays: list[str]
    extra_days: list[str]
    is_default: bool


class CalendarsRead(BaseModel):
    """Every calendar, the default first."""

    calendars: list[CalendarRead]


class TeamCreate(BaseModel):
    """POST /teams."""

    name: Name
    supervisor: Text(length=64) | None = Field(None, description="user name of an active supervisor or admin")
    calendar: Name | None = Field(None, description="calendar name; none: the default calendar")


class TeamMemberChange(BaseModel):
    """POST /teams/{id}/members: add a member, or take one off with remove true."""

    username: Text(length=64)
    remove: bool = False


class TeamRead(BaseModel):
    """A team with its supervisor, calendar and members."""

    id: int
    name: str
    active: bool
    supervisor: str | None
    calendar: str | None
    members: list[str]


class TeamsRead(BaseModel):
    """Every team."""

    teams: list[TeamRead]


class RuleCreate(BaseModel):
    """POST /routing-rules: claims matching every given field go to the team."""

    team: Name = Field(description="an active team's name")
    product_family: Text(length=100) = Field("", description="a family products use; empty: any")
    channel: Text(length=16) = Field("", description="desk, phone, email or web; empty: any")
    customer: Text(length=200) = Field("", description="a customer's name; empty: any")
    position: WholeNumber(1, 100000) | None = Field(None, description="1 is tried first; none: last")


class RuleRead(BaseModel):
    """A routing rule."""

    id: int
    position: int
    team: str
    product_family: str
    channel: str
    customer_id: int | None


class RulesRead(BaseModel):
    """The routing rules in the order they are tried."""

    rules: list[RuleRead]
