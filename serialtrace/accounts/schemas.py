"""Shapes of the accounts API: the security log's filter and its rows."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .enums import SecurityEventKind

PAGE_MAX = 500


class SecurityEventQuery(BaseModel):
    """Filters and paging of the security log (dates are UTC calendar days, both inclusive)."""

    model_config = ConfigDict(extra="forbid")

    kind: SecurityEventKind | None = Field(None, description="one kind of event; none for all")
    user: str = Field("", max_length=64, description="a user name: as typed at sign-in, or the one who acted")
    since: date | None = Field(None, description="from this day (UTC), YYYY-MM-DD")
    until: date | None = Field(None, description="up to and including this day (UTC), YYYY-MM-DD")
    page: int = Field(1, ge=1, le=1_000_000, description="page number, from 1; newest events first")
    per_page: int = Field(100, ge=1, le=PAGE_MAX, description=f"events per page (at most {PAGE_MAX})")

    @model_validator(mode="after")
    def _range(self) -> SecurityEventQuery:
        if self.since and self.until and self.until < self.since:
            raise ValueError("until is before since")
        return self


class SecurityEventRead(BaseModel):
    """One security event; details never hold a password or a token secret."""

    id: int
    at: str = Field(description="when, ISO 8601 in UTC")
    kind: SecurityEventKind
    username: str = Field(description="the user name as typed (sign-in) or the user concerned")
    user_id: int | None
    actor: str = Field(description="who did it when someone else did (an admin, console)")
    address: str = Field(description="the client's IP address")
    token_id: int | None
    token_prefix: str = Field(description="the first characters of the API token concerned")
    details: dict[str, Any]


class SecurityEventPage(BaseModel):
    """A page of the security log, newest first."""

    items: list[SecurityEventRead]
    page: int
    per_page: int
    total: int
