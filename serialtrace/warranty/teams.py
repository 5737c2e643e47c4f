"""Business calendars, teams with supervisors and members, routing rules: the setup the SLA clocks and routing read.

Saving a calendar (or making another the default) moves the running clocks counting on it in the same
transaction: the time they counted stays as the old calendar counted it, their deadlines follow the new one. A
team's new calendar applies to the clocks its claims start from then on. Flush only; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import holidays as holiday_data
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts.enums import Role
from ..accounts.models import User
from ..columns import utcnow
from ..errors import Conflict, NotFound, ValidationError
from ..i18n import _l
from ..trace.models import Customer, Product
from ..trace.policy import MAX_INT
from . import calendars, sla, stages
from .models import BusinessCalendar, RoutingRule, SlaClock, Team, TeamMember
from .service import CHANNELS

NAME_MAX = 100
FAMILY_MAX = 100
# Company days off or worked transfer days one calendar may list.
DATES_MAX = 1000
# Days the calendar preview shows.
PREVIEW_DAYS = 10
# Running clocks loaded and moved at a time when their calendar changes.
CLOCK_BATCH = 1000
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR.value, Role.ADMIN.value})


# ---------------------------------------------------------------------------------------------- values


def _name(value: str, field: str = "name") -> str:
    name = (value or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError(_l("a name is required (at most %(n)s characters)", n=NAME_MAX),
                              details={"field": field})
    return name


def parse_time(value: time | str, field: str) -> time:
    """A time of day, or HH:MM text; anything else refused naming `field`."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = (value or "").strip()
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise ValidationError(_l("%(field)s must be a time of day as HH:MM, not %(value)r", field=field,
                                 value=text), details={"field": field}) from None
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


def parse_dates(values: Iterable[str | date], field: str) -> list[str]:
    """ISO dates (YYYY-MM-DD), sorted without repeats; blank entries skipped, a bad one refused naming `field`."""
    out: set[date] = set()
    for value in values:
        if isinstance(value, date):
            out.add(value)
            continue
        text = (value or "").strip()
        if not text:
            continue
        try:
            if len(text) != 10:
                raise ValueError(text)
            out.add(date.fromisoformat(text))
        except ValueError:
            raise ValidationError(_l("%(field)s: %(value)r is not a date as YYYY-MM-DD", field=field, value=text),
                                  details={"field": field}) from None
    if len(out) > DATES_MAX:
        raise ValidationError(_l("%(field)s lists at most %(n)s dates", field=field, n=DATES_MAX),
                              details={"field": field})
    return [d.isoformat() for d in sorted(out)]


def _country(value: str | None) -> str | None:
    text = (value or "").strip().upper()
    return text or None


def _by_id(session: Session, model: Any, key: int) -> Any:
    """The row with this id; None for an id no row can have (PostgreSQL would refuse the parameter instead)."""
    return session.get(model, key) if 0 < key <= MAX_INT else None


# ---------------------------------------------------------------------------------------------- calendars


def list_calendars(session: Session) -> list[BusinessCalendar]:
    """Every calendar, the default first, then by name."""
    return list(session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.is_default.desc(),
                                                                  BusinessCalendar.name)))


def get_calendar(session: Session, key: int | str) -> BusinessCalendar:
    """The calendar with this id or name, else NotFound naming the calendar."""
    row = (_by_id(session, BusinessCalendar, key) if isinstance(key, int)
           else session.scalars(select(BusinessCalendar).where(BusinessCalendar.name == key)).first())
    if row is None:
        raise NotFound(_l("no calendar %(key)s", key=key), details={"field": "calendar"})
    return row


@dataclass(frozen=True)
class CalendarFields:
    """A calendar's fields as given by a form, the API or the console."""

    name: str
    opens: time | str = time(9, 0)
    closes: time | str = time(18, 0)
    weekdays: Iterable[int] = (0, 1, 2, 3, 4)
    country: str | None = None
    timezone: str = "UTC"
    holidays: Iterable[str | date] = ()
    extra_days: Iterable[str | date] = ()
    is_default: bool = False


def _checked(fields: CalendarFields) -> dict[str, Any]:
    """The stored values of `fields`, every one checked (sla.Calendar.build has the calendar's own rules)."""
    values = {"name": _name(fields.name), "opens": parse_time(fields.opens, "opens"),
              "closes": parse_time(fields.closes, "closes"), "country": _country(fields.country),
              "timezone": (fields.timezone or "").strip()}
    weekdays = list(fields.weekdays)
    if not weekdays:
        raise ValidationError(_l("choose at least one working weekday"), details={"field": "weekdays"})
    values["holidays"] = parse_dates(fields.holidays, "holidays")
    values["extra_days"] = parse_dates(fields.extra_days, "extra_days")
    built = sla.Calendar.build(opens=values["opens"], closes=values["closes"], weekdays=weekdays,
                               timezone=values["timezone"], country=values["country"])
    values["weekdays"] = sorted(built.weekdays)
    return values


def _unique_name(session: Session, model: type[BusinessCalendar] | type[Team], name: str, own_id: int | None) -> None:
    other = session.scalars(select(model).where(model.name == name)).first()
    if other is not None and other.id != own_id:
        raise Conflict(_l("the name %(name)r is taken", name=name), details={"field": "name"})


def _recount(session: Session, calendar_id: int | None, old: sla.Calendar, new: sla.Calendar) -> None:
    """Move the running clocks counting on calendar `calendar_id` (None: the default) from `old` to `new` now."""
    if old == new:
        return
    now = utcnow()
    counts_on = SlaClock.calendar_id.is_(None) if calendar_id is None else SlaClock.calendar_id == calendar_id
    last = 0
    while True:  # in batches by id: tens of thousands of clocks, never one query per clock
        batch = list(session.scalars(select(SlaClock).where(counts_on, SlaClock.state == stages.RUNNING,
                                                            SlaClock.id > last)
                                     .order_by(SlaClock.id).limit(CLOCK_BATCH)))
        if not batch:
            return
        stages.recalendar(batch, old, new, now)
        session.flush()
        last = batch[-1].id


def _make_default(session: Session, row: BusinessCalendar) -> None:
    """`row` becomes the one default: every other calendar stops being it, in the same transaction."""
    session.execute(update(BusinessCalendar).where(BusinessCalendar.id != row.id).values(is_default=False))
    row.is_default = True


def create_calendar(session: Session, fields: CalendarFields) -> BusinessCalendar:
    """A new calendar; as the default, the previous default stops being it. Flushes."""
    values = _checked(fields)
    _unique_name(session, BusinessCalendar, values["name"], None)
    default_before = calendars.calendar_by_id(session, None)
    row = BusinessCalendar(**values, is_default=False)
    session.add(row)
    session.flush()
    has_default = session.scalar(select(func.count()).select_from(BusinessCalendar)
                                 .where(BusinessCalendar.is_default.is_(True)))
    if fields.is_default or not has_default:
        _make_default(session, row)
        session.flush()
        _recount(session, None, default_before, calendars.to_calendar(row))
    session.flush()
    return row


def update_calendar(session: Session, row: BusinessCalendar, fields: CalendarFields) -> dict[str, Any]:
    """Change a calendar, its running clocks moved onto it; the changed fields as {name: [before, after]}.

    The default stays the default until another one is made it: there is always exactly one."""
    values = _checked(fields)
    _unique_name(session, BusinessCalendar, values["name"], row.id)
    if row.is_default and not fields.is_default:
        raise ValidationError(_l("a calendar stops being the default only when another is made the default"),
                              details={"field": "is_default"})
    before_row, default_before = calendars.to_calendar(row), calendars.calendar_by_id(session, None)
    was_default = row.is_default
    changed: dict[str, Any] = {}
    for key, value in values.items():
        before = getattr(row, key)
        if before != value:
            changed[key] = [str(before) if isinstance(before, time) else before,
                            str(value) if isinstance(value, time) else value]
            setattr(row, key, value)
    if fields.is_default and not row.is_default:
        _make_default(session, row)
        changed["is_default"] = [False, True]
    if changed:
        row.updated_at = utcnow()
    session.flush()
    if changed:
        _recount(session, row.id, before_row, calendars.to_calendar(row))
        if was_default or row.is_default:  # clocks without a calendar of their own count on the default
            _recount(session, None, default_before, calendars.to_calendar(row))
    return changed


def delete_calendar(session: Session, row: BusinessCalendar) -> None:
    """Delete a calendar no team and no clock uses, and that is not the default. Flushes."""
    if row.is_default:
        raise Conflict(_l("the default calendar cannot be deleted; make another the default first"),
                       details={"field": "calendar"})
    teams = session.scalar(select(func.count()).select_from(Team).where(Team.calendar_id == row.id))
    clocks = session.scalar(select(func.count()).select_from(SlaClock).where(SlaClock.calendar_id == row.id))
    if teams or clocks:
        raise Conflict(_l("the calendar %(name)s is in use (%(teams)s teams, %(clocks)s clocks)", name=row.name,
                          teams=teams, clocks=clocks), details={"field": "calendar"})
    session.delete(row)
    session.flush()


@dataclass(frozen=True)
class Day:
    """A day of a calendar preview: whether it is worked and, for a day off, why."""

    day: date
    working: bool
    reason: str


def preview(row: BusinessCalendar, first: date, days: int = PREVIEW_DAYS) -> list[Day]:
    """`days` days from `first`: worked or not, with the public holiday's name or the company's reason."""
    cal = calendars.to_calendar(row)
    last = first + timedelta(days=days - 1)
    public: dict[date, str] = {}
    if cal.country:
        public = dict(holiday_data.country_holidays(cal.country, years=range(first.year, last.year + 1)).items())
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day in cal.extra_days:
            out.append(Day(day, True, str(_l("worked transfer day"))))
        elif day in cal.holidays:
            out.append(Day(day, False, str(_l("company day off"))))
        elif day in public:
            out.append(Day(day, False, public[day]))
        elif day.weekday() not in cal.weekdays:
            out.append(Day(day, False, str(_l("weekend"))))
        else:
            out.append(Day(day, True, ""))
    return out


def business_hours(row: BusinessCalendar, start: str, end: str) -> float:
    """Working hours between two wall-clock moments of the calendar (YYYY-MM-DDTHH:MM), each bad one named."""
    moments = []
    for field, text in (("from", start), ("to", end)):
        try:
            moments.append(datetime.fromisoformat((text or "").strip()).replace(tzinfo=None))
        except ValueError:
            raise ValidationError(_l("%(field)s must be a date and time as YYYY-MM-DDTHH:MM, not %(value)r",
                                     field=field, value=text), details={"field": field}) from None
    if moments[1] < moments[0]:
        raise ValidationError(_l("the end is before the start"), details={"field": "to"})
    return calendars.to_calendar(row).business_seconds(moments[0], moments[1]) / 3600


# ---------------------------------------------------------------------------------------------- teams


def list_teams(session: Session) -> list[Team]:
    """Every team, active first, then by name."""
    return list(session.scalars(select(Team).order_by(Team.active.desc(), Team.name)))


def get_team(session: Session, key: int | str, field: str = "team") -> Team:
    """The team with this id or name, else NotFound naming `field`."""
    row = (_by_id(session, Team, key) if isinstance(key, int)
           else session.scalars(select(Team).where(Team.name == key)).first())
    if row is None:
        raise NotFound(_l("no team %(key)s", key=key), details={"field": field})
    return row


def _active_user(session: Session, username: str, field: str) -> User:
    user = session.scalars(select(User).where(User.username == (username or "").strip())).first()
    if user is None or not user.active:
        raise ValidationError(_l("%(name)r is not an active user", name=username), details={"field": field})
    return user


def _supervisor(session: Session, username: str | None) -> int | None:
    if not (username or "").strip():
        return None
    user = _active_user(session, username or "", "supervisor")
    if user.role not in SUPERVISOR_ROLES:
        raise ValidationError(_l("the supervisor must be an active supervisor or admin; %(name)s is %(role)s",
                                 name=user.username, role=user.role), details={"field": "supervisor"})
    return user.id


def _calendar_id(session: Session, key: int | str | None) -> int | None:
    if key is None or key == "":
        return None
    try:
        return get_calendar(session, key).id
    except NotFound as exc:
        raise ValidationError(exc.message, details={"field": "calendar"}) from None


def create_team(session: Session, *, name: str, supervisor: str | None = None,
                calendar: int | str | None = None) -> Team:
    """A new active team, with its supervisor (username) and calendar (id or name; None: the default). Flushes."""
    name = _name(name)
    _unique_name(session, Team, name, None)
    team = Team(name=name, supervisor_id=_supervisor(session, supervisor), calendar_id=_calendar_id(session, calendar))
    session.add(team)
    session.flush()
    return team


def rename_team(session: Session, team: Team, name: str) -> None:
    """Give a team another name."""
    name = _name(name)
    _unique_name(session, Team, name, team.id)
    team.name = name
    session.flush()


def set_active(session: Session, team: Team, active: bool) -> None:
    """Deactivate a team (routing skips its rules; its open tasks stay with it) or reactivate it."""
    team.active = active
    session.flush()


def set_supervisor(session: Session, team: Team, username: str | None) -> None:
    """The team's supervisor (an active supervisor or admin), or none."""
    team.supervisor_id = _supervisor(session, username)
    session.flush()


def set_calendar(session: Session, team: Team, calendar: int | str | None) -> None:
    """The team's calendar (None: the default); its clocks follow it from their next change."""
    team.calendar_id = _calendar_id(session, calendar)
    session.flush()


def members(session: Session, team: Team) -> list[User]:
    """The team's members by name."""
    return list(session.scalars(select(User).join(TeamMember, TeamMember.user_id == User.id)
                                .where(TeamMember.team_id == team.id).order_by(User.username)))


def add_member(session: Session, team: Team, username: str) -> User:
    """Make an active user a member (already one: nothing changes)."""
    user = _active_user(session, username, "user")
    if session.get(TeamMember, (team.id, user.id)) is None:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
        session.flush()
    return user


def remove_member(session: Session, team: Team, username: str) -> User:
    """Take a member off the team; someone who is not one is refused naming the user."""
    user = session.scalars(select(User).where(User.username == (username or "").strip())).first()
    row = session.get(TeamMember, (team.id, user.id)) if user is not None else None
    if user is None or row is None:
        raise ValidationError(_l("%(name)r is not a member of %(team)s", name=username, team=team.name),
                              details={"field": "user"})
    session.delete(row)
    session.flush()
    return user


# ---------------------------------------------------------------------------------------------- routing rules


def list_rules(session: Session) -> list[RoutingRule]:
    """The routing rules in the order they are tried."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def product_families(session: Session) -> list[str]:
    """The product families products use."""
    return list(session.scalars(select(Product.family).where(Product.family != "").distinct()
                                .order_by(Product.family)))


def customer_named(session: Session, name: str) -> int:
    """The id of the one customer called `name`, else refused naming the customer."""
    ids = list(session.scalars(select(Customer.id).where(Customer.name == (name or "").strip()).limit(2)))
    if len(ids) != 1:
        raise ValidationError(_l("no single customer is called %(name)r", name=name) if ids
                              else _l("no customer %(name)r", name=name), details={"field": "customer"})
    return ids[0]


def _renumber(session: Session, rules: list[RoutingRule]) -> None:
    for position, rule in enumerate(rules, start=1):
        rule.position = position
    session.flush()


def add_rule(session: Session, *, team: int | str, product_family: str = "", channel: str = "",
             customer_id: int | None = None, position: int | None = None) -> RoutingRule:
    """A rule sending matching claims to an active team, tried at `position` (1 first; None: last). Flushes."""
    try:
        target = get_team(session, team)
    except NotFound as exc:
        raise ValidationError(exc.message, details={"field": "team"}) from None
    if not target.active:
        raise ValidationError(_l("the team %(name)s is inactive", name=target.name), details={"field": "team"})
    family = (product_family or "").strip()
    if family and family not in product_families(session):
        raise ValidationError(_l("no product has the family %(family)r", family=family),
                              details={"field": "product_family"})
    channel = (channel or "").strip()
    if channel and channel not in CHANNELS:
        raise ValidationError(_l("unknown channel %(channel)r; use one of %(allowed)s", channel=channel,
                                 allowed=", ".join(CHANNELS)), details={"field": "channel"})
    if customer_id is not None and _by_id(session, Customer, customer_id) is None:
        raise ValidationError(_l("no customer %(id)s", id=customer_id), details={"field": "customer"})
    rules = list_rules(session)
    if position is not None and not 1 <= position <= len(rules) + 1:
        raise ValidationError(_l("the position is 1 to %(n)s", n=len(rules) + 1), details={"field": "position"})
    rule = RoutingRule(team_id=target.id, product_family=family, channel=channel, customer_id=customer_id)
    session.add(rule)
    rules.insert(len(rules) if position is None else position - 1, rule)
    _renumber(session, rules)
    return rule


def get_rule(session: Session, rule_id: int) -> RoutingRule:
    """The routing rule with this id, else NotFound."""
    rule = _by_id(session, RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_l("no routing rule %(id)s", id=rule_id), details={"field": "rule"})
    return rule


def delete_rule(session: Session, rule_id: int) -> RoutingRule:
    """Delete a rule; the others close up."""
    rule = get_rule(session, rule_id)
    session.delete(rule)
    session.flush()
    _renumber(session, list_rules(session))
    return rule


def move_rule(session: Session, rule_id: int, offset: int) -> None:
    """Move a rule up (-1) or down (+1) the order; at either end it stays."""
    rule = get_rule(session, rule_id)
    rules = list_rules(session)
    index = rules.index(rule)
    target = min(max(index + offset, 0), len(rules) - 1)
    rules.insert(target, rules.pop(index))
    _renumber(session, rules)
