"""The daily control report of registration: who registered how many complaints through which channel, the
account managers' confirmed registrations of their own customers, and complaints left in draft or registered."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import DateTime, func, select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..columns import utcnow
from ..errors import ValidationError
from ..i18n import _l
from ..trace.models import Customer
from ..trace.policy import parse_date
from .calendars import default_calendar_row
from .enums import ClaimState
from .models import Claim, ClaimEvent

# Claims still waiting for someone to start on them: the report lists those in that state too long.
WAITING_STATES = (str(ClaimState.DRAFT), str(ClaimState.REGISTERED))
REGISTERED = str(ClaimState.REGISTERED)
# Most rows each list of the report holds: a control report, not an export of every claim.
MAX_ROWS = 1000


def report_timezone(session: Session, fallback: str) -> str:
    """The time zone registration days are counted in: the default business calendar's, else `fallback`."""
    row = default_calendar_row(session)
    return row.timezone if row is not None and row.timezone else fallback


def parse_day(text: str | None, *, default: date) -> date:
    """A report day (YYYY-MM-DD or DD.MM.YYYY; None or empty: `default`); anything else is 422 naming `day`."""
    return parse_date(text, field="day", what="day") if text else default


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC start and end of `day` as the clocks in `timezone` show it (a DST day is 23 or 25 hours long)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_l("%(zone)r is not a time zone", zone=timezone), details={"field": "timezone"}) from None
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _who(user_id: int | None, name: str | None) -> str:
    return name or ("system" if user_id is None else f"#{user_id}")


def registration_report(session: Session, day: date, *, timezone: str, stale_hours: int,
                        now: datetime | None = None) -> dict[str, Any]:
    """Claims registered on `day` (in `timezone`) per registrar and channel, the own-customer registrations of that
    day, and claims still in draft or registered that entered that state more than `stale_hours` before `now`."""
    start, end = day_bounds(day, timezone)
    now = now or utcnow()
    # A claim counts on the day it entered registered (at the desk at once, or later from its draft), for whoever
    # took that step: its timeline row says when and by whom. Drafts, kept or cancelled, never entered it.
    entered = (select(ClaimEvent.claim_id, ClaimEvent.at, ClaimEvent.author_id)
               .where(ClaimEvent.kind == "state_change", ClaimEvent.to_state == REGISTERED,
                      ClaimEvent.at >= start, ClaimEvent.at < end).subquery())
    counts = session.execute(
        select(entered.c.author_id, User.username, Claim.channel, func.count(Claim.id).label("n"))
        .join(Claim, Claim.id == entered.c.claim_id).outerjoin(User, User.id == entered.c.author_id)
        .group_by(entered.c.author_id, User.username, Claim.channel).order_by(User.username, Claim.channel)).all()
    rows = [{"user": _who(r.author_id, r.username), "channel": r.channel, "count": r.n} for r in counts]
    own = session.execute(
        select(Claim.id, Claim.number, Claim.state, Claim.channel, Claim.opened_at, entered.c.at.label("since"),
               entered.c.author_id, User.username, Customer.name.label("customer"))
        .join(entered, entered.c.claim_id == Claim.id).outerjoin(User, User.id == entered.c.author_id)
        .outerjoin(Customer, Customer.id == Claim.customer_id).where(Claim.own_customer_confirmed.is_(True))
        .order_by(entered.c.at, Claim.id).limit(MAX_ROWS)).all()
    # A waiting claim ages from when it entered its state (a draft registered an hour ago is not three days old);
    # no draft or registered state ever comes back, so the latest such row is that moment.
    moved = (select(ClaimEvent.claim_id, ClaimEvent.to_state, func.max(ClaimEvent.at).label("at"))
             .where(ClaimEvent.kind == "state_change", ClaimEvent.to_state.in_(WAITING_STATES))
             .group_by(ClaimEvent.claim_id, ClaimEvent.to_state).subquery())
    # Claims older than their timeline rows age from their opening.
    since = func.coalesce(moved.c.at, Claim.opened_at, type_=DateTime)
    stale = session.execute(
        select(Claim.id, Claim.number, Claim.state, Claim.channel, Claim.opened_at, since.label("since"),
               Claim.author_id, User.username, Customer.name.label("customer"))
        .outerjoin(moved, (moved.c.claim_id == Claim.id) & (moved.c.to_state == Claim.state))
        .outerjoin(User, User.id == Claim.author_id).outerjoin(Customer, Customer.id == Claim.customer_id)
        .where(Claim.state.in_(WAITING_STATES), since < now - timedelta(hours=stale_hours))
        .order_by(since, Claim.id).limit(MAX_ROWS)).all()

    def claim_row(r: Any) -> dict[str, Any]:
        opened, entered_at = _utc(r.opened_at), _utc(r.since)
        return {"id": r.id, "number": r.number, "state": r.state, "channel": r.channel, "customer": r.customer,
                "user": _who(r.author_id, r.username), "opened_at": opened.isoformat(),
                "since": entered_at.isoformat(), "hours_open": int((now - entered_at).total_seconds() // 3600)}

    return {"day": day.isoformat(), "timezone": timezone, "stale_hours": stale_hours,
            "from": start.isoformat(), "to": end.isoformat(), "total": sum(r["count"] for r in rows),
            "registered": rows, "own_customer": [claim_row(r) for r in own],
            "stale": [claim_row(r) for r in stale]}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# One CSV table for the three parts of the report: `section` says which part a row belongs to.
CSV_COLUMNS = ("section", "day", "user", "channel", "count", "number", "state", "customer", "opened_at",
               "since", "hours_open")


def csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as CSV rows: registered counts, then the own-customer registrations, then the stale claims."""
    day = report["day"]
    rows = [{"section": "registered", "day": day, **r} for r in report["registered"]]
    for section in ("own_customer", "stale"):
        rows += [{"section": section, "day": day, **{k: r[k] for k in CSV_COLUMNS if k in r}}
                 for r in report[section]]
    return rows


def daily_registration_report(session: Session, day_text: str | None, *, fallback_timezone: str,
                              stale_hours: int) -> dict[str, Any]:
    """The report of `day_text` (default: today where the business calendar is), as pages, API and CLI give it."""
    timezone = report_timezone(session, fallback_timezone)
    day_bounds(date(2000, 1, 1), timezone)  # a bad stored zone is refused before it is used
    today = utcnow().astimezone(ZoneInfo(timezone)).date()
    return registration_report(session, parse_day(day_text, default=today), timezone=timezone,
                               stale_hours=stale_hours)
