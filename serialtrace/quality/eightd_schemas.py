"""Shapes of the 8D API: open a record, edit or complete a step, link or unlink, close; the record as read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..trace.schemas import BusinessDate, Text, WholeNumber
from .models import EightD, EightDStep

Version = WholeNumber(1, description="the record's version you read (GET); an older one is a 409")


class EightDPath(BaseModel):
    """An 8D in the URL."""

    number: str = Field(description="its number, 8D-000001")


class EightDStepPath(EightDPath):
    """One step of an 8D in the URL."""

    discipline: str = Field(description="D1 to D8")


class EightDQuery(BaseModel):
    """Filters of the list."""

    state: Literal["open", "closed", ""] = Field("", description="open or closed; empty for both")
    overdue: bool = Field(False, description="only records with a step past its due date")
    q: Text(length=200, description="part of the number or title") = ""  # type: ignore[valid-type]


class EightDCreate(BaseModel):
    """A new 8D: its title and what it is about (each target must exist; one named twice is linked once)."""

    model_config = ConfigDict(extra="forbid")

    title: Text(EightD.__table__.c.title, description="what the problem is")  # type: ignore[valid-type]
    claims: list[Text(length=20)] = Field([], max_length=1000,  # type: ignore[valid-type]
                                          description="claim numbers (CL-000001)")
    batches: list[WholeNumber(1)] = Field([], max_length=1000, description="batch ids")  # type: ignore[valid-type]
    lots: list[WholeNumber(1)] = Field([], max_length=1000,  # type: ignore[valid-type]
                                       description="component lot ids")


class EightDStepChange(BaseModel):
    """Change a step (only the fields sent) and/or complete it; complete needs text and an owner, and D1 to the
    step before done."""

    model_config = ConfigDict(extra="forbid")

    version: Version  # type: ignore[valid-type]
    owner: Text(length=64, description="an active user's username; empty for nobody") | None = None  # type: ignore[valid-type]
    due_on: BusinessDate | None = None
    text: Text(EightDStep.__table__.c.text, controls=True,  # type: ignore[valid-type]
               description="what the step found or did") | None = None
    complete: bool = Field(False, description="mark the step done after the change")


class EightDLinkChange(BaseModel):
    """Link a claim (by number), a batch or a component lot (by id), or take the link off with remove."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["claim", "batch", "lot"]
    claim: Text(length=20, description="the claim number, for kind claim") | None = None  # type: ignore[valid-type]
    id: WholeNumber(1, description="the batch's or lot's id, for kind batch or lot") | None = None  # type: ignore[valid-type]
    remove: bool = Field(False, description="take the link off instead")
    version: Version | None = None  # type: ignore[valid-type]


class EightDClose(BaseModel):
    """Close the record (D8 must be completed); version optional."""

    model_config = ConfigDict(extra="forbid")

    version: Version | None = None  # type: ignore[valid-type]


class EightDStepRead(BaseModel):
    """One discipline."""

    discipline: str
    name: str = Field(description="the discipline's name in the caller's language")
    owner: str | None
    due_on: date | None
    text: str
    done_at: datetime | None
    overdue: bool = Field(description="not done and past its due date")


class EightDLinkRead(BaseModel):
    """A linked claim, batch or component lot."""

    kind: str
    id: int
    label: str = Field(description="claim number, batch number or lot number")


class EightDHead(BaseModel):
    """What the list and the record both show of an 8D."""

    number: str
    title: str
    state: str
    version: int
    created_at: datetime
    created_by: str
    closed_at: datetime | None


class EightDSummaryRead(EightDHead):
    """A record in the list."""

    done: int = Field(description="steps completed")
    current: str | None = Field(description="the first step not completed")
    overdue: list[str] = Field(description="steps past their due date")


class EightDListRead(BaseModel):
    """GET /eightd: open records first, then newest first."""

    eightds: list[EightDSummaryRead]


class EightDRead(EightDHead):
    """One record with its steps and links."""

    steps: list[EightDStepRead]
    links: list[EightDLinkRead]
