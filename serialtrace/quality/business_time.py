"""Business seconds for many stretches at once on one calendar: the numbers warranty.sla counts, as numpy arrays.

Business time between two moments is F(end) - F(start), where F counts the working seconds from a fixed day up to a
moment: whole working days before the moment's day (numpy's business-day counter) plus the part of its own day's
working hours already passed. Twenty thousand stretches take milliseconds instead of a second of per-claim calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..warranty import sla

# Time zones change their offset on a quarter hour at the finest: one offset lookup per quarter hour touched.
_QUARTER = 900.0
_DAY = 86400.0
_EPOCH = datetime(1970, 1, 1)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC time: SQLite hands timestamps back without their zone, always UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_seconds(moments: Sequence[datetime]) -> np.ndarray:
    """Seconds since 1970 UTC of each moment (naive ones are UTC, as stored)."""
    return np.fromiter(((m - _EPOCH).total_seconds() if m.tzinfo is None else m.timestamp() for m in moments),
                       dtype=float, count=len(moments))


def local_seconds(timezone: str, moments: Sequence[datetime] | np.ndarray) -> np.ndarray:
    """The moments (datetimes, or seconds since 1970 UTC) as wall-clock seconds since 1970 in `timezone`."""
    utc = moments if isinstance(moments, np.ndarray) else _utc_seconds(moments)
    if timezone == "UTC" or utc.size == 0:
        return utc
    zone = ZoneInfo(timezone)
    quarters, where = np.unique(np.floor(utc / _QUARTER), return_inverse=True)
    offsets = np.array([datetime.fromtimestamp(q * _QUARTER, zone).utcoffset().total_seconds()  # type: ignore[union-attr]
                        for q in quarters])
    return utc + offsets[where.reshape(-1)]


class epoch_seconds(FunctionElement):  # noqa: N801 - used like a SQL function
    """Seconds since 1970 UTC of a stored time, computed by the database: parsing twenty thousand timestamps in
    Python took most of a report's time."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # julianday counts whole milliseconds: rounded to them, the float noise of the day fraction goes.
    return f"(ROUND((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400000.0) / 1000.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


def _cumulative(calendar: sla.Calendar, walls: np.ndarray, epoch: np.datetime64,
                last: np.datetime64) -> np.ndarray:
    """Working seconds from `epoch` (a day) up to each wall-clock time."""
    day_numbers = np.floor(walls / _DAY)
    days = day_numbers.astype("int64").astype("datetime64[D]")
    seconds = walls - day_numbers * _DAY
    opens = calendar.opens.hour * 3600 + calendar.opens.minute * 60 + calendar.opens.second
    closes = calendar.closes.hour * 3600 + calendar.closes.minute * 60 + calendar.closes.second
    extra = np.array(sorted(calendar.extra_days), dtype="datetime64[D]")
    # A transferred working day is worked even on a holiday (sla._is_working): keep it out of the holidays.
    off = np.array(sorted(calendar.days_off(epoch.astype(object), last.astype(object)) - calendar.extra_days),
                   dtype="datetime64[D]")
    mask = [1 if day in calendar.weekdays else 0 for day in range(7)]
    if any(mask):
        before = np.busday_count(epoch, days, weekmask=mask, holidays=off)
        working = np.is_busday(days, weekmask=mask, holidays=off)
    else:
        before = np.zeros(days.shape, dtype=np.int64)
        working = np.zeros(days.shape, dtype=bool)
    # Transferred days on a weekday off are not business days to numpy: count them in by hand.
    added = np.array([d for d in sorted(calendar.extra_days) if d.weekday() not in calendar.weekdays],
                     dtype="datetime64[D]")
    before = before + np.searchsorted(added, days) - np.searchsorted(added, epoch)
    working = working | np.isin(days, extra)
    within = np.clip(seconds - opens, 0, closes - opens) * working
    return before * float(closes - opens) + within


def business_seconds(calendar: sla.Calendar, starts: Sequence[datetime] | np.ndarray,
                     ends: Sequence[datetime] | np.ndarray) -> np.ndarray:
    """Working seconds from each start to its end on `calendar` (an end before its start counts 0); times as
    datetimes or as seconds since 1970 UTC."""
    if len(starts) != len(ends):
        raise ValueError("each start needs its end")
    if len(starts) == 0:
        return np.zeros(0)
    begin, finish = local_seconds(calendar.timezone, starts), local_seconds(calendar.timezone, ends)
    both = np.concatenate([begin, finish])
    epoch = np.datetime64(int(np.floor(both.min() / _DAY)) - 1, "D")
    last = np.datetime64(int(np.floor(both.max() / _DAY)) + 1, "D")
    spent = _cumulative(calendar, finish, epoch, last) - _cumulative(calendar, begin, epoch, last)
    return np.maximum(spent, 0.0)


def running_until(started: datetime, now: datetime) -> datetime:
    """The end of a stretch still running at `now` (never before it started)."""
    return max(as_utc(started), as_utc(now))

