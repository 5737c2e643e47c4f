"""Shapes of the SLA compliance API: the filters asked for and the figures overall, by stage, priority, team, week."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SlaQuery(BaseModel):
    """Which claims: registered in a period (default the last 90 days), optionally of one team, family, SKU,
    priority or channel; and the percentile method."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: str | None = Field(None, alias="from", max_length=32,
                                  description="first registration day, YYYY-MM-DD; default: 89 days before `to`")
    date_to: str | None = Field(None, alias="to", max_length=32, description="last registration day; default: today")
    team: str | None = Field(None, max_length=100, description="team name")
    family: str | None = Field(None, max_length=100, description="product family")
    sku: str | None = Field(None, max_length=100, description="product SKU")
    priority: str | None = Field(None, max_length=2, description="P1, P2, P3 or P4")
    channel: str | None = Field(None, max_length=16, description="desk, phone, email or web")
    method: Literal["linear", "nearest-rank"] = Field("linear", description="percentile method for median and p90")


class MeasureRead(BaseModel):
    """One measure over a group; times in business seconds; null (never NaN) when the group has none."""

    count: int = Field(description="first responses, resolution clocks or stage tasks measured")
    open: int = Field(description="of them still open: counted with their business time so far")
    breached: int = Field(description="over target (equal is met) or breached earlier in the cycle")
    share_breached: float | None = Field(description="breached / count")
    median_seconds: float | None
    p90_seconds: float | None


class StageRowRead(MeasureRead):
    """The stage tasks' clocks of one stage."""

    stage: str


class GroupNumbers(BaseModel):
    """A group's claims with its first-response and resolution figures (the MeasureRead fields, prefixed)."""

    claims: int
    first_response_count: int
    first_response_open: int
    first_response_breached: int
    first_response_share_breached: float | None
    first_response_median_seconds: float | None
    first_response_p90_seconds: float | None
    resolution_count: int
    resolution_open: int
    resolution_breached: int
    resolution_share_breached: float | None
    resolution_median_seconds: float | None
    resolution_p90_seconds: float | None


class PriorityRowRead(GroupNumbers):
    """The claims of one (current) priority."""

    priority: str


class TeamRowRead(GroupNumbers):
    """The claims of one team (null: no team)."""

    team: str | None


class WeekRowRead(GroupNumbers):
    """The claims registered in the week starting on `week` (a Monday); every week of the period, empty ones too."""

    week: str


class SlaReportRead(BaseModel):
    """GET /quality/sla: the filters applied, the moment running clocks were counted to, and the figures."""

    model_config = ConfigDict(populate_by_name=True)

    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    team: str | None
    family: str | None
    sku: str | None
    priority: str | None
    channel: str | None
    method: str = Field(description="linear (interpolation) or nearest-rank")
    now: str = Field(description="running clocks count up to this moment")
    timezone: str = Field(description="the time zone registration days are counted in")
    claims: int = Field(description="claims registered in the period, past draft and not cancelled")
    first_response: MeasureRead
    resolution: MeasureRead
    stages: list[StageRowRead]
    priorities: list[PriorityRowRead]
    teams: list[TeamRowRead]
    weeks: list[WeekRowRead]
