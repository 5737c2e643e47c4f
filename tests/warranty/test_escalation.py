"""The escalation pass on both databases: 75 / 100 / 150 % reach the assignee, the supervisor and the next level,
each once per clock cycle (twice in a row, two passes at once); mail through a real SMTP server, retried when the
server was down; a paused clock is not escalated further; a reopened claim escalates again."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.columns import at_moment
from serialtrace.config import Settings
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.warranty import escalation, notifications, service, stages
from serialtrace.warranty.models import Notification, SlaClock, StageTask, Team

from .tested_case import people
from tests.fakesmtp import free_port

TODAY = date(2025, 6, 2)
# Monday 2 June 2025, 10:00 UTC: the seeded standard calendar works Monday to Friday, 09:00-18:00 UTC. P3 triage
# is 9 business hours: 75 % at Monday 16:45, 100 % at Tuesday 10:00, 150 % at Tuesday 14:30.
MON = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
AT_75 = datetime(2025, 6, 2, 17, 0, tzinfo=UTC)
AT_100 = datetime(2025, 6, 3, 10, 30, tzinfo=UTC)
AT_150 = datetime(2025, 6, 3, 15, 0, tzinfo=UTC)
MAIL_FROM = "serialtrace@example.com"


def _setup(session, serials, who_by_role):
    """A team (its supervisor reporting to a manager) and a claim on Monday 10:00 whose triage the coordinator owns."""
    manager = accounts_service.create_user(session, username="manager", role="supervisor")
    manager.email = "manager@example.com"
    who_by_role["supervisor"].supervisor_id = manager.id
    for role in ("coordinator", "supervisor"):
        who_by_role[role].email = f"{role}@example.com"
    team = Team(name="Returns", supervisor_id=who_by_role["supervisor"].id)
    session.add(team)
    session.flush()
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:1],
                                  today=TODAY)
    with at_moment(MON):
        claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=who_by_role["warehouse"],
                                       today=TODAY).claim
    claim.team_id = team.id
    task = stages.open_task(session, claim.id)
    task.assignee_id = who_by_role["coordinator"].id
    session.flush()
    return claim


@pytest.fixture
def who(session):
    return people(session)


@pytest.fixture
def claim(session, make_batch, who):
    _, serials = make_batch(quantity=2)
    return _setup(session, serials, who)


def _pass(sessions, now, **mail):
    settings = Settings.load({"secret_key": "x", "public_url": "https://st.example.com", **mail})
    return escalation.run_pass(sessions, settings, now)


def _sent(session, clock_kind="stage"):
    """(threshold, username) of the notifications of the claim's clocks of that kind, in order."""
    from serialtrace.accounts.models import User

    session.expire_all()
    return [(n.threshold, u) for n, u in session.execute(
        select(Notification, User.username).join(User, User.id == Notification.user_id)
        .join(SlaClock, SlaClock.id == Notification.clock_id).where(SlaClock.kind == clock_kind)
        .order_by(Notification.threshold, User.username))]


def _stage_clock(session, claim):
    session.expire_all()
    return [c for c in stages.claim_clocks(session, claim) if c.kind == "stage"][-1]


def test_each_threshold_reaches_the_right_people_once(session, sessions, claim):
    assert _pass(sessions, MON + timedelta(hours=1)).notifications == []
    first = _pass(sessions, AT_75)
    assert [(n["claim"], n["threshold"], n["user"], n["stage"]) for n in first.notifications] == [
        (claim.number, 75, "coordinator", "triage")]
    assert _pass(sessions, AT_75 + timedelta(minutes=5)).notifications == []  # the same threshold: once
    _pass(sessions, AT_100)
    clock = _stage_clock(session, claim)
    assert (clock.escalated, clock.breached) == (100, True)
    _pass(sessions, AT_150)
    assert _sent(session) == [(75, "coordinator"), (100, "coordinator"), (100, "supervisor"),
                              (150, "coordinator"), (150, "manager"), (150, "supervisor")]
    clock = _stage_clock(session, claim)
    assert (clock.escalated, clock.next_escalation_at) == (150, None)
    # The resolution clock (90 h) is far from its first threshold: nothing about it.
    assert _sent(session, "resolution") == []


def test_a_pass_after_a_long_gap_sends_only_the_highest_threshold(session, sessions, claim):
    summary = _pass(sessions, AT_150)
    assert sorted((n["threshold"], n["user"]) for n in summary.notifications) == [
        (150, "coordinator"), (150, "manager"), (150, "supervisor")]
    assert _stage_clock(session, claim).escalated == 150
    assert _pass(sessions, AT_150 + timedelta(days=3)).notifications == []


def test_nobody_assigned_tells_the_supervisor_and_no_supervisor_the_admins(session, sessions, claim, who):
    task = stages.open_task(session, claim.id)
    task.assignee_id = None
    session.flush()
    assert [n["user"] for n in _pass(sessions, AT_75).notifications] == ["supervisor"]
    session.get(Team, claim.team_id).supervisor_id = None
    who["coordinator"].supervisor_id = None
    session.flush()
    assert [n["user"] for n in _pass(sessions, AT_100).notifications] == ["admin"]


def test_the_notice_names_the_claim_stage_priority_and_links_to_it(session, sessions, claim):
    _pass(sessions, AT_100)
    session.expire_all()
    note = session.scalars(select(Notification).where(Notification.threshold == 100)).first()
    assert claim.number in note.subject and "P3" in note.subject and "triage" in note.subject
    assert "Over the target by 0.5 business hours" in note.body
    assert f"https://st.example.com/claims/{claim.number}" in note.body
    assert (note.kind, note.mail_state, note.cycle) == ("escalation", "pending", 1)  # mailed once mail is on


def test_a_paused_clock_is_not_escalated_further(session, sessions, claim, who):
    _pass(sessions, AT_75)
    with at_moment(AT_75 + timedelta(minutes=10)):
        service.transition_claim(session, claim_id=claim.id, to="triage", author=who["coordinator"], today=TODAY)
        service.transition_claim(session, claim_id=claim.id, to="waiting_customer", author=who["coordinator"],
                                 today=TODAY)
    clock = _stage_clock(session, claim)
    assert (clock.state, clock.next_escalation_at) == ("paused", None)
    assert _pass(sessions, AT_150 + timedelta(days=5)).notifications == []
    assert _sent(session) == [(75, "coordinator")]


def test_a_reopened_claim_escalates_again_in_its_new_cycle(session, sessions, claim, who):
    _pass(sessions, AT_75)
    claim.state = "fulfilling"  # the inspection and decision steps are tested elsewhere
    session.flush()
    with at_moment(AT_75 + timedelta(minutes=5)):
        service.transition_claim(session, claim_id=claim.id, to="resolved", author=who["coordinator"], today=TODAY)
    reopened = datetime(2025, 6, 9, 10, 0, tzinfo=UTC)
    with at_moment(reopened):
        service.transition_claim(session, claim_id=claim.id, to="triage", author=who["supervisor"], today=TODAY)
    session.expire_all()
    task = session.scalars(select(StageTask).where(StageTask.claim_id == claim.id, StageTask.cycle == 2)).one()
    task.assignee_id = who["coordinator"].id
    session.flush()
    summary = _pass(sessions, reopened + timedelta(hours=7))
    assert [(n["threshold"], n["user"]) for n in summary.notifications] == [(75, "coordinator")]
    cycles = session.scalars(select(Notification.cycle).order_by(Notification.id)).all()
    assert cycles == [1, 2]


def test_mail_reaches_the_smtp_server_and_is_marked_sent(session, sessions, claim, smtp_server):
    summary = _pass(sessions, AT_100, smtp_host=smtp_server.host, smtp_port=smtp_server.port, mail_from=MAIL_FROM)
    assert sorted((n["user"], n["mail"]) for n in summary.notifications) == [("coordinator", "sent"),
                                                                           ("supervisor", "sent")]
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["coordinator@example.com",
                                                                  "supervisor@example.com"]
    message = smtp_server.received[0].message
    assert claim.number in message["Subject"] and f"/claims/{claim.number}" in message.get_content()
    session.expire_all()
    rows = session.scalars(select(Notification)).all()
    assert {(n.mail_state, n.mail_attempts, n.mail_lease_until) for n in rows} == {("sent", 1, None)}
    # The next pass has nothing to send again.
    again = _pass(sessions, AT_100 + timedelta(minutes=1), smtp_host=smtp_server.host, smtp_port=smtp_server.port,
                  mail_from=MAIL_FROM)
    assert (again.notifications, again.retried, len(smtp_server.received)) == ([], [], 2)


def test_a_user_without_an_address_gets_the_bell_only(session, sessions, claim, who, smtp_server):
    who["coordinator"].email = ""
    session.flush()
    summary = _pass(sessions, AT_75, smtp_host=smtp_server.host, smtp_port=smtp_server.port, mail_from=MAIL_FROM)
    assert [(n["user"], n["mail"]) for n in summary.notifications] == [("coordinator", "none")]
    assert smtp_server.received == []


def test_smtp_down_keeps_the_mail_pending_and_the_next_pass_sends_it(session, sessions, claim, smtp_server):
    down = _pass(sessions, AT_75, smtp_host="127.0.0.1", smtp_port=free_port(), mail_from=MAIL_FROM, smtp_timeout=2)
    [note] = down.notifications
    assert note["mail"] == "pending" and "127.0.0.1" in note["error"]
    session.expire_all()
    row = session.get(Notification, note["id"])
    assert (row.mail_state, row.mail_attempts, row.mailed_at, row.mail_lease_until) == ("pending", 1, None, None)
    assert row.mail_error
    up = _pass(sessions, AT_75 + timedelta(minutes=1), smtp_host=smtp_server.host, smtp_port=smtp_server.port,
               mail_from=MAIL_FROM)
    assert up.notifications == [] and [(r["id"], r["mail"]) for r in up.retried] == [(note["id"], "sent")]
    assert [r.rcpt_tos for r in smtp_server.received] == [["coordinator@example.com"]]
    session.expire_all()
    row = session.get(Notification, note["id"])
    assert (row.mail_state, row.mail_attempts) == ("sent", 2) and row.mailed_at is not None


def test_a_leased_notification_is_left_to_the_pass_holding_it(session, sessions, claim, smtp_server):
    _pass(sessions, AT_75)
    session.expire_all()
    row = session.scalars(select(Notification)).one()
    row.mail_state, row.mail_lease_until = "pending", datetime.now(UTC) + timedelta(minutes=4)
    session.flush()
    summary = _pass(sessions, AT_75, smtp_host=smtp_server.host, smtp_port=smtp_server.port, mail_from=MAIL_FROM)
    assert summary.retried == [] and smtp_server.received == []


def test_the_notification_service_lists_counts_and_marks_read(session, sessions, claim, who):
    _pass(sessions, AT_75)
    _pass(sessions, AT_100)
    session.expire_all()
    coordinator, supervisor = who["coordinator"].id, who["supervisor"].id
    assert notifications.unread_count(session, coordinator) == 2
    newest = notifications.for_user(session, coordinator)
    assert [n.threshold for n in newest] == [100, 75]
    notifications.mark_read(session, notification_id=newest[0].id, user_id=coordinator)
    assert notifications.unread_count(session, coordinator) == 1
    from serialtrace.errors import NotFound

    with pytest.raises(NotFound):
        notifications.mark_read(session, notification_id=newest[0].id, user_id=supervisor)


# ---------------------------------------------------------------------------------------------- two at once


def _committed_claim(rt: Runtime) -> None:
    with rt.transaction() as s:
        trace_service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")
        _, serials = trace_service.register_batch(s, product="PR-100", quantity=2, number="2501A00",
                                                  produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
        _setup(s, serials, people(s))


@pytest.mark.slow
def test_two_passes_at_once_write_and_mail_each_notice_once(fresh_db_url, smtp_server):
    rt = Runtime.from_env({"database_url": fresh_db_url, "secret_key": "esc", "smtp_host": smtp_server.host,
                           "smtp_port": smtp_server.port, "mail_from": MAIL_FROM})
    _committed_claim(rt)
    start = threading.Barrier(2)
    out: list = [None, None]
    errors: list = []

    def run(i: int) -> None:
        start.wait()
        try:
            out[i] = escalation.run_pass(rt.sessions, rt.settings, AT_150)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(len(s.notifications) for s in out) == [0, 3]
    with rt.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 3
        assert set(s.scalars(select(Notification.mail_state))) == {"sent"}
        assert s.scalars(select(SlaClock.escalated).where(SlaClock.kind == "stage")).one() == 150
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["coordinator@example.com", "manager@example.com",
                                                                  "supervisor@example.com"]
    rt.engine.dispose()


# ---------------------------------------------------------------------------------------------- cron and server


def test_the_escalate_command_runs_one_pass_and_prints_what_it_sent(fresh_cli):
    import json
    import os

    _committed_claim(Runtime.from_env({"database_url": os.environ["SERIALTRACE_DATABASE_URL"]}))
    early = fresh_cli("escalate", "--now", "2025-06-02T11:00:00+00:00")
    assert early.exit_code == 0 and "1 clocks due" not in early.output
    done = fresh_cli("escalate", "--now", "2025-06-02T17:00:00+00:00")
    assert done.exit_code == 0, done.output
    assert "75 %  coordinator  to be mailed (mail is off)" in done.output and "1 notifications" in done.output
    again = json.loads(fresh_cli("escalate", "--now", "2025-06-03T15:00", "--json").output)
    assert sorted((n["threshold"], n["user"]) for n in again["notifications"]) == [
        (150, "coordinator"), (150, "manager"), (150, "supervisor")]
    assert again["now"] == "2025-06-03T15:00:00+00:00"  # no offset: SERIALTRACE_TIMEZONE (UTC here)


def test_a_bad_now_is_refused_naming_the_option(fresh_cli):
    result = fresh_cli("escalate", "--now", "yesterday")
    assert result.exit_code == 1 and "--now" in result.stderr and "ISO 8601" in result.stderr


def test_the_server_pass_runs_on_its_interval_and_survives_a_failing_pass(tmp_path, monkeypatch):
    rt = Runtime.from_env({"database_url": f"sqlite:///{tmp_path / 'bg.sqlite'}", "secret_key": "bg"})
    from serialtrace.migrate import upgrade

    upgrade(rt.engine)
    _committed_claim(rt)
    calls: list = []
    real = escalation.run_pass

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return real(*args, **kwargs)

    monkeypatch.setattr(escalation, "run_pass", flaky)
    thread = escalation.start_background(rt, interval=1)
    try:
        for _ in range(100):
            with rt.read() as s:
                if s.scalar(select(func.count()).select_from(Notification)):
                    break
            threading.Event().wait(0.1)
        with rt.read() as s:
            # Registered in 2025 and never touched: far past 150 % now, so the pass sends the last level.
            assert set(s.scalars(select(Notification.threshold))) == {150}
        assert len(calls) >= 2 and thread.is_alive()
    finally:
        thread.stop.set()
        thread.join(5)
    assert escalation.start_background(rt, interval=0) is None
    rt.engine.dispose()


@pytest.mark.parametrize("now", [AT_100, AT_150], ids=["next-level-ahead", "last-level"])
def test_a_priority_changed_while_the_pass_runs_is_not_overwritten(session, sessions, claim, monkeypatch, now):
    read = escalation._due_clocks

    def then_priority_changes(s, at):
        due = read(s, at)
        # Between the pass's read and its update, a coordinator lowers the priority: triage gets 18 hours.
        with at_moment(at):
            stages.change_priority(s, claim_id=claim.id, priority="P4", reason="customer can wait", author=None)
        return due

    monkeypatch.setattr(escalation, "_due_clocks", then_priority_changes)
    _pass(sessions, now)
    clock = _stage_clock(session, claim)
    # The clock keeps what the priority change gave it; the next pass reads it again.
    expected = SlaClock(state=clock.state, running_since=clock.running_since, elapsed_seconds=clock.elapsed_seconds,
                        target_seconds=clock.target_seconds, escalated=0)
    calendar = stages.calendars.calendar_by_id(session, clock.calendar_id)
    stages.schedule(expected, calendar, now)
    # Breached: the old target was passed before the change, and that stays (stages.retarget_clock).
    assert (clock.target_seconds, clock.escalated, clock.breached) == (18 * 3600, 0, True)
    assert clock.next_escalation_at == expected.next_escalation_at
    monkeypatch.setattr(escalation, "_due_clocks", read)
    later = _pass(sessions, now + timedelta(minutes=1))
    assert later.notifications == [] if now == AT_100 else [n["threshold"] for n in later.notifications] == [75]


def test_notices_written_while_mail_is_off_are_mailed_once_it_is_on(session, sessions, claim, smtp_server):
    off = _pass(sessions, AT_75)
    assert [(n["user"], n["mail"]) for n in off.notifications] == [("coordinator", "pending")]
    on = _pass(sessions, AT_75 + timedelta(hours=1), smtp_host=smtp_server.host, smtp_port=smtp_server.port,
               mail_from=MAIL_FROM)
    assert [(r["user"], r["mail"]) for r in on.retried] == [("coordinator", "sent")]
    assert [r.rcpt_tos for r in smtp_server.received] == [["coordinator@example.com"]]


def test_notices_too_old_when_mail_comes_on_are_not_mailed(session, sessions, claim, who, smtp_server):
    _pass(sessions, AT_75)
    # Mail is configured three days later: the stale notice is marked, not sent; a fresh one still goes out.
    later = AT_75 + escalation.MAIL_MAX_AGE + timedelta(days=1)
    with at_moment(later):
        fresh = notifications.create(session, user=who["coordinator"], kind="note", subject="Fresh")
    session.flush()
    settings = Settings.load({"secret_key": "x", "smtp_host": smtp_server.host, "smtp_port": smtp_server.port,
                              "mail_from": MAIL_FROM})
    results = escalation.mail_pending(sessions, settings, now=later)
    assert [(r["id"], r["mail"]) for r in results] == [(fresh.id, "sent")]
    assert [r.message["Subject"] for r in smtp_server.received] == ["Fresh"]
    session.expire_all()
    old = session.scalars(select(Notification).where(Notification.threshold == 75)).one()
    assert (old.mail_state, old.mail_error, old.mail_attempts) == ("none", "too old to mail", 0)
