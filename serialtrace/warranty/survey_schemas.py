"""The customer surveys' shapes over the API: the summary for the quality pages."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class SurveySummaryQuery(BaseModel):
    """GET /surveys/summary: optionally only the surveys of claims closed since a day."""

    since: date | None = Field(None, description="count surveys made on or after this day (business time zone)")


class SurveySummaryRead(BaseModel):
    """What customers said about closed claims."""

    sent: int = Field(description="surveys mailed")
    answered: int
    resolved_share: float | None = Field(description="share of answers saying the problem was resolved, 0 to 1")
    average_score: float | None = Field(description="average of the scores given, 1 to 5")
