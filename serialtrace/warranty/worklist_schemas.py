"""Shapes of the worklist API: the query that picks and narrows a list, its ranked items and a team's counts."""

from pydantic import BaseModel, Field

from ..trace.schemas import Text
from .worklist import DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE, SEARCH_LENGTH


class WorklistQuery(BaseModel):
    """Whose list, what narrows it and which page."""

    user: Text(length=100) | None = Field(None,
                             description="another person's list (supervisors and admins); default: the caller's own")
    team: Text(length=100) | None = Field(None,
                             description="a team's board (its supervisor, supervisors, admins and its members)")
    stage: Text(length=16) | None = Field(None, description="triage, return, inspection, decision, fulfilment, "
                                                               "verification")
    priority: Text(length=2) | None = Field(None, description="P1 to P4")
    state: Text(length=24) | None = Field(None, description="the claim's state")
    breached: bool = Field(False, description="only breached tasks")
    q: Text(length=SEARCH_LENGTH) | None = Field(None, description="part of the claim number or customer name")
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="page size")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="rows to skip")


class WorklistItem(BaseModel):
    """One open stage task with its claim and its clock at the moment of the answer."""

    task_id: int
    claim_id: int
    number: str
    stage: str
    state: str
    priority: str
    assignee: str | None = Field(description="the person holding the task; none: the team's, anyone of it takes it")
    team: str | None
    opened_at: str = Field(description="when the stage task opened")
    claim_opened_at: str
    due_at: str | None = Field(description="when the target is reached if the clock keeps running; none when paused")
    clock_state: str = Field(description="running or paused")
    remaining_seconds: float = Field(description="business seconds before the target; negative once over it")
    breached: bool = Field(description="elapsed business time over the target now or earlier in this cycle")
    percent: float = Field(description="elapsed business time as a percentage of the target")
    customer: str | None
    product: str
    symptom: str


class WorklistCount(BaseModel):
    """A person's load on a team's board; user none counts the team's unassigned tasks."""

    user: str | None
    open: int
    overdue: int = Field(description="breached tasks")
    due_today: int = Field(description="not yet breached, due before midnight in the team calendar's time zone")


class WorklistRead(BaseModel):
    """GET /worklist: breached first, then by remaining business time, then priority (P1 first), then age."""

    items: list[WorklistItem]
    total: int
    limit: int
    offset: int
    counts: list[WorklistCount] | None = Field(None, description="per person, with a team")


class WorklistVersionRead(BaseModel):
    """A marker that changes when any worklist may have changed: poll it and reload the list when it differs."""

    version: str


def filters_of(query: WorklistQuery):  # noqa: ANN201 - the domain's Filters
    """The domain's filters from the query."""
    from .worklist import Filters

    return Filters(stage=query.stage or None, priority=query.priority or None, state=query.state or None,
                   breached_only=query.breached, search=query.q or "")
