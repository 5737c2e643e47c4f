"""Stage tasks and SLA clocks of claims: opened, paused, stopped and re-targeted as a claim moves; routing to a
team; priority changes and reassignment with a reason. Flushes only; the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.enums import Role
from ..accounts.models import User
from ..columns import utcnow
from ..errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from ..i18n import _l
from ..trace.models import Product, Unit
from ..trace.service import Author, author_fields
from . import calendars, policy, sla
from .enums import ClaimState, ClockKind, Stage
from .models import Claim, ClaimEvent, RoutingRule, SlaClock, StageTask, Team, TeamMember

RUNNING, PAUSED, STOPPED = (str(s) for s in sla.ClockState)
# Deadlines are stored as the first moment a clock is over its mark (equal is met): a millisecond of business time
# past it. A target that runs out at closing time is then due at the next opening, so "due_at <= now" is exactly
# "breached" for the worklist, and the escalation pass never wakes up for a threshold not yet passed.
PAST = 0.001


def shown_due(due_at: datetime | None) -> datetime | None:
    """The deadline people see: the stored first-moment-over less its millisecond (the target's own moment, or the
    next opening when the target ran out at closing time)."""
    return due_at - timedelta(seconds=PAST) if due_at is not None else None


# ---------------------------------------------------------------------------------------------- clock rows


def _fold(clock: SlaClock, calendar: sla.Calendar, now: datetime) -> None:
    """Count a running clock's business time up to `now` into elapsed_seconds; a breach reached stays."""
    if clock.state == RUNNING and clock.running_since is not None:
        start = clock.running_since
        if now > start:
            clock.elapsed_seconds += calendar.business_seconds(start, now)
        clock.running_since = now
    if clock.elapsed_seconds > clock.target_seconds:
        clock.breached = True


def elapsed_at(clock: SlaClock, calendar: sla.Calendar, now: datetime) -> float:
    """Business seconds the clock has counted in its cycle up to `now`."""
    spent = clock.elapsed_seconds
    if clock.state == RUNNING and clock.running_since is not None and now > clock.running_since:
        spent += calendar.business_seconds(clock.running_since, now)
    return spent


def _next_threshold(clock: SlaClock) -> int | None:
    """The first escalation threshold (percent) above the one already acted on, or None after the last."""
    return next((pct for pct in sla.ESCALATION_THRESHOLDS if pct > clock.escalated), None)


def schedule(clock: SlaClock, calendar: sla.Calendar, now: datetime) -> None:
    """Recompute due_at and next_escalation_at after a change: where the escalation pass and the worklist look."""
    threshold = _next_threshold(clock)
    if clock.state == RUNNING and clock.running_since is not None:
        left = clock.target_seconds - clock.elapsed_seconds
        clock.due_at = (calendar.add_business_seconds(clock.running_since, left + PAST) if left >= 0
                        else clock.running_since)
        if threshold is None:
            clock.next_escalation_at = None
        else:
            to_go = threshold / 100 * clock.target_seconds - clock.elapsed_seconds
            clock.next_escalation_at = (calendar.add_business_seconds(clock.running_since, to_go + PAST)
                                        if to_go >= 0 else clock.running_since)
        return
    clock.due_at = None
    # A paused clock that passed a threshold before it paused still gets that notice; a stopped one never.
    passed = (threshold is not None and clock.state == PAUSED
              and clock.elapsed_seconds * 100 > threshold * clock.target_seconds)
    clock.next_escalation_at = now if passed else None


def recalendar(clocks: Iterable[SlaClock], old: sla.Calendar, new: sla.Calendar, now: datetime) -> None:
    """Move running clocks onto an edited calendar at `now`: the time counted so far stays as the old calendar
    counted it, the rest of the target and the deadlines follow the new one."""
    for clock in clocks:
        if clock.state == RUNNING:
            _fold(clock, old, now)
            schedule(clock, new, now)


def start_clock(session: Session, claim: Claim, *, kind: ClockKind, target: float, now: datetime,
                task: StageTask | None = None, paused: bool = False) -> SlaClock:
    """A new clock of `claim` (and `task`) in the claim's current cycle, running from `now` unless `paused`."""
    row = calendars.calendar_row_for(session, claim)
    clock = SlaClock(claim_id=claim.id, task_id=task.id if task is not None else None, kind=str(kind),
                     calendar_id=row.id if row is not None else None, target_seconds=target, cycle=claim.cycle,
                     state=PAUSED if paused else RUNNING, running_since=None if paused else now, started_at=now)
    schedule(clock, calendars.calendar_by_id(session, clock.calendar_id), now)
    session.add(clock)
    return clock


def pause_clock(clock: SlaClock, calendar: sla.Calendar, now: datetime) -> None:
    """Stop counting while waiting on someone outside; the time spent and a breach stay."""
    if clock.state != RUNNING:
        return
    _fold(clock, calendar, now)
    clock.state, clock.running_since = PAUSED, None
    schedule(clock, calendar, now)


def resume_clock(clock: SlaClock, calendar: sla.Calendar, now: datetime) -> None:
    """Count again from `now`."""
    if clock.state != PAUSED:
        return
    clock.state, clock.running_since = RUNNING, now
    schedule(clock, calendar, now)


def stop_clock(clock: SlaClock, calendar: sla.Calendar, now: datetime) -> None:
    """The clock's condition is met: it counts no more in this cycle."""
    if clock.state == STOPPED:
        return
    _fold(clock, calendar, now)
    clock.state, clock.running_since, clock.stopped_at = STOPPED, None, now
    schedule(clock, calendar, now)


def retarget_clock(clock: SlaClock, target: float, calendar: sla.Calendar, now: datetime) -> None:
    """A new target (the priority changed): elapsed time kept, a breach of the old target stays."""
    _fold(clock, calendar, now)
    clock.target_seconds = target
    if clock.elapsed_seconds > target:
        clock.breached = True  # over the new target already: breached, and it stays for the cycle
    schedule(clock, calendar, now)


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ClockView:
    """A clock as pages and the API show it at a moment."""

    kind: str
    stage: str | None
    state: str
    target_seconds: float
    elapsed_seconds: float
    remaining_seconds: float
    breached: bool
    percent: float
    due_at: datetime | None
    cycle: int


def view_clock(session: Session, clock: SlaClock, now: datetime, *, stage: str | None = None) -> ClockView:
    """The clock's figures at `now`."""
    spent = elapsed_at(clock, calendars.calendar_by_id(session, clock.calendar_id), now)
    return ClockView(kind=clock.kind, stage=stage, state=clock.state, target_seconds=clock.target_seconds,
                     elapsed_seconds=spent, remaining_seconds=clock.target_seconds - spent,
                     breached=clock.breached or spent > clock.target_seconds,
                     percent=100 * spent / clock.target_seconds, due_at=shown_due(clock.due_at), cycle=clock.cycle)


def open_task(session: Session, claim_id: int) -> StageTask | None:
    """The claim's open stage task, if any."""
    return session.scalars(select(StageTask).where(StageTask.claim_id == claim_id, StageTask.closed_at.is_(None))
                           .order_by(StageTask.id.desc()).limit(1)).first()


def claim_clocks(session: Session, claim: Claim) -> list[SlaClock]:
    """The clocks of the claim's current cycle: resolution first, then the stage clocks in order."""
    return list(session.scalars(select(SlaClock).where(SlaClock.claim_id == claim.id, SlaClock.cycle == claim.cycle)
                                .order_by(SlaClock.kind != ClockKind.RESOLUTION, SlaClock.id)))


def _live_clocks(session: Session, claim: Claim) -> list[SlaClock]:
    """The clocks of the claim that still count or may count again (not stopped)."""
    return list(session.scalars(select(SlaClock).where(SlaClock.claim_id == claim.id,
                                                       SlaClock.state != STOPPED)))


# ---------------------------------------------------------------------------------------------- routing


def route_team(session: Session, claim: Claim) -> int | None:
    """The team of the first routing rule (by position) matching the claim's product family, channel and customer."""
    family = session.execute(select(Product.family).join(Unit, Unit.product_id == Product.id)
                             .where(Unit.id == claim.unit_id)).scalar_one_or_none() or ""
    rules = session.scalars(select(RoutingRule).join(Team, Team.id == RoutingRule.team_id)
                            .where(Team.active.is_(True)).order_by(RoutingRule.position, RoutingRule.id))
    for rule in rules:
        if rule.product_family and rule.product_family != family:
            continue
        if rule.channel and rule.channel != claim.channel:
            continue
        if rule.customer_id is not None and rule.customer_id != claim.customer_id:
            continue
        return rule.team_id
    return None


# ---------------------------------------------------------------------------------------------- claim hooks


def _open_stage(session: Session, claim: Claim, stage: Stage, now: datetime, *, paused: bool) -> StageTask:
    """Open the stage's task (owned by the claim's assignee and team) and start its clock."""
    task = StageTask(claim_id=claim.id, stage=str(stage), cycle=claim.cycle, team_id=claim.team_id,
                     assignee_id=claim.assignee_id, priority=claim.priority, opened_at=now)
    session.add(task)
    session.flush()
    start_clock(session, claim, kind=ClockKind.STAGE, target=policy.stage_target(stage, claim.priority), now=now,
                task=task, paused=paused)
    return task


def _close_task(session: Session, task: StageTask, now: datetime) -> None:
    """Close a stage task and stop its clock."""
    task.closed_at = now
    for clock in session.scalars(select(SlaClock).where(SlaClock.task_id == task.id)):
        stop_clock(clock, calendars.calendar_by_id(session, clock.calendar_id), now)


def on_registered(session: Session, claim: Claim) -> None:
    """A new claim: its team from the routing rules, its priority from impact x urgency, the resolution clock and
    the first stage's task (none for a draft)."""
    now = utcnow()
    claim.priority = str(sla.priority(claim.impact, claim.urgency))
    if claim.team_id is None:
        claim.team_id = route_team(session, claim)
    session.flush()
    state = ClaimState(claim.state)
    if state is ClaimState.DRAFT:
        return
    _begin_cycle(session, claim, state, now)


def _begin_cycle(session: Session, claim: Claim, state: ClaimState, now: datetime) -> None:
    """Start the cycle's resolution clock and the stage task of `state`."""
    start_clock(session, claim, kind=ClockKind.RESOLUTION, target=policy.resolution_target(claim.priority), now=now,
                paused=state in policy.RESOLUTION_PAUSED)
    stage = policy.stage_of(state)
    if stage is not None:
        _open_stage(session, claim, stage, now, paused=state in policy.STAGE_PAUSED)


def on_state_change(session: Session, claim: Claim, before: str, after: str) -> None:
    """Follow a claim's state change with its tasks and clocks: close the finished stage's task and open the next,
    pause in waiting states and resume after, stop the resolution clock on its condition, start a new cycle on
    reopening."""
    now = utcnow()
    old, new = ClaimState(before), ClaimState(after)
    if old is ClaimState.DRAFT:
        if new not in policy.FINISHED_STATES:  # a cancelled draft never started its clocks
            _begin_cycle(session, claim, new, now)
            if claim.statutory_due_at is not None:
                # The legal deadline counts from registration, not from when the draft was written.
                claim.statutory_due_at += now - claim.opened_at
        return
    if old in (ClaimState.RESOLVED, ClaimState.CLOSED) and new not in policy.FINISHED_STATES:
        claim.cycle += 1  # reopened: a new SLA cycle, elapsed time and breach from nothing
        session.flush()
        _begin_cycle(session, claim, new, now)
        return
    task = open_task(session, claim.id)
    stage = policy.stage_of(new)
    if task is not None and (stage is None or task.stage != stage):
        _close_task(session, task, now)
        task = None
    if stage is not None and task is None:
        task = _open_stage(session, claim, stage, now, paused=new in policy.STAGE_PAUSED)
    for clock in _live_clocks(session, claim):
        calendar = calendars.calendar_by_id(session, clock.calendar_id)
        resolution = clock.kind == ClockKind.RESOLUTION
        if resolution and new in policy.RESOLUTION_STOPS:
            stop_clock(clock, calendar, now)
        elif new in (policy.RESOLUTION_PAUSED if resolution else policy.STAGE_PAUSED):
            pause_clock(clock, calendar, now)
        else:
            resume_clock(clock, calendar, now)


# ---------------------------------------------------------------------------------------------- priority


def _claim(session: Session, claim_id: int) -> Claim:
    """The claim, locked for the change, or 404; a closed or cancelled claim takes no more work (409)."""
    from .service import get_claim  # the claim service calls back into this module

    claim = get_claim(session, claim_id, lock=True)
    if claim.state in (ClaimState.CLOSED, ClaimState.CANCELLED):
        raise InvalidTransition(_l("claim %(number)s is %(state)s: reopen it first", number=claim.number,
                                   state=claim.state), details={"state": claim.state})
    return claim


def _reason(reason: object) -> str:
    """A required reason: text that is not blank."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(_l("a reason is required"), details={"field": "reason"})
    if len(reason) > 2000:
        raise ValidationError(_l("the reason is longer than %(limit)s characters", limit=2000),
                              details={"field": "reason"})
    return reason.strip()


def _event(session: Session, claim: Claim, kind: str, author: Author | None, reason: str) -> None:
    """A timeline row for a change of owner or priority."""
    session.add(ClaimEvent(claim_id=claim.id, kind=kind, reason=reason, at=utcnow(), **author_fields(author)))


def change_priority(session: Session, *, claim_id: int, reason: str, author: Author | None,
                    impact: int | None = None, urgency: int | None = None, priority: str | None = None) -> Claim:
    """Set a claim's impact and urgency (the priority follows) or its priority directly, with a reason; every clock
    keeps its elapsed time and takes the new priority's target."""
    why = _reason(reason)
    if impact is None and urgency is None and priority is None:
        raise ValidationError(_l("give the impact and the urgency, or the priority"), details={"field": "impact"})
    claim = _claim(session, claim_id)
    _ensure_office(author)
    if priority is None:
        impact = claim.impact if impact is None else impact
        urgency = claim.urgency if urgency is None else urgency
        priority = str(sla.priority(impact, urgency))
        claim.impact, claim.urgency = impact, urgency
    elif priority not in {str(p) for p in sla.Priority}:
        raise ValidationError(_l("unknown priority %(priority)r; use P1, P2, P3 or P4", priority=priority),
                              details={"field": "priority"})
    before, claim.priority = claim.priority, priority
    now = utcnow()
    task = open_task(session, claim.id)
    if task is not None:
        task.priority = priority
    for clock in _live_clocks(session, claim):
        calendar = calendars.calendar_by_id(session, clock.calendar_id)
        if clock.kind == ClockKind.RESOLUTION:
            target = policy.resolution_target(priority)
        else:
            owner = session.get(StageTask, clock.task_id) if clock.task_id is not None else None
            if owner is None:
                continue
            target = policy.stage_target(Stage(owner.stage), priority)
        retarget_clock(clock, target, calendar, now)
    _event(session, claim, "priority", author, f"{before} → {priority}: {why}")
    session.flush()
    return claim


def _ensure_office(author: Author | None) -> None:
    """Priority is the office's call: coordinators, supervisors and admins."""
    role = getattr(author, "role", None)
    if author is not None and role not in (Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied(_l("only coordinators and supervisors change a claim's priority"))


# ---------------------------------------------------------------------------------------------- reassignment


def supervisor_of(session: Session, claim: Claim) -> int | None:
    """The user id of the supervisor of the claim's team, else of the assignee's own supervisor."""
    if claim.team_id is not None:
        team = session.get(Team, claim.team_id)
        if team is not None and team.supervisor_id is not None:
            return team.supervisor_id
    if claim.assignee_id is not None:
        assignee = session.get(User, claim.assignee_id)
        if assignee is not None:
            return assignee.supervisor_id
    return None


def _may_reassign(session: Session, claim: Claim, task: StageTask | None, author: Author | None) -> bool:
    """Supervisors (and admins), the team's supervisor and the current owner may hand a claim on."""
    if author is None:
        return True
    if getattr(author, "role", None) in (Role.SUPERVISOR, Role.ADMIN):
        return True
    owner = task.assignee_id if task is not None else claim.assignee_id
    return author.id is not None and author.id in (owner, supervisor_of(session, claim))


def may_reassign(session: Session, claim: Claim, author: Author | None) -> bool:
    """Whether `author` may hand the claim on now: what reassign checks, for pages that offer the form."""
    return _may_reassign(session, claim, open_task(session, claim.id), author)


def reassign(session: Session, *, claim_id: int, reason: str, author: Author | None,
             username: str | None = None, team: str | None = None) -> Claim:
    """Hand a claim's current stage (and the claim) to another user and/or team, with a required reason. Clocks are
    not touched; the timeline keeps who handed what to whom and why."""
    why = _reason(reason)
    if username is None and team is None:
        raise ValidationError(_l("name the user or the team to hand the claim to"), details={"field": "username"})
    claim = _claim(session, claim_id)
    task = open_task(session, claim.id)
    if not _may_reassign(session, claim, task, author):
        raise PermissionDenied(_l("only the claim's owner or a supervisor may reassign it"))
    user = None
    if username is not None:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(_l("no user %(name)r", name=username), details={"field": "username"})
        if not user.active:
            raise ValidationError(_l("%(name)s is inactive and cannot take work", name=username),
                                  details={"field": "username"})
        if user.role not in policy.STAGE_WORKERS:
            # Someone with no worklist would never see the claim: it would be lost.
            raise ValidationError(_l("%(name)s (%(role)s) has no worklist and cannot take claims", name=username,
                                     role=user.role), details={"field": "username"})
    team_row = None
    if team is not None:
        team_row = session.scalars(select(Team).where(Team.name == team)).first()
        if team_row is None:
            raise NotFound(_l("no team %(name)r", name=team), details={"field": "team"})
        if not team_row.active:
            raise ValidationError(_l("the team %(name)s is inactive", name=team), details={"field": "team"})
    before = _owner_text(session, claim.assignee_id, claim.team_id)
    if user is not None:
        claim.assignee_id = user.id
    if team_row is not None:
        claim.team_id = team_row.id
        if user is None:
            claim.assignee_id = None  # handed to the team: whoever of it takes it
    if task is not None:
        task.assignee_id, task.team_id = claim.assignee_id, claim.team_id
    after = _owner_text(session, claim.assignee_id, claim.team_id)
    _event(session, claim, "assignment", author, f"{before} → {after}: {why}")
    session.flush()
    return claim


# Stages whose work is at the bench: an engineer taking the unit into test takes such a task nobody owns.
BENCH_STAGES = frozenset({str(Stage.INSPECTION), str(Stage.VERIFICATION)})


def take_bench_task(session: Session, claim: Claim, author: Author | None) -> None:
    """The engineer taking the claim's case into test owns its open inspection or verification task if nobody
    does; the timeline says so. Clocks are not touched."""
    engineer = getattr(author, "id", None)
    task = open_task(session, claim.id)
    if engineer is None or task is None or task.assignee_id is not None or task.stage not in BENCH_STAGES:
        return
    task.assignee_id = engineer
    _event(session, claim, "assignment", author, "took the case into test")
    session.flush()


def _owner_text(session: Session, user_id: int | None, team_id: int | None) -> str:
    """'alice (Returns)', 'Returns', or '-' for nobody."""
    user = session.get(User, user_id) if user_id is not None else None
    team = session.get(Team, team_id) if team_id is not None else None
    if user is not None and team is not None:
        return f"{user.username} ({team.name})"
    return user.username if user is not None else team.name if team is not None else "-"


def team_ids_of(session: Session, user_id: int) -> list[int]:
    """The teams the user is a member of."""
    return list(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))
