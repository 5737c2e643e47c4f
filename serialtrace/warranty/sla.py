"""Business-time SLA with no database: calendars, business seconds, SLA clocks, priorities and statutory clocks."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_data

from serialtrace.errors import InvalidTransition, ValidationError
from serialtrace.i18n import _l

WORKWEEK = frozenset({0, 1, 2, 3, 4})
# Escalation thresholds in percent of a clock's target: assignee, assignee and supervisor, the next level.
ESCALATION_THRESHOLDS = (75, 100, 150)
# Widest span a deadline search covers: a calendar with working time finds it long before this.
_SEARCH_LIMIT = timedelta(days=366 * 10)


# ---------------------------------------------------------------------------------------------- business time


def _check_hours(opens: time, closes: time, weekdays: Iterable[int]) -> None:
    """Refuse a day that closes before (or when) it opens, or a weekday outside Monday (0) to Sunday (6)."""
    if closes <= opens:
        raise ValueError(_l("a working day must close after it opens"))
    if not set(weekdays) <= set(range(7)):
        raise ValueError(_l("working weekdays are numbered 0 (Monday) to 6 (Sunday)"))


def _wall_clock(start: datetime, end: datetime, timezone: str | None) -> tuple[datetime, datetime]:
    """Both times as naive wall-clock times: aware ones in `timezone` (or the start's own zone), naive ones as given."""
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ValueError(_l("the start and end must both have a time zone or both have none"))
    if start.tzinfo is None:
        return start, end
    zone = ZoneInfo(timezone) if timezone else start.tzinfo
    return start.astimezone(zone).replace(tzinfo=None), end.astimezone(zone).replace(tzinfo=None)


def _weekday_count(first: date, last: date, weekdays: frozenset[int]) -> int:
    """How many days from `first` to `last` (both included) fall on `weekdays`: whole weeks by arithmetic."""
    days = (last - first).days + 1
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    start = first.weekday()
    return weeks * len(weekdays) + sum(1 for offset in range(rest) if (start + offset) % 7 in weekdays)


def _is_working(day: date, weekdays: frozenset[int], holidays: frozenset[date], extra: frozenset[date]) -> bool:
    """A transferred working day is worked even on a holiday; otherwise a working weekday that is not a holiday."""
    return day in extra or (day.weekday() in weekdays and day not in holidays)


def _working_days(first: date, last: date, weekdays: frozenset[int], holidays: frozenset[date],
                  extra: frozenset[date]) -> int:
    """Working days from `first` to `last` (both included): weekdays less holidays on them, plus transferred days."""
    count = _weekday_count(first, last, weekdays)
    count -= sum(1 for day in holidays if first <= day <= last and day.weekday() in weekdays and day not in extra)
    count += sum(1 for day in extra if first <= day <= last and day.weekday() not in weekdays)
    return count


def _day_overlap(day: date, start: datetime, end: datetime, opens: time, closes: time) -> float:
    """Seconds of `day`'s working hours between `start` and `end`."""
    overlap = min(end, datetime.combine(day, closes)) - max(start, datetime.combine(day, opens))
    return max(0.0, overlap.total_seconds())


def business_seconds(start: datetime, end: datetime, *, opens: time, closes: time,
                     weekdays: frozenset[int] = WORKWEEK, holidays: frozenset[date] = frozenset(),
                     extra_days: frozenset[date] = frozenset(), timezone: str | None = None) -> float:
    """Seconds of working time between `start` and `end`: working hours `opens`-`closes` in local wall-clock time.

    Naive times are wall-clock times of the calendar; aware ones are first converted to `timezone` (or, without
    one, to the start's zone), so a day's hours stay 10:00-18:00 local across a daylight-saving change.
    `extra_days` are transferred working days, worked whatever their weekday or holiday.
    """
    _check_hours(opens, closes, weekdays)
    start, end = _wall_clock(start, end, timezone)
    if end < start:
        raise ValueError(_l("the end %(end)s is before the start %(start)s", end=end, start=start))
    weekdays, holidays, extra = frozenset(weekdays), frozenset(holidays), frozenset(extra_days)
    first, last = start.date(), end.date()
    if first == last:
        return _day_overlap(first, start, end, opens, closes) if _is_working(first, weekdays, holidays, extra) else 0.0
    total = 0.0
    for day in (first, last):
        if _is_working(day, weekdays, holidays, extra):
            total += _day_overlap(day, start, end, opens, closes)
    day_length = (datetime.combine(first, closes) - datetime.combine(first, opens)).total_seconds()
    whole = _working_days(first + timedelta(days=1), last - timedelta(days=1), weekdays, holidays, extra)
    return total + whole * day_length


@lru_cache(maxsize=256)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of `country` in `year`, from the `holidays` package."""
    return frozenset(holiday_data.country_holidays(country, years=year))


@dataclass(frozen=True)
class Calendar:
    """Working hours on working weekdays (Monday 0) in a time zone; the country's and the company's days off
    are not worked, transferred working days (`extra_days`, such as a worked Saturday) are."""

    opens: time = time(10, 0)
    closes: time = time(18, 0)
    weekdays: frozenset[int] = WORKWEEK
    holidays: frozenset[date] = frozenset()
    extra_days: frozenset[date] = frozenset()
    timezone: str = "UTC"
    country: str | None = None

    @classmethod
    def build(cls, *, opens: time = time(10, 0), closes: time = time(18, 0), weekdays: Iterable[int] = WORKWEEK,
              holidays: Iterable[date] = (), extra_days: Iterable[date] = (), timezone: str = "UTC",
              country: str | None = None) -> Calendar:
        """A checked calendar, or a ValidationError naming the field that is wrong."""
        if closes <= opens:
            raise ValidationError(_l("the working day must close after it opens (%(opens)s-%(closes)s)",
                                     opens=opens.isoformat("minutes"), closes=closes.isoformat("minutes")),
                                  details={"field": "closes"})
        days = frozenset(weekdays)
        if not days <= set(range(7)) or any(isinstance(d, bool) or not isinstance(d, int) for d in days):
            raise ValidationError(_l("working weekdays are numbered 0 (Monday) to 6 (Sunday)"),
                                  details={"field": "weekdays"})
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_l("unknown time zone %(zone)r", zone=timezone), details={"field": "timezone"}) \
                from None
        if country is not None:
            try:
                holiday_data.country_holidays(country)
            except NotImplementedError:
                raise ValidationError(_l("no public holidays are known for the country %(country)r",
                                         country=country), details={"field": "country"}) from None
        return cls(opens=opens, closes=closes, weekdays=days, holidays=frozenset(holidays),
                   extra_days=frozenset(extra_days), timezone=timezone, country=country)

    def days_off(self, first: date, last: date) -> frozenset[date]:
        """The company's days off and, with a country, its public holidays in the years `first` to `last`."""
        if self.country is None:
            return self.holidays
        public = (_country_holidays(self.country, year) for year in range(first.year, last.year + 1))
        return self.holidays.union(*public)

    def local(self, moment: datetime) -> datetime:
        """`moment` as a naive wall-clock time of this calendar (naive times already are)."""
        return moment if moment.tzinfo is None else moment.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of working time between `start` and `end` on this calendar."""
        start, end = self.local(start), self.local(end)
        return business_seconds(start, end, opens=self.opens, closes=self.closes, weekdays=self.weekdays,
                                holidays=self.days_off(min(start, end).date(), max(start, end).date()),
                                extra_days=self.extra_days)

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The earliest moment by which `seconds` of working time have passed since `start` (same kind of time).

        Walks the working days from `start` (the escalation pass computes one per clock it acts on, so no search)."""
        if seconds <= 0:
            return start
        wall = self.local(start)
        left = float(seconds)
        off = self.days_off(wall.date(), wall.date() + _SEARCH_LIMIT)
        for offset in range(_SEARCH_LIMIT.days + 1):
            day = wall.date() + timedelta(days=offset)
            if not _is_working(day, self.weekdays, off, self.extra_days):
                continue
            begin = max(wall, datetime.combine(day, self.opens))
            close = datetime.combine(day, self.closes)
            available = (close - begin).total_seconds()
            if available >= left:
                return self._aware_like(begin + timedelta(seconds=left), start)
            left -= max(0.0, available)
        raise ValueError(_l("this calendar has no working time to reach the deadline"))

    def _aware_like(self, wall: datetime, like: datetime) -> datetime:
        """A wall-clock time of this calendar as the same kind of time as `like` (aware in UTC when it is aware)."""
        if like.tzinfo is None:
            return wall
        return wall.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(like.tzinfo)


# ---------------------------------------------------------------------------------------------- priority


class Priority(enum.StrEnum):
    """P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


# Impact and urgency are graded 1 (high), 2 (medium), 3 (low).
LEVELS = (1, 2, 3)


def priority(impact: int, urgency: int) -> Priority:
    """The priority of an impact and an urgency (each 1 high to 3 low): high and high is P1, low and low P4."""
    if isinstance(impact, bool) or impact not in LEVELS:
        raise ValidationError(_l("impact must be 1 (high), 2 (medium) or 3 (low), not %(value)r", value=impact),
                              details={"field": "impact"})
    if isinstance(urgency, bool) or urgency not in LEVELS:
        raise ValidationError(_l("urgency must be 1 (high), 2 (medium) or 3 (low), not %(value)r", value=urgency),
                              details={"field": "urgency"})
    return Priority(f"P{min(4, impact + urgency - 1)}")


# ---------------------------------------------------------------------------------------------- SLA clocks


class ClockState(enum.StrEnum):
    """Running counts business time; paused (waiting for someone outside) and stopped do not."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Segment:
    """A stretch of the clock running: from `started` until `ended` (None while it still runs)."""

    started: datetime
    ended: datetime | None = None


@dataclass(frozen=True)
class Clock:
    """An SLA clock for one cycle: its target in business seconds, its calendar and the stretches it ran.

    `breached` records a breach seen at a change (pause, stop, new target), so it stays for the cycle.
    """

    target: float
    calendar: Calendar
    segments: tuple[Segment, ...]
    state: ClockState = ClockState.RUNNING
    breached: bool = False
    cycle: int = 1


def _check_target(target: float) -> float:
    """A target is a positive number of business seconds."""
    if isinstance(target, bool) or not isinstance(target, int | float) or not target > 0:
        raise ValidationError(_l("an SLA target must be more than 0 business seconds, not %(target)r", target=target),
                              details={"field": "target"})
    return float(target)


def start_clock(target: float, calendar: Calendar, now: datetime) -> Clock:
    """A clock that starts running at `now`."""
    return Clock(target=_check_target(target), calendar=calendar, segments=(Segment(now),))


def _require(clock: Clock, state: ClockState, refusal: str) -> None:
    """Refuse an action the clock's state does not allow, with `refusal` as the reason."""
    if clock.state is not state:
        raise InvalidTransition(refusal, details={"state": clock.state.value})


def _check_time(clock: Clock, now: datetime) -> None:
    """Refuse a change dated before the clock's last change."""
    last = clock.segments[-1]
    latest = last.ended or last.started
    if now < latest:
        raise ValueError(_l("the time %(now)s is before the clock's last change at %(latest)s", now=now, latest=latest))


def elapsed(clock: Clock, now: datetime) -> float:
    """Business seconds the clock has run in this cycle, up to `now` for a running clock."""
    total = 0.0
    for segment in clock.segments:
        end = segment.ended if segment.ended is not None else max(now, segment.started)
        total += clock.calendar.business_seconds(segment.started, end)
    return total


def remaining(clock: Clock, now: datetime) -> float:
    """Business seconds left before the target: negative once it is exceeded."""
    return clock.target - elapsed(clock, now)


def breached(clock: Clock, now: datetime) -> bool:
    """Over target (equal is met), or breached earlier in this cycle."""
    return clock.breached or elapsed(clock, now) > clock.target


def percent(clock: Clock, now: datetime) -> float:
    """Elapsed business time as a percentage of the target."""
    return 100 * elapsed(clock, now) / clock.target


def thresholds_passed(clock: Clock, now: datetime) -> tuple[int, ...]:
    """The escalation thresholds (75, 100, 150 %) the clock has gone past: 100 % only when breached."""
    spent = elapsed(clock, now)
    return tuple(pct for pct in ESCALATION_THRESHOLDS if spent * 100 > pct * clock.target)


def deadline(clock: Clock, now: datetime) -> datetime | None:
    """When a running clock reaches its target if it keeps running; None when paused or stopped."""
    if clock.state is not ClockState.RUNNING:
        return None
    left = remaining(clock, now)
    start = max(now, clock.segments[-1].started)
    return clock.calendar.add_business_seconds(start, left) if left > 0 else start


def _close(clock: Clock, now: datetime, state: ClockState) -> Clock:
    """End the running stretch at `now`, keeping a breach it reached."""
    _check_time(clock, now)
    segments = (*clock.segments[:-1], Segment(clock.segments[-1].started, now))
    return replace(clock, segments=segments, state=state, breached=breached(clock, now))


def pause(clock: Clock, now: datetime) -> Clock:
    """Stop counting while the claim waits on someone outside (the customer, a return)."""
    _require(clock, ClockState.RUNNING, _l("only a running SLA clock can be paused"))
    return _close(clock, now, ClockState.PAUSED)


def resume(clock: Clock, now: datetime) -> Clock:
    """Count again from `now`, keeping the time already spent."""
    _require(clock, ClockState.PAUSED, _l("only a paused SLA clock can be resumed"))
    _check_time(clock, now)
    return replace(clock, segments=(*clock.segments, Segment(now)), state=ClockState.RUNNING)


def stop(clock: Clock, now: datetime) -> Clock:
    """The clock's condition is met (first response given, claim resolved): it counts no more in this cycle."""
    if clock.state is ClockState.STOPPED:
        raise InvalidTransition(_l("the SLA clock is already stopped"), details={"state": clock.state.value})
    if clock.state is ClockState.PAUSED:
        _check_time(clock, now)
        return replace(clock, state=ClockState.STOPPED)
    return _close(clock, now, ClockState.STOPPED)


def change_target(clock: Clock, target: float, now: datetime) -> Clock:
    """A new target (the priority changed): the elapsed time is kept, and a breach already reached stays."""
    return replace(clock, target=_check_target(target), breached=breached(clock, now))


def reopen(clock: Clock, now: datetime, target: float | None = None) -> Clock:
    """A new cycle from `now` (the claim came back): elapsed time and breach start again from nothing."""
    _require(clock, ClockState.STOPPED, _l("only a stopped SLA clock can be reopened"))
    _check_time(clock, now)
    return Clock(target=_check_target(clock.target if target is None else target), calendar=clock.calendar,
                 segments=(Segment(now),), cycle=clock.cycle + 1)


# ---------------------------------------------------------------------------------------------- statutory clock


@dataclass(frozen=True)
class StatutoryClock:
    """A legal deadline in calendar days from `started` that never pauses (consumer-law deadlines)."""

    started: datetime
    days: int

    @classmethod
    def build(cls, started: datetime, days: int) -> StatutoryClock:
        """A checked statutory clock: at least one day."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValidationError(_l("a statutory deadline must be a whole number of days, 1 or more, not %(days)r",
                                     days=days), details={"field": "days"})
        return cls(started=started, days=days)

    @property
    def deadline(self) -> datetime:
        """The start plus the days (same wall-clock time of day)."""
        return self.started + timedelta(days=self.days)

    def remaining(self, now: datetime) -> float:
        """Seconds left until the deadline: negative once it has passed."""
        return (self.deadline - now).total_seconds()

    def breached(self, now: datetime) -> bool:
        """Past the deadline (at the deadline is still met)."""
        return now > self.deadline
