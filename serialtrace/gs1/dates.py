"""GS1 dates YYMMDD: the century rule and DD=00 as the last day of the month."""

from __future__ import annotations

import calendar
import datetime

from ..i18n import _l
from .errors import GS1Error

# Every MMDD a date can have, and the MMDD with day 00 where an AI allows it; a set
# lookup keeps the scan path fast. Leap years inside any 100-year window around today are
# exactly the multiples of 4 (2000 was one), so YY alone decides 29 February.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_VALID_MMDD = frozenset(f"{m:02d}{d:02d}" for m in range(1, 13) for d in range(1, _MONTH_DAYS[m - 1] + 1))
_ZERO_DAY_MMDD = frozenset(f"{m:02d}00" for m in range(1, 13))


def ensure_yymmd0(ai: str, text: str) -> None:
    """Raise GS1Error unless text is a possible YYMMDD date, DD=00 allowed."""
    mmdd = text[2:]
    if mmdd in _VALID_MMDD:
        if mmdd != "0229" or int(text[:2]) % 4 == 0:
            return
    elif mmdd in _ZERO_DAY_MMDD:
        return
    raise GS1Error(_l("(%(ai)s) %(value)s is not a valid date", ai=ai, value=text))


def ensure_yymmdd(ai: str, text: str) -> None:
    """Raise GS1Error unless text is a possible YYMMDD date with a real day."""
    if text[2:] in _ZERO_DAY_MMDD:
        raise GS1Error(_l("(%(ai)s) %(value)s is not a valid date (day 00 is not allowed for (%(ai)s))", ai=ai,
                          value=text))
    ensure_yymmd0(ai, text)


def century_year(yy: int, today: datetime.date) -> int:
    """Place a two-digit year within -49..+50 years of today's year (GS1 General Specifications 7.12)."""
    current = today.year
    year = current - current % 100 + yy
    if year - current > 50:
        year -= 100
    elif current - year > 49:
        year += 100
    return year


def parse_date(ai: str, yymmdd: str, *, today: datetime.date | None = None) -> datetime.date:
    """Turn the YYMMDD value of a date AI into a date, DD=00 meaning the month's last day."""
    from .table import AI_TABLE  # late import: the table module imports this one

    spec = AI_TABLE.get(ai) if isinstance(ai, str) else None
    if spec is None or spec.date_kind is None:
        raise GS1Error(_l("(%(ai)s) is not a date AI", ai=ai))
    if not isinstance(yymmdd, str) or len(yymmdd) != 6 or not yymmdd.isascii() or not yymmdd.isdigit():
        raise GS1Error(_l("(%(ai)s) %(yymmdd)r is not a date in the form YYMMDD", ai=ai, yymmdd=yymmdd))
    (ensure_yymmd0 if spec.date_kind == "yymmd0" else ensure_yymmdd)(ai, yymmdd)
    year = century_year(int(yymmdd[:2]), today or datetime.date.today())
    month = int(yymmdd[2:4])
    day = int(yymmdd[4:6]) or calendar.monthrange(year, month)[1]
    try:
        return datetime.date(year, month, day)
    except ValueError:
        # 29 February in a year that the century rule places outside the leap years.
        raise GS1Error(_l("(%(ai)s) %(value)s is not a valid date", ai=ai, value=yymmdd)) from None
