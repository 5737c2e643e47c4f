"""Business calendars from the database as pure sla.Calendar values: the default one, a team's, a claim's."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import sla
from .models import BusinessCalendar, Claim, Team


def to_calendar(row: BusinessCalendar) -> sla.Calendar:
    """The pure calendar of a stored row (stored rows were checked when saved)."""
    return sla.Calendar(opens=row.opens, closes=row.closes, weekdays=frozenset(row.weekdays),
                        holidays=frozenset(date.fromisoformat(d) for d in row.holidays),
                        extra_days=frozenset(date.fromisoformat(d) for d in row.extra_days),
                        timezone=row.timezone, country=row.country)


def default_calendar_row(session: Session) -> BusinessCalendar | None:
    """The calendar marked default (the migration seeds one), else the first."""
    return session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.is_default.desc(),
                                                             BusinessCalendar.id).limit(1)).first()


def calendar_row_for(session: Session, claim: Claim) -> BusinessCalendar | None:
    """The calendar a claim's clocks count on: its team's, else the default."""
    if claim.team_id is not None:
        team = session.get(Team, claim.team_id)
        if team is not None and team.calendar_id is not None:
            row = session.get(BusinessCalendar, team.calendar_id)
            if row is not None:
                return row
    return default_calendar_row(session)


def calendar_by_id(session: Session, calendar_id: int | None) -> sla.Calendar:
    """The pure calendar of a clock's calendar id (the default when None or gone; a standard week without any)."""
    row = session.get(BusinessCalendar, calendar_id) if calendar_id is not None else None
    row = row or default_calendar_row(session)
    return to_calendar(row) if row is not None else sla.Calendar.build()
