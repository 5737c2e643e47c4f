"""The ranked worklist: open stage tasks of a person (theirs and their teams' unassigned ones) or of a team, breached
first, then by remaining business time, then priority, then age; per-person counts for a team's supervisor.

The ranking runs in SQL on the stored clock columns so it scales to tens of thousands of open tasks; business time
is computed exactly (stages.view_clock) only for the rows of the page asked for.

Why `due_at` ranks by remaining business time: a running clock's `due_at` is the moment its remaining business
seconds run out (stages.schedule), and on one calendar adding business time is monotonic, so an earlier `due_at`
means less business time left. (Tasks of teams on different calendars rank by their real deadline, which is what a
person working both lists needs.) A paused clock has no `due_at`; those rank after the running ones by the business
time left before their target (target - elapsed), which a paused clock keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from ..accounts.enums import Role
from ..accounts.models import User
from ..errors import NotFound, PermissionDenied, ValidationError
from ..i18n import _l
from ..trace.models import Customer, Product, Unit
from . import calendars, stages
from .enums import ClaimState, Priority, Stage
from .models import BusinessCalendar, Claim, ClaimEvent, SlaClock, StageTask, Team, TeamMember

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SEARCH_LENGTH = 100
# Deeper than anyone pages; keeps the OFFSET a number every database takes.
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class Filters:
    """What narrows a worklist; None or empty means any."""

    stage: str | None = None
    priority: str | None = None
    state: str | None = None
    breached_only: bool = False
    search: str = ""

    def checked(self) -> Filters:
        """The filters, or a ValidationError naming the field that holds an unknown value."""
        for name, allowed in (("stage", Stage), ("priority", Priority), ("state", ClaimState)):
            value = getattr(self, name)
            if value and value not in {str(v) for v in allowed}:
                raise ValidationError(_l("unknown %(field)s %(value)r", field=name, value=value),
                                      details={"field": name})
        if len(self.search) > SEARCH_LENGTH:
            raise ValidationError(_l("the search has at most %(limit)s characters", limit=SEARCH_LENGTH),
                                  details={"field": "q"})
        return self


@dataclass(frozen=True)
class Scope:
    """Whose tasks: a person's (their own and their teams' unassigned ones) or a whole team's."""

    user_id: int | None = None
    team_ids: tuple[int, ...] = ()
    team_id: int | None = None

    def condition(self) -> ColumnElement[bool]:
        """The WHERE clause choosing the scope's open tasks."""
        if self.team_id is not None:
            return StageTask.team_id == self.team_id
        mine = StageTask.assignee_id == self.user_id
        if not self.team_ids:
            return mine
        return or_(mine, and_(StageTask.assignee_id.is_(None), StageTask.team_id.in_(self.team_ids)))


def person_scope(session: Session, user: User) -> Scope:
    """The user's own tasks and their teams' tasks nobody has taken yet."""
    return Scope(user_id=user.id, team_ids=tuple(stages.team_ids_of(session, user.id)))


def team_by_name(session: Session, name: str) -> Team:
    """The team called `name`, or 404 naming the field."""
    team = session.scalars(select(Team).where(Team.name == name)).first()
    if team is None:
        raise NotFound(_l("no team %(name)r", name=name), details={"field": "team"})
    return team


def user_by_name(session: Session, name: str) -> User:
    """The user called `name`, or 404 naming the field."""
    user = session.scalars(select(User).where(User.username == name)).first()
    if user is None:
        raise NotFound(_l("no user %(name)r", name=name), details={"field": "user"})
    return user


# Who sees every person's list and every team's board; a team's own supervisor and members see its board too.
OVERSEERS = (Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class Chosen:
    """The list a viewer asked for: a person's or a team's."""

    scope: Scope
    user: User | None = None
    team: Team | None = None


def choose(session: Session, viewer: User, *, user: str | None = None, team: str | None = None) -> Chosen:
    """The list `viewer` may see: their own by default, another person's for supervisors, a team's board for
    supervisors and the team's members; PermissionDenied otherwise."""
    if team:
        row = team_by_name(session, team)
        member = viewer.id in set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == row.id)))
        if not (viewer.role in OVERSEERS or row.supervisor_id == viewer.id or member):
            raise PermissionDenied(_l("only the team's members and supervisors see its board"))
        return Chosen(scope=Scope(team_id=row.id), team=row)
    if user and user != viewer.username:
        if viewer.role not in OVERSEERS:
            raise PermissionDenied(_l("only supervisors see another person's worklist"))
        person = user_by_name(session, user)
        return Chosen(scope=person_scope(session, person), user=person)
    return Chosen(scope=person_scope(session, viewer), user=viewer)


def boards_for(session: Session, viewer: User) -> list[str]:
    """The names of the active teams whose board `viewer` may open: every team for supervisors, else their own."""
    query = select(Team.name).where(Team.active.is_(True)).order_by(Team.name)
    if viewer.role not in OVERSEERS:
        mine = select(TeamMember.team_id).where(TeamMember.user_id == viewer.id)
        query = query.where(or_(Team.id.in_(mine), Team.supervisor_id == viewer.id))
    return list(session.scalars(query))


def _overdue(now: datetime) -> ColumnElement[bool]:
    """Breached at `now`: a breach recorded at a change, or a running clock past its deadline."""
    return or_(SlaClock.breached.is_(True), and_(SlaClock.due_at.is_not(None), SlaClock.due_at <= now))


def _base(scope: Scope, filters: Filters, now: datetime) -> Select:
    """Open tasks of the scope joined to their clock and claim, filtered; the caller picks the columns."""
    query = (select(StageTask.id).join(SlaClock, SlaClock.task_id == StageTask.id)
             .where(StageTask.closed_at.is_(None), scope.condition()))
    text = filters.search.strip()
    if filters.state or text:
        # The claim only when a filter reads it: the ranking itself needs the task and its clock alone.
        query = query.join(Claim, Claim.id == StageTask.claim_id)
    if filters.stage:
        query = query.where(StageTask.stage == filters.stage)
    if filters.priority:
        query = query.where(StageTask.priority == filters.priority)
    if filters.state:
        query = query.where(Claim.state == filters.state)
    if filters.breached_only:
        query = query.where(_overdue(now))
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = (query.outerjoin(Customer, Customer.id == Claim.customer_id)
                 .where(or_(func.lower(Claim.number).like(pattern, escape="\\"),
                            func.lower(Customer.name).like(pattern, escape="\\"))))
    return query


def _ranking(now: datetime) -> tuple[ColumnElement[Any], ...]:
    """ORDER BY: breached first, running clocks by deadline, paused ones by business time left, priority, age (the
    task's, then the claim's)."""
    return (case((_overdue(now), 0), else_=1),
            case((SlaClock.due_at.is_(None), 1), else_=0),
            SlaClock.due_at,
            SlaClock.target_seconds - SlaClock.elapsed_seconds,
            StageTask.priority,
            StageTask.opened_at,
            StageTask.claim_id,  # claims are numbered as they are registered: the older claim first
            StageTask.id)


@dataclass
class Page:
    """One page of a worklist: its items and how many there are in all."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    counts: list[dict[str, Any]] | None = field(default=None)


def _check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(_l("limit must be 1 to %(max)s", max=MAX_PAGE_SIZE), details={"field": "limit"})
    if isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(_l("offset must be 0 to %(max)s", max=MAX_OFFSET), details={"field": "offset"})


def worklist(session: Session, scope: Scope, *, now: datetime, filters: Filters = Filters(),
             limit: int = DEFAULT_PAGE_SIZE, offset: int = 0, total: int | None = None) -> Page:
    """One ranked page of the scope's open tasks, with the exact clock figures of those rows (`total`: the count
    when the caller already knows it)."""
    filters.checked()
    _check_page(limit, offset)
    base = _base(scope, filters, now)
    if total is None:
        total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    ids = list(session.scalars(base.order_by(*_ranking(now)).limit(limit).offset(offset)))
    return Page(items=_items(session, ids, now), total=total, limit=limit, offset=offset)


def _items(session: Session, task_ids: list[int], now: datetime) -> list[dict[str, Any]]:
    """The page's rows in ranked order: claim, task, owner and the clock's figures at `now`."""
    if not task_ids:
        return []
    rows = session.execute(
        select(StageTask, SlaClock, Claim, User.username, Team.name, Customer.name, Product.name)
        .join(SlaClock, SlaClock.task_id == StageTask.id).join(Claim, Claim.id == StageTask.claim_id)
        .join(Unit, Unit.id == Claim.unit_id).join(Product, Product.id == Unit.product_id)
        .outerjoin(Customer, Customer.id == Claim.customer_id)
        .outerjoin(User, User.id == StageTask.assignee_id).outerjoin(Team, Team.id == StageTask.team_id)
        .where(StageTask.id.in_(task_ids))).all()
    by_id = {row[0].id: row for row in rows}
    out = []
    for task_id in task_ids:
        task, clock, claim, assignee, team, customer, product = by_id[task_id]
        view = stages.view_clock(session, clock, now, stage=task.stage)
        out.append({"task_id": task.id, "claim_id": claim.id, "number": claim.number, "stage": task.stage,
                    "state": claim.state, "priority": task.priority, "assignee": assignee, "team": team,
                    "opened_at": task.opened_at.isoformat(), "claim_opened_at": claim.opened_at.isoformat(),
                    "due_at": _shown(clock.due_at),
                    "clock_state": clock.state, "remaining_seconds": round(view.remaining_seconds, 1),
                    "breached": view.breached, "percent": round(view.percent, 1), "customer": customer,
                    "product": product, "symptom": claim.symptom})
    return out


def read(session: Session, viewer: User, *, now: datetime, user: str | None = None, team: str | None = None,
         filters: Filters = Filters(), limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> tuple[Chosen, Page]:
    """The list `viewer` may see (see choose), one ranked page of it, and with a team each person's counts."""
    chosen = choose(session, viewer, user=user, team=team)
    counts = team_counts(session, chosen.team, now=now) if chosen.team is not None else None
    # An unfiltered board's total is the sum of its people's open tasks: one scan of the team's tasks fewer.
    known = sum(c["open"] for c in counts) if counts is not None and filters == Filters() else None
    page = worklist(session, chosen.scope, now=now, filters=filters, limit=limit, offset=offset, total=known)
    page.counts = counts
    return chosen, page


def _today_bounds(session: Session, team: Team, now: datetime) -> tuple[datetime, datetime]:
    """The start and end of `now`'s day in the team calendar's time zone, as moments."""
    row = session.get(BusinessCalendar, team.calendar_id) if team.calendar_id is not None else None
    row = row or calendars.default_calendar_row(session)
    zone = ZoneInfo(row.timezone if row is not None else "UTC")
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # The next local midnight, found from the date so a daylight-saving day stays one calendar day.
    end = datetime.combine(start.date() + timedelta(days=1), start.time(), tzinfo=zone)
    return start, end


def team_counts(session: Session, team: Team, *, now: datetime) -> list[dict[str, Any]]:
    """Per person of the team (members, anyone holding its tasks, and nobody for its unassigned ones): open tasks,
    overdue ones (breached) and those due later today in the team calendar's time zone."""
    start, end = _today_bounds(session, team, now)
    overdue = _overdue(now)
    today = and_(~overdue, SlaClock.due_at >= start, SlaClock.due_at < end)
    rows = session.execute(
        select(StageTask.assignee_id, func.count(),
               func.sum(case((overdue, 1), else_=0)), func.sum(case((today, 1), else_=0)))
        .join(SlaClock, SlaClock.task_id == StageTask.id)
        .where(StageTask.closed_at.is_(None), StageTask.team_id == team.id)
        .group_by(StageTask.assignee_id)).all()
    figures = {user_id: (int(n), int(late or 0), int(due or 0)) for user_id, n, late, due in rows}
    members = set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
    people = {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(members | {
        k for k in figures if k is not None})))}
    out = [{"user": people[uid], "open": n, "overdue": late, "due_today": due}
           for uid, (n, late, due) in ((uid, figures.get(uid, (0, 0, 0))) for uid in people)]
    out.sort(key=lambda r: (-r["overdue"], -r["due_today"], -r["open"], r["user"]))
    if None in figures:
        n, late, due = figures[None]
        out.append({"user": None, "open": n, "overdue": late, "due_today": due})
    return out


def version(session: Session) -> str:
    """A cheap marker that changes whenever a worklist may have: a claim event (every state change, reassignment
    and priority change writes one) or a stage task opened. Two primary-key maxima, read from their indexes."""
    event = session.execute(select(func.coalesce(func.max(ClaimEvent.id), 0))).scalar_one()
    task = session.execute(select(func.coalesce(func.max(StageTask.id), 0))).scalar_one()
    return f"{event}-{task}"


def _shown(due_at: datetime | None) -> str | None:
    """The deadline as people see it (stages.shown_due), in ISO 8601."""
    shown = stages.shown_due(due_at)
    return shown.isoformat() if shown is not None else None
