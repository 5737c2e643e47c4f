"""Editing a calendar moves the running clocks counting on it, on both databases: the business time already counted
stays as the old calendar counted it, the deadlines follow the new calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from serialtrace.columns import at_moment
from serialtrace.trace import service as trace_service
from serialtrace.warranty import calendars, service, stages, teams
from serialtrace.warranty.teams import CalendarFields

from .tested_case import people

TODAY = date(2025, 6, 2)
HOUR = 3600.0
# Registered Monday 2 June 2025 15:00 UTC; the seeded standard calendar works Monday to Friday, 09:00-18:00 UTC.
REGISTERED = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
# Tuesday 12:00: three hours on Monday and three on Tuesday counted.
NOW = datetime(2025, 6, 3, 12, 0, tzinfo=UTC)
STANDARD = dict(name="Standard", opens="09:00", closes="18:00", weekdays=[0, 1, 2, 3, 4], is_default=True)


@pytest.fixture
def claim(session, make_batch):
    who = people(session)
    batch, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:1],
                                  today=TODAY)
    with at_moment(REGISTERED):
        return service.register_claim(session, serial=serials[0], symptom="no_power", author=who["warehouse"],
                                      today=TODAY).claim


def _resolution(session, claim):
    session.expire_all()
    return next(c for c in stages.claim_clocks(session, claim) if c.kind == "resolution")


def _due(calendar, clock, now):
    """Where schedule() puts a running clock's deadline on `calendar` from `now`."""
    probe = stages.SlaClock(state=stages.RUNNING, running_since=now, elapsed_seconds=clock.elapsed_seconds,
                            target_seconds=clock.target_seconds, escalated=clock.escalated)
    stages.schedule(probe, calendar, now)
    return probe.due_at


def test_a_day_off_added_in_the_past_keeps_the_time_counted_and_moves_the_deadline(session, claim):
    standard = teams.get_calendar(session, "Standard")
    clock = _resolution(session, claim)
    assert clock.calendar_id == standard.id
    assert stages.elapsed_at(clock, calendars.to_calendar(standard), NOW) == 6 * HOUR
    before_due = clock.due_at
    # Monday (already counted) and Wednesday (still ahead) become company days off.
    with at_moment(NOW):
        teams.update_calendar(session, standard, CalendarFields(**STANDARD, holidays=["2025-06-02", "2025-06-04"]))
    clock = _resolution(session, claim)
    edited = calendars.to_calendar(teams.get_calendar(session, "Standard"))
    assert stages.elapsed_at(clock, edited, NOW) == 6 * HOUR
    assert stages.view_clock(session, clock, NOW + timedelta(hours=1)).elapsed_seconds == 7 * HOUR
    assert clock.due_at == _due(edited, clock, NOW)
    assert clock.due_at > before_due  # a working Wednesday less before it
    stage = next(c for c in stages.claim_clocks(session, claim) if c.kind == "stage")
    # Triage (9 hours at P3) has 3 hours left from 12:00 and its 75 % notice is 45 minutes away, as counted.
    assert stage.elapsed_seconds == 6 * HOUR
    assert (stage.due_at, stage.next_escalation_at) == (_due(edited, stage, NOW), _due(edited, stage, NOW)
                                                        - timedelta(hours=2, minutes=15))


def test_clocks_on_the_default_follow_a_new_default(session, claim):
    clock = _resolution(session, claim)
    clock.calendar_id = None  # counts on whatever calendar is the default
    with at_moment(REGISTERED):
        stages.schedule(clock, calendars.calendar_by_id(session, None), REGISTERED)
    session.flush()
    with at_moment(NOW):
        teams.create_calendar(session, CalendarFields(name="Late", opens="12:00", closes="18:00",
                                                      weekdays=[0, 1, 2, 3, 4], is_default=True))
    clock = _resolution(session, claim)
    late = calendars.calendar_by_id(session, None)
    # Six hours counted on the old default stay; the rest counts on the new one.
    assert (clock.elapsed_seconds, clock.running_since) == (6 * HOUR, NOW)
    assert clock.due_at == _due(late, clock, NOW)
