"""Business time and SLA clocks agree with the reference cases, across holidays, transfers, DST and long spans."""

from __future__ import annotations

import random
import time as clock_time
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from serialtrace.errors import InvalidTransition, ValidationError
from serialtrace.warranty import sla

TEN_TO_SIX = {"opens": time(10), "closes": time(18)}
HOUR = 3600.0
MON = datetime(2021, 6, 28, 10)  # a Monday at opening time


# ---------------------------------------------------------------------------------------------- business seconds


@pytest.mark.parametrize(("start", "end", "seconds"), [
    ("2021-06-28 11:00", "2021-06-28 12:00", 3600),
    ("2021-06-28 12:00", "2021-06-28 20:00", 21600),
    ("2021-06-28 06:00", "2021-06-28 12:00", 7200),
    ("2021-06-28 19:00", "2021-06-28 20:00", 0),
    ("2021-06-27 10:00", "2021-06-27 11:00", 0),
    ("2021-06-28 06:00", "2021-06-29 06:00", 28800),
    ("2021-06-25 06:00", "2021-06-26 11:00", 28800),
    ("2021-06-28 12:00", "2021-07-01 20:00", 108000),
    ("2021-06-25 12:00", "2021-06-27 11:00", 21600),
    ("2021-06-28 20:00", "2021-07-01 11:00", 61200),
])
def test_business_seconds_on_a_monday_to_friday_ten_to_six_calendar(start, end, seconds):
    start, end = datetime.fromisoformat(start), datetime.fromisoformat(end)
    result = sla.business_seconds(start, end, **TEN_TO_SIX)
    assert isinstance(result, float) and result == seconds
    assert sla.Calendar.build().business_seconds(start, end) == seconds


def test_business_seconds_skip_holidays_and_refuse_an_end_before_the_start():
    holidays = frozenset({date(2021, 6, 28)})
    assert sla.business_seconds(datetime(2021, 6, 28, 9), datetime(2021, 6, 29, 11), holidays=holidays,
                                **TEN_TO_SIX) == 3600
    with pytest.raises(ValueError, match="is before the start"):
        sla.business_seconds(datetime(2021, 6, 28, 12), datetime(2021, 6, 28, 11), **TEN_TO_SIX)
    assert sla.business_seconds(MON, MON, **TEN_TO_SIX) == 0


def test_business_seconds_count_seconds_below_one_and_refuse_bad_hours_and_mixed_times():
    assert sla.business_seconds(MON, MON + timedelta(microseconds=500_000), **TEN_TO_SIX) == 0.5
    with pytest.raises(ValueError, match="must close after it opens"):
        sla.business_seconds(MON, MON, opens=time(18), closes=time(18))
    with pytest.raises(ValueError, match="numbered 0"):
        sla.business_seconds(MON, MON, weekdays=frozenset({7}), **TEN_TO_SIX)
    with pytest.raises(ValueError, match="both have a time zone"):
        sla.business_seconds(MON, MON.replace(tzinfo=ZoneInfo("UTC")), **TEN_TO_SIX)


def test_a_company_transfer_day_is_worked_and_a_country_holiday_is_not():
    ru = sla.Calendar.build(country="RU", timezone="Europe/Moscow")
    # Wednesday 2026-01-07 is Orthodox Christmas in Russia: no working time; Wednesday 2026-01-14 is an ordinary day.
    assert ru.business_seconds(datetime(2026, 1, 7, 9), datetime(2026, 1, 7, 20)) == 0
    assert ru.business_seconds(datetime(2026, 1, 14, 9), datetime(2026, 1, 14, 20)) == 8 * HOUR
    # The whole new-year break (1-9 January 2026) is off; Monday 12th is the first working day.
    assert ru.business_seconds(datetime(2025, 12, 31, 18), datetime(2026, 1, 12, 11)) == HOUR
    # The company works Saturday 2026-01-17 in exchange for a day off on Monday 2026-01-19.
    company = sla.Calendar.build(country="RU", timezone="Europe/Moscow", extra_days={date(2026, 1, 17)},
                                 holidays={date(2026, 1, 19)})
    saturday, monday = (datetime(2026, 1, 17), datetime(2026, 1, 18)), (datetime(2026, 1, 19), datetime(2026, 1, 20))
    assert (company.business_seconds(*saturday), company.business_seconds(*monday)) == (8 * HOUR, 0)
    assert (ru.business_seconds(*saturday), ru.business_seconds(*monday)) == (0, 8 * HOUR)
    # A transfer wins over a holiday: the company may work a public holiday.
    works_christmas = sla.Calendar.build(country="RU", extra_days={date(2026, 1, 7)})
    assert works_christmas.business_seconds(datetime(2026, 1, 7), datetime(2026, 1, 8)) == 8 * HOUR


def test_working_hours_are_local_wall_clock_across_daylight_saving():
    berlin = sla.Calendar.build(timezone="Europe/Berlin")
    moscow = sla.Calendar.build(timezone="Europe/Moscow")
    utc = ZoneInfo("UTC")
    # Berlin moves to summer time on Sunday 2026-03-29: 08:00-16:00 UTC is 09:00-17:00 before and 10:00-18:00 after.
    friday = (datetime(2026, 3, 27, 8, tzinfo=utc), datetime(2026, 3, 27, 16, tzinfo=utc))
    monday = (datetime(2026, 3, 30, 8, tzinfo=utc), datetime(2026, 3, 30, 16, tzinfo=utc))
    assert berlin.business_seconds(*friday) == 7 * HOUR
    assert berlin.business_seconds(*monday) == 8 * HOUR
    # Moscow keeps UTC+3 all year: 11:00-19:00 local on both days.
    assert moscow.business_seconds(*friday) == 7 * HOUR
    assert moscow.business_seconds(*monday) == 7 * HOUR
    # The whole week across the change: five full local days in Berlin, whichever zone the times come in.
    week = (datetime(2026, 3, 23, 0, tzinfo=utc), datetime(2026, 3, 28, 0, tzinfo=utc))
    assert berlin.business_seconds(*week) == 40 * HOUR
    new_york = ZoneInfo("America/New_York")
    assert berlin.business_seconds(*(moment.astimezone(new_york) for moment in week)) == 40 * HOUR
    # Naive times are already the calendar's wall clock.
    assert berlin.business_seconds(datetime(2026, 3, 30, 10), datetime(2026, 3, 30, 18)) == 8 * HOUR


def _day_by_day(start, end, calendar):
    """The plain loop over every day: the slow reference the arithmetic must agree with."""
    holidays = calendar.days_off(start.date(), end.date())
    total, day = 0.0, start.date()
    while day <= end.date():
        if day in calendar.extra_days or (day.weekday() in calendar.weekdays and day not in holidays):
            opens, closes = datetime.combine(day, calendar.opens), datetime.combine(day, calendar.closes)
            total += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
        day += timedelta(days=1)
    return total


def test_long_spans_are_fast_and_agree_with_the_day_by_day_loop():
    rng = random.Random(20261202)
    calendar = sla.Calendar.build(opens=time(9, 30), closes=time(17, 45), weekdays={0, 1, 2, 3, 5}, country="RU",
                                  holidays={date(2022, 3, 3), date(2024, 6, 1)},
                                  extra_days={date(2023, 4, 29), date(2021, 1, 7), date(2025, 7, 4)})
    base = datetime(2018, 1, 1)
    for _ in range(300):
        start = base + timedelta(seconds=rng.randrange(10 * 365 * 86400))
        end = start + timedelta(seconds=rng.randrange(rng.choice([86400, 30 * 86400, 5 * 365 * 86400])))
        assert calendar.business_seconds(start, end) == _day_by_day(start, end, calendar)
    began = clock_time.perf_counter()
    for _ in range(100):
        ten_years = sla.business_seconds(datetime(2016, 1, 1), datetime(2026, 1, 1), **TEN_TO_SIX)
    assert clock_time.perf_counter() - began < 0.1
    # 2016-2025: 3653 days, 2609 of them Monday to Friday, eight hours each.
    assert ten_years == 2609 * 8 * HOUR


# ---------------------------------------------------------------------------------------------- calendars


@pytest.mark.parametrize(("fields", "field"), [
    ({"opens": time(18), "closes": time(10)}, "closes"),
    ({"opens": time(10), "closes": time(10)}, "closes"),
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"timezone": "../etc/passwd"}, "timezone"),
    ({"country": "XX"}, "country"),
    ({"weekdays": {0, 7}}, "weekdays"),
    ({"weekdays": {-1}}, "weekdays"),
])
def test_a_calendar_refuses_bad_fields_naming_them(fields, field):
    with pytest.raises(ValidationError) as caught:
        sla.Calendar.build(**fields)
    assert caught.value.details == {"field": field}


def test_deadline_search_lands_on_working_time():
    calendar = sla.Calendar.build()
    # Eight business hours from Friday noon: Friday's six, then two on Monday.
    assert calendar.add_business_seconds(datetime(2021, 6, 25, 12), 8 * HOUR) == datetime(2021, 6, 28, 12)
    assert calendar.add_business_seconds(datetime(2021, 6, 25, 12), 0) == datetime(2021, 6, 25, 12)
    with pytest.raises(ValueError, match="no working time"):
        sla.Calendar.build(weekdays=set()).add_business_seconds(MON, HOUR)


def test_the_deadline_is_the_first_moment_the_business_seconds_are_reached():
    # Moscow hours with Russia's holidays and a worked Saturday; aware UTC starts, as the clocks store them.
    calendar = sla.Calendar.build(opens=time(9), closes=time(18), timezone="Europe/Moscow", country="RU",
                                  extra_days={date(2026, 11, 7)})
    rng = random.Random(11)
    for _ in range(300):
        start = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")) + timedelta(minutes=rng.randrange(0, 525_600))
        seconds = rng.choice([1, 60, 3600, 9 * 3600, 32_400 * 5, rng.uniform(1, 400_000)])
        end = calendar.add_business_seconds(start, seconds)
        assert end.tzinfo is not None
        assert calendar.business_seconds(start, end) == pytest.approx(seconds, abs=1e-3)
        # A second earlier the time was not yet reached.
        assert calendar.business_seconds(start, end - timedelta(seconds=1)) < seconds


# ---------------------------------------------------------------------------------------------- priority


@pytest.mark.parametrize(("impact", "urgency", "expected"), [
    (1, 1, "P1"), (1, 2, "P2"), (2, 1, "P2"), (1, 3, "P3"), (2, 2, "P3"), (3, 1, "P3"),
    (2, 3, "P4"), (3, 2, "P4"), (3, 3, "P4"),
])
def test_priority_from_impact_and_urgency(impact, urgency, expected):
    assert sla.priority(impact, urgency) == sla.Priority(expected)


@pytest.mark.parametrize(("impact", "urgency", "field"), [(0, 1, "impact"), (1, 4, "urgency"), (True, 1, "impact"),
                                                           ("1", 1, "impact")])
def test_priority_refuses_levels_outside_the_matrix(impact, urgency, field):
    with pytest.raises(ValidationError, match=field) as caught:
        sla.priority(impact, urgency)
    assert caught.value.details == {"field": field}


# ---------------------------------------------------------------------------------------------- clocks


def _clock(target_hours=4.0):
    """A four-hour clock on Monday-Friday 10-18, started Monday 10:00."""
    return sla.start_clock(target_hours * HOUR, sla.Calendar.build(), MON)


def test_equal_to_target_is_met_and_one_second_more_is_breached():
    clock = _clock()
    assert sla.elapsed(clock, MON + timedelta(hours=4)) == 4 * HOUR
    assert not sla.breached(clock, MON + timedelta(hours=4))
    assert sla.remaining(clock, MON + timedelta(hours=4)) == 0
    assert sla.breached(clock, MON + timedelta(hours=4, seconds=1))
    assert sla.remaining(clock, MON + timedelta(hours=5)) == -HOUR
    assert sla.deadline(clock, MON) == MON + timedelta(hours=4)


def test_pause_stops_the_count_and_resume_keeps_what_was_spent():
    clock = sla.pause(_clock(), MON + timedelta(hours=1))
    assert clock.state is sla.ClockState.PAUSED
    # Waiting for the customer all Monday and Tuesday morning counts nothing.
    assert sla.elapsed(clock, MON + timedelta(days=1, hours=2)) == HOUR
    assert sla.deadline(clock, MON + timedelta(days=1)) is None
    clock = sla.resume(clock, MON + timedelta(days=1, hours=2))
    assert sla.elapsed(clock, MON + timedelta(days=1, hours=3)) == 2 * HOUR
    assert sla.deadline(clock, MON + timedelta(days=1, hours=3)) == MON + timedelta(days=1, hours=5)
    assert len(clock.segments) == 2
    with pytest.raises(InvalidTransition, match="only a paused SLA clock can be resumed"):
        sla.resume(clock, MON + timedelta(days=1, hours=4))
    with pytest.raises(ValueError, match="before the clock's last change"):
        sla.pause(clock, MON + timedelta(days=1))


def test_a_priority_change_keeps_the_elapsed_time():
    clock = _clock(8)
    at = MON + timedelta(hours=3)
    faster = sla.change_target(clock, 2 * HOUR, at)
    assert sla.elapsed(faster, at) == 3 * HOUR and faster.segments == clock.segments
    assert sla.breached(faster, at) and sla.remaining(faster, at) == -HOUR
    with pytest.raises(ValidationError) as caught:
        sla.change_target(clock, 0, at)
    assert caught.value.details == {"field": "target"}


def test_a_breach_stays_breached_for_the_cycle_even_when_the_target_is_raised():
    clock = sla.change_target(_clock(2), 8 * HOUR, MON + timedelta(hours=3))
    assert clock.breached and sla.breached(clock, MON + timedelta(hours=3))
    paused = sla.pause(_clock(2), MON + timedelta(hours=3))
    assert sla.breached(sla.change_target(paused, 8 * HOUR, MON + timedelta(hours=4)), MON + timedelta(hours=4))
    # A target raised before the breach keeps the clock within it.
    early = sla.change_target(_clock(2), 8 * HOUR, MON + timedelta(hours=1))
    assert not sla.breached(early, MON + timedelta(hours=3))


def test_stop_freezes_the_clock_and_reopen_starts_a_new_cycle():
    clock = sla.stop(_clock(2), MON + timedelta(hours=3))
    assert clock.state is sla.ClockState.STOPPED and clock.breached
    assert sla.elapsed(clock, MON + timedelta(days=3)) == 3 * HOUR
    with pytest.raises(InvalidTransition, match="already stopped"):
        sla.stop(clock, MON + timedelta(hours=4))
    with pytest.raises(InvalidTransition, match="only a running SLA clock can be paused"):
        sla.pause(clock, MON + timedelta(hours=4))
    again = sla.reopen(clock, MON + timedelta(days=1))
    assert again.cycle == 2 and again.state is sla.ClockState.RUNNING and not again.breached
    assert sla.elapsed(again, MON + timedelta(days=1, hours=1)) == HOUR
    assert not sla.breached(again, MON + timedelta(days=1, hours=1))
    with pytest.raises(InvalidTransition, match="only a stopped SLA clock can be reopened"):
        sla.reopen(again, MON + timedelta(days=2))
    assert sla.stop(sla.pause(_clock(), MON + timedelta(hours=1)), MON + timedelta(hours=2)).state == "stopped"


def test_escalation_thresholds_at_75_100_and_150_percent():
    clock = _clock(4)
    assert sla.percent(clock, MON + timedelta(hours=3)) == 75
    assert sla.thresholds_passed(clock, MON + timedelta(hours=3)) == ()
    assert sla.thresholds_passed(clock, MON + timedelta(hours=3, seconds=1)) == (75,)
    assert sla.thresholds_passed(clock, MON + timedelta(hours=4)) == (75,)
    assert sla.thresholds_passed(clock, MON + timedelta(hours=4, seconds=1)) == (75, 100)
    assert sla.thresholds_passed(clock, MON + timedelta(hours=6, seconds=1)) == (75, 100, 150)


def test_a_statutory_clock_counts_calendar_days_and_never_pauses():
    statutory = sla.StatutoryClock.build(datetime(2026, 1, 1, 12), 10)
    assert statutory.deadline == datetime(2026, 1, 11, 12)
    assert statutory.remaining(datetime(2026, 1, 10, 12)) == 86400
    assert not statutory.breached(datetime(2026, 1, 11, 12))
    assert statutory.breached(datetime(2026, 1, 11, 12, 0, 1))
    with pytest.raises(ValidationError) as caught:
        sla.StatutoryClock.build(datetime(2026, 1, 1), 0)
    assert caught.value.details == {"field": "days"}
