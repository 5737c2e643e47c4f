"""The escalation pass: clocks past 75, 100 or 150 % of their target notify the people responsible, in the app and
by mail, each threshold once per clock cycle however many passes run, and however many at once.

Who is told (the first present of each list; inactive users are skipped):
- 75 %: the assignee (the open stage task's for a stage clock, the claim's for the resolution clock); nobody
  assigned: the supervisor; no supervisor either: every active admin, so a notice never goes to nobody.
- 100 %: the assignee and the supervisor (stages.supervisor_of: the team's, else the assignee's own); no
  supervisor: the active admins. The clock is marked breached.
- 150 %: as at 100 %, and the next level: the supervisor's own supervisor, else the active admins.
A pass that finds a clock past several thresholds at once (the server was down) notifies only the highest and
marks the lower ones done.

Idempotent under concurrency: the notification rows are unique per (clock, cycle, threshold, user) and written
with INSERT .. ON CONFLICT DO NOTHING, and the clock's `escalated` only rises through a guarded UPDATE, so two
passes at once (two servers, cron and the server) write each notice once. Mail goes after that commit: each
pending notification is leased (so a concurrent pass leaves it alone), sent, then marked sent; a refused or
failed send stays pending for the next pass, so nothing is marked sent that was not. A pass that dies between the
send and the mark sends that one mail again after the lease ends (at least once, never lost).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from .. import mail
from ..accounts.enums import Role
from ..accounts.models import User
from ..columns import utcnow
from ..config import Settings
from ..db import transaction
from ..i18n import _l
from . import calendars, sla, stages, surveys
from .enums import ClockKind
from .models import Claim, Notification, SlaClock, StageTask, Team
from .notifications import NONE, PENDING, SENT

log = logging.getLogger(__name__)
KIND = "escalation"
LAST = sla.ESCALATION_THRESHOLDS[-1]
# How long a pass holds a notification it is mailing before another pass may take it over.
MAIL_LEASE = timedelta(minutes=5)
# Pending notifications older than this when mail goes out are not mailed any more (mail was off or down too long).
MAIL_MAX_AGE = timedelta(days=2)
TOO_OLD = "too old to mail"
# Notifications one pass mails at most; the rest go on the next pass.
MAIL_BATCH = 500
# Rows per INSERT and ids per IN (...): well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
HOUR = 3600.0


@dataclass
class _Due:
    """The columns of a due clock that elapsed_at and schedule read and write (a plain copy, never flushed)."""

    id: int
    claim_id: int
    task_id: int | None
    kind: str
    calendar_id: int | None
    target_seconds: float
    cycle: int
    state: str
    elapsed_seconds: float
    running_since: datetime | None
    escalated: int
    breached: bool
    due_at: datetime | None
    next_escalation_at: datetime | None
    # next_escalation_at as the row holds it, before schedule() recomputes the copy's.
    stored_next: datetime | None = None


@dataclass
class Summary:
    """What one pass did: clocks looked at and escalated, notifications written, mails sent or not."""

    now: datetime
    clocks: int = 0
    escalated: int = 0
    notifications: list[dict[str, Any]] = field(default_factory=list)
    # Mails of earlier notifications (a failed send retried) handled by this pass.
    retried: list[dict[str, Any]] = field(default_factory=list)
    # Customer surveys of closed claims mailed by this pass (a mail the server did not take waits for the next).
    surveys_mailed: int = 0

    @property
    def mailed(self) -> int:
        """Mails the server accepted in this pass."""
        return sum(1 for row in self.notifications + self.retried if row["mail"] == SENT)

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON answers it."""
        return {"now": self.now.isoformat(), "clocks": self.clocks, "escalated": self.escalated,
                "mailed": self.mailed, "notifications": self.notifications, "retried": self.retried}


def run_pass(sessions: Any, settings: Settings, now: datetime) -> Summary:
    """One escalation pass at `now`: notifications written and committed, then mailed. `sessions` is a session
    factory or a Runtime (its write sessions)."""
    factory: sessionmaker = getattr(sessions, "sessions", sessions)
    summary = Summary(now=now)
    with transaction(factory) as session:
        escalate(session, settings, now, summary)
    by_id = {row["id"]: row for row in summary.notifications}
    for result in mail_pending(factory, settings, now=now):
        if result["id"] in by_id:
            by_id[result["id"]].update(mail=result["mail"], error=result["error"])
        else:
            summary.retried.append(result)
    summary.surveys_mailed = surveys.send_pending(factory, settings, now=now)
    return summary


# ---------------------------------------------------------------------------------------------- notifying


def escalate(session: Session, settings: Settings, now: datetime, summary: Summary) -> None:
    """Write the notifications of every clock due at `now` and move the clocks on; flushes only."""
    due = _due_clocks(session, now)
    summary.clocks = len(due)
    if not due:
        return
    cache: dict[int | None, sla.Calendar] = {}
    hits: list[tuple[_Due, int, float]] = []
    moved: list[dict[str, Any]] = []
    rescheduled: list[dict[str, Any]] = []
    for clock in due:
        if clock.calendar_id not in cache:
            cache[clock.calendar_id] = calendars.calendar_by_id(session, clock.calendar_id)
        calendar = cache[clock.calendar_id]
        spent = stages.elapsed_at(cast(SlaClock, clock), calendar, now)
        passed = [pct for pct in sla.ESCALATION_THRESHOLDS
                  if pct > clock.escalated and spent * 100 > pct * clock.target_seconds]
        old = clock.escalated
        if passed:
            top = max(passed)
            clock.escalated = top
            hits.append((clock, top, spent))
        if clock.escalated >= LAST:
            clock.next_escalation_at = None  # what schedule() gives after the last level, without its date walks
        else:
            stages.schedule(cast(SlaClock, clock), calendar, now)
        # What the pass read of the clock: a priority change or a claim action since then leaves it as they set it.
        params = {"b_id": clock.id, "b_old": old, "b_state": clock.state, "b_cycle": clock.cycle,
                  "b_target": clock.target_seconds, "b_elapsed": clock.elapsed_seconds,
                  "b_since": clock.running_since, "b_next": clock.next_escalation_at}
        if passed:
            moved.append({**params, "b_pct": clock.escalated, "b_breach": clock.escalated >= 100})
        elif clock.next_escalation_at != clock.stored_next:
            rescheduled.append(params)
    summary.escalated = len(hits)
    rows = _notification_rows(session, settings, hits, now)
    written = _insert(session, rows)
    for row, meta in rows:
        key = (row["clock_id"], row["user_id"], row["threshold"])
        if key in written:  # written by this pass, not by one that ran at the same time
            summary.notifications.append(_report(row, meta, written[key]))
    _move_clocks(session, moved, rescheduled)


def _due_clocks(session: Session, now: datetime) -> list[_Due]:
    """Running or paused clocks whose next escalation moment has come, by id (from the next-escalation index)."""
    c = SlaClock
    rows = session.execute(
        select(c.id, c.claim_id, c.task_id, c.kind, c.calendar_id, c.target_seconds, c.cycle, c.state,
               c.elapsed_seconds, c.running_since, c.escalated, c.breached, c.due_at, c.next_escalation_at)
        .where(c.next_escalation_at <= now, c.state.in_((stages.RUNNING, stages.PAUSED)))
        .order_by(c.id))
    return [_Due(*row, stored_next=row.next_escalation_at) for row in rows]


def _chunks(values: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass
class _People:
    """The users, teams, claims and tasks the due clocks need, each loaded in one go."""

    users: dict[int, Any]
    teams: dict[int, Any]
    claims: dict[int, Any]
    tasks: dict[int, Any]
    admins: list[int]


def _load(session: Session, hits: list[tuple[_Due, int, float]]) -> _People:
    claim_ids = sorted({clock.claim_id for clock, _, _ in hits})
    task_ids = sorted({clock.task_id for clock, _, _ in hits if clock.task_id is not None})
    users = {row.id: row for row in session.execute(
        select(User.id, User.username, User.email, User.active, User.role, User.supervisor_id))}
    teams = {row.id: row for row in session.execute(select(Team.id, Team.supervisor_id))}
    claims: dict[int, Any] = {}
    for part in _chunks(claim_ids):
        claims.update((row.id, row) for row in session.execute(
            select(Claim.id, Claim.number, Claim.priority, Claim.assignee_id, Claim.team_id)
            .where(Claim.id.in_(part))))
    tasks: dict[int, Any] = {}
    for part in _chunks(task_ids):
        tasks.update((row.id, row) for row in session.execute(
            select(StageTask.id, StageTask.stage, StageTask.assignee_id).where(StageTask.id.in_(part))))
    admins = sorted(uid for uid, user in users.items() if user.active and user.role == Role.ADMIN)
    return _People(users, teams, claims, tasks, admins)


def _active(people: _People, user_id: int | None) -> int | None:
    user = people.users.get(user_id) if user_id is not None else None
    return user_id if user is not None and user.active else None


def recipients(people: _People, clock: _Due, threshold: int) -> list[int]:
    """The user ids a clock past `threshold` notifies (see the module's docstring), each once, in order."""
    claim = people.claims[clock.claim_id]
    task = people.tasks.get(clock.task_id) if clock.task_id is not None else None
    owner = task.assignee_id if clock.kind == ClockKind.STAGE and task is not None else claim.assignee_id
    assignee = _active(people, owner)
    # stages.supervisor_of, over the rows loaded here: the team's supervisor, else the assignee's own.
    team = people.teams.get(claim.team_id) if claim.team_id is not None else None
    boss = team.supervisor_id if team is not None and team.supervisor_id is not None else None
    if boss is None:
        for someone in (claim.assignee_id, owner):
            user = people.users.get(someone) if someone is not None else None
            if user is not None and user.supervisor_id is not None:
                boss = user.supervisor_id
                break
    supervisor = _active(people, boss)
    chosen: list[int | None]
    if threshold < 100:
        chosen = [assignee] if assignee else [supervisor] if supervisor else list(people.admins)
    else:
        chosen = [assignee, *([supervisor] if supervisor else people.admins)]
        if threshold >= 150:
            above = _active(people, people.users[supervisor].supervisor_id) if supervisor else None
            chosen += [above] if above else people.admins
    return list(dict.fromkeys(uid for uid in chosen if uid is not None))


def _hours(seconds: float) -> str:
    return f"{seconds / HOUR:.1f}"


def _text(settings: Settings, claim: Any, stage: str, clock: _Due, threshold: int, spent: float) -> tuple[str, str]:
    """Subject and body of a notice (English; the claim's number, stage, priority, time over or left, a link)."""
    left = clock.target_seconds - spent
    facts = {"number": claim.number, "priority": claim.priority, "stage": stage, "threshold": threshold,
             "percent": f"{100 * spent / clock.target_seconds:.0f}", "target": _hours(clock.target_seconds),
             "spent": _hours(spent), "hours": _hours(abs(left)),
             "due": (stages.shown_due(clock.due_at) or clock.due_at).strftime("%Y-%m-%d %H:%M UTC")
             if clock.due_at is not None else "-",
             "link": f"{settings.public_url.rstrip('/')}/claims/{claim.number}"}
    if threshold >= 100:
        subject = _l("Claim %(number)s (%(priority)s): %(stage)s is over its SLA target (%(percent)s %%)", **facts)
        body = _l("Over the target by %(hours)s business hours.\nTarget: %(target)s business hours; counted: "
                  "%(spent)s.\nEscalation level: %(threshold)s %%.\n\nOpen the claim: %(link)s", **facts)
    else:
        subject = _l("Claim %(number)s (%(priority)s): %(stage)s has used %(percent)s %% of its SLA target", **facts)
        body = _l("%(hours)s business hours left before the target (due %(due)s).\nTarget: %(target)s business "
                  "hours; counted: %(spent)s.\nEscalation level: %(threshold)s %%.\n\nOpen the claim: %(link)s",
                  **facts)
    return str(subject)[:200], f"{subject}\n\n{body}"


@dataclass(frozen=True)
class _Meta:
    """What the report says about a row beside its columns."""

    claim: str
    stage: str
    user: str


def _notification_rows(session: Session, settings: Settings, hits: list[tuple[_Due, int, float]],
                       now: datetime) -> list[tuple[dict[str, Any], _Meta]]:
    """One row per recipient of every escalated clock, ready for the INSERT, with what the report names."""
    if not hits:
        return []
    people = _load(session, hits)
    rows = []
    for clock, threshold, spent in hits:
        claim = people.claims.get(clock.claim_id)
        if claim is None:
            continue
        task = people.tasks.get(clock.task_id) if clock.task_id is not None else None
        stage = task.stage if clock.kind == ClockKind.STAGE and task is not None else str(ClockKind.RESOLUTION)
        subject, body = _text(settings, claim, stage, clock, threshold, spent)
        for user_id in recipients(people, clock, threshold):
            user = people.users[user_id]
            rows.append(({"user_id": user_id, "claim_id": clock.claim_id, "clock_id": clock.id, "cycle": clock.cycle,
                          "threshold": threshold, "kind": KIND, "subject": subject, "body": body,
                          # Whether mail is on is decided when mailing: a server configured later still sends it.
                          "created_at": now, "mail_state": PENDING if user.email else NONE,
                          "mail_attempts": 0, "mail_error": ""}, _Meta(claim.number, stage, user.username)))
    return rows


def _insert(session: Session, rows: list[tuple[dict[str, Any], _Meta]]) -> dict[tuple[int, int, int], int]:
    """INSERT .. ON CONFLICT DO NOTHING of the rows; the ids of those this pass wrote, by (clock, user, threshold)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = Notification.__table__  # type: ignore[attr-defined]
    written: dict[tuple[int, int, int], int] = {}
    if not rows:
        return written
    # One statement compiled once and sent as an executemany (SQLAlchemy batches it into multi-row INSERTs that
    # still return the ids), rather than a VALUES list per chunk, whose compilation costs more than the insert.
    stmt = (insert(table).on_conflict_do_nothing(index_elements=["clock_id", "cycle", "threshold", "user_id"])
            .returning(table.c.id, table.c.clock_id, table.c.user_id, table.c.threshold))
    values = [columns for columns, _ in rows]
    if dialect == "postgresql":
        return _insert_pipelined(session, stmt, values)
    for row in session.connection().execute(stmt, values):
        written[(row.clock_id, row.user_id, row.threshold)] = row.id
    return written


def _insert_pipelined(session: Session, stmt: Any, values: list[dict[str, Any]]) -> dict[tuple[int, int, int], int]:
    """The INSERT as psycopg's executemany: one prepared statement, rows pipelined, each one's RETURNING read. (The
    multi-row statements SQLAlchemy builds for an executemany with RETURNING cost psycopg seconds of query parsing
    for 40,000 rows.) The values need no type processing: plain numbers, text and aware datetimes."""
    single = stmt.values({name: bindparam(name) for name in values[0]})
    sql = str(single.compile(dialect=session.get_bind().dialect))
    written: dict[tuple[int, int, int], int] = {}
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.executemany(sql, values, returning=True)
        while True:
            for notification_id, clock_id, user_id, threshold in cursor.fetchall():
                written[(clock_id, user_id, threshold)] = notification_id
            if not cursor.nextset():
                break
    return written


def _report(row: dict[str, Any], meta: _Meta, notification_id: int) -> dict[str, Any]:
    """A written notification as the pass reports it."""
    mail_state = row["mail_state"]
    return {"id": notification_id, "claim": meta.claim, "claim_id": row["claim_id"], "clock_id": row["clock_id"],
            "stage": meta.stage, "threshold": row["threshold"], "user": meta.user, "user_id": row["user_id"],
            "mail": mail_state, "error": "" if mail_state != NONE else "no email address"}


def _move_clocks(session: Session, moved: list[dict[str, Any]], rescheduled: list[dict[str, Any]]) -> None:
    """Raise the clocks' `escalated` (only upwards: a concurrent pass that got there first wins) and store their next
    escalation moment; a clock changed since the pass read it (its state, cycle, target, counted time or running
    start: a claim action, a priority change, a calendar edit) is left as that change set it, and the next pass
    reads it again."""
    table = SlaClock.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    guard = (table.c.id == bindparam("b_id"), table.c.state == bindparam("b_state"),
             table.c.cycle == bindparam("b_cycle"), table.c.target_seconds == bindparam("b_target"),
             table.c.elapsed_seconds == bindparam("b_elapsed"),
             table.c.running_since.is_not_distinct_from(bindparam("b_since")))
    # Clocks done with their last level all get the same values: one UPDATE per group of ids, not one per clock
    # (PostgreSQL's driver sends an executemany's rows one by one).
    last: dict[tuple[int, str, bool], list[dict[str, Any]]] = {}
    each = []
    for params in moved:
        if params["b_next"] is None:
            last.setdefault((params["b_pct"], params["b_state"], params["b_breach"]), []).append(params)
        else:
            each.append(params)
    for (pct, state, breach), group in last.items():
        # Each clock as read, matched as a tuple (a paused clock has no running start to match).
        running = state == stages.RUNNING
        columns = [table.c.id, table.c.target_seconds, table.c.elapsed_seconds]
        columns += [table.c.running_since] if running else []
        since = table.c.running_since.is_not(None) if running else table.c.running_since.is_(None)
        for part in _chunks(group, CHUNK // len(columns)):
            read = [(p["b_id"], p["b_target"], p["b_elapsed"], *([p["b_since"]] if running else [])) for p in part]
            # A reopened claim's cycle runs on new clocks (these are then stopped), so the state guards it here.
            connection.execute(update(table).where(tuple_(*columns).in_(read), since, table.c.state == state,
                                                   table.c.escalated < pct)
                               .values(escalated=pct, next_escalation_at=None,
                                       breached=or_(table.c.breached, breach)))
    if each:
        connection.execute(update(table).where(*guard, table.c.escalated < bindparam("b_pct"))
                           .values(escalated=bindparam("b_pct"), next_escalation_at=bindparam("b_next"),
                                   breached=or_(table.c.breached, bindparam("b_breach"))), each)
    if rescheduled:
        connection.execute(update(table).where(*guard, table.c.escalated == bindparam("b_old"))
                           .values(next_escalation_at=bindparam("b_next")), rescheduled)


# ---------------------------------------------------------------------------------------------- mailing


def mail_pending(sessions: sessionmaker, settings: Settings, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Mail the pending notifications nobody holds, each leased, sent, then marked; what happened to each.

    Mail off: nothing happens and they stay pending. Those older than MAIL_MAX_AGE at `now` are not mailed but
    marked "none" (a server configured months later does not flood people with stale notices)."""
    if not mail.mail_configured(settings):
        return []
    with transaction(sessions) as session:
        session.execute(update(Notification).where(Notification.mail_state == PENDING,
                                                   Notification.created_at < (now or utcnow()) - MAIL_MAX_AGE)
                        .values(mail_state=NONE, mail_error=TOO_OLD, mail_lease_until=None)
                        .execution_options(synchronize_session=False))
        now = utcnow()
        todo = list(session.execute(
            select(Notification.id, Notification.subject, Notification.body, Notification.threshold,
                   Notification.claim_id, User.username, User.email, Claim.number)
            .join(User, User.id == Notification.user_id).outerjoin(Claim, Claim.id == Notification.claim_id)
            .where(Notification.mail_state == PENDING,
                   or_(Notification.mail_lease_until.is_(None), Notification.mail_lease_until < now))
            .order_by(Notification.id).limit(MAIL_BATCH)))
    # Stops after mail.GIVE_UP failed sends in a row (the server is down); one another pass holds is skipped.
    return mail.until_down(todo, lambda row: _mail_one(sessions, settings, row),
                           lambda result: result["mail"] == PENDING)


def _mail_one(sessions: sessionmaker, settings: Settings, row: Any) -> dict[str, Any] | None:
    """Lease, send and mark one notification; None when another pass holds it or it is no longer pending."""
    table = Notification.__table__  # type: ignore[attr-defined]
    result = {"id": row.id, "claim": row.number, "claim_id": row.claim_id, "threshold": row.threshold,
              "user": row.username, "mail": PENDING, "error": ""}
    with transaction(sessions) as session:
        now = utcnow()
        taken = session.execute(update(table).where(
            table.c.id == row.id, table.c.mail_state == PENDING,
            or_(table.c.mail_lease_until.is_(None), table.c.mail_lease_until < now))
            .values(mail_lease_until=now + MAIL_LEASE))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
    state, error = SENT, ""
    try:
        if not row.email:
            state, error = NONE, "no email address"
        else:
            mail.send(settings, mail.build_message(settings, to=row.email, subject=row.subject, text=row.body))
    except ValueError as exc:  # an address or subject no server would take: retrying cannot help
        state, error = NONE, str(exc)
    except mail.MailError as exc:
        state, error = PENDING, str(exc)
    with transaction(sessions) as session:
        values: dict[str, Any] = {"mail_state": state, "mail_error": error[:1000], "mail_lease_until": None,
                                  "mail_attempts": table.c.mail_attempts + (0 if state == NONE else 1)}
        if state == SENT:
            values["mailed_at"] = utcnow()
        session.execute(update(table).where(table.c.id == row.id).values(**values))
    result.update(mail=state, error=error)
    return result


def describe(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One line per notification for the console: claim, threshold, user, and mailed or why not."""
    for row in rows:
        failed = f"mail failed, retried next pass ({row['error']})" if row["error"] else "to be mailed (mail is off)"
        how = {SENT: "mailed", NONE: f"not mailed ({row['error'] or 'no email address'})",
               PENDING: failed}.get(row["mail"], row["mail"])
        yield f"{row['claim']}  {row['threshold']} %  {row['user']}  {how}"


# ---------------------------------------------------------------------------------------------- in the server


def start_background(runtime: Any, interval: int | None = None) -> threading.Thread | None:
    """A daemon thread running a pass every `interval` seconds (SERIALTRACE_ESCALATION_INTERVAL; 0: none); a
    failing pass is logged and the next one runs as usual, so the server never stops for it."""
    every = runtime.settings.escalation_interval if interval is None else interval
    if every <= 0:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                summary = run_pass(runtime.sessions, runtime.settings, utcnow())
                if summary.notifications or summary.retried:
                    log.info("escalation pass: %s notifications, %s mailed", len(summary.notifications),
                             summary.mailed)
            except Exception:  # a database or mail outage must not end the loop: the next pass retries
                log.exception("escalation pass failed")

    thread = threading.Thread(target=loop, name="serialtrace-escalation", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
