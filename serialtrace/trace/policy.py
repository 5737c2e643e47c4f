"""Pure rules of the trace domain: identifiers, limits, business dates, warranty status. No database."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..errors import ValidationError
from ..gs1 import check_digit
from ..i18n import Message, _l

# GS1 character set 82 minus the characters a batch/serial should never need on a label.
_CODE_RE = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_SKU_RE = re.compile(r"\S(.{0,62}\S)?")

# Most units one batch holds: what one registration creates, and what one ERP row may ship of it.
MAX_BATCH_QUANTITY = 10_000_000
# Integer keys and counts are 32-bit in the database; a larger number is refused before it reaches the driver.
MAX_INT = 2**31 - 1


def ensure_code(value: str, *, what: str) -> str:
    """A batch number or serial: 1-20 characters of GS1 character set 82, so it fits AI (10)/(21)."""
    value = (value or "").strip()
    if not _CODE_RE.fullmatch(value):
        raise ValidationError(
            _l("%(what)s %(value)r must be 1 to 20 characters of GS1 set 82 (letters, digits, -./ and similar)",
               what=what, value=value),
            details={"field": what},
        )
    return value


def ensure_sku(value: str) -> str:
    """A product article/SKU: 1-64 visible characters."""
    value = (value or "").strip()
    if not _SKU_RE.fullmatch(value):
        raise ValidationError(_l("SKU %(value)r must be 1 to 64 characters", value=value), details={"field": "sku"})
    return value


def normalise_gtin(value: str | None) -> str | None:
    """GTIN-8/12/13/14 padded to 14 digits with a verified check digit, or None when empty."""
    if value is None or not value.strip():
        return None
    digits = value.strip()
    # isascii: str.isdigit() also accepts other scripts' digits, which no barcode carries.
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in (8, 12, 13, 14):
        raise ValidationError(_l("GTIN %(value)r must be 8, 12, 13 or 14 digits", value=value),
                              details={"field": "gtin"})
    digits = digits.zfill(14)
    expected = check_digit(digits[:-1])
    if digits[-1] != expected:
        raise ValidationError(
            _l("GTIN %(value)r has check digit %(digits)s, expected %(expected)s", value=value, digits=digits[-1],
               expected=expected), details={"field": "gtin"}
        )
    return digits


def add_months(start: date, months: int) -> date:
    """`start` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# Longest shelf life: ten years covers products with a limited life (electrochemical cells, batteries, seals), and
# keeps the expiry date (17) well inside the 49 years ahead GS1's two-digit year can name.
MAX_SHELF_LIFE_MONTHS = 120


def ensure_shelf_life_months(value: object) -> int | None:
    """A product's shelf life: None (it does not expire) or 1 to 120 whole months."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHELF_LIFE_MONTHS:
        raise ValidationError(_l("shelf life must be 1 to %(max_shelf_life_months)s months, or none; got %(value)r",
                                 max_shelf_life_months=MAX_SHELF_LIFE_MONTHS, value=value),
                              details={"field": "shelf_life_months"})
    return value


def expiry_date(produced_on: date, shelf_life_months: int | None) -> date | None:
    """The expiry date (17) of a unit: production date plus the shelf life (a month end clamps to the shorter
    month's last day, the earlier and safe side); None for products without a shelf life."""
    return add_months(produced_on, shelf_life_months) if shelf_life_months else None


# Production, shipment and sale dates are accepted from here to one year after today: the product did not exist
# before, and a date further ahead is a typo or an ERP placeholder that would make warranty arithmetic meaningless.
EARLIEST_BUSINESS_DATE = date(1990, 1, 1)
BUSINESS_DATE_MONTHS_AHEAD = 12

_DATE_LABELS = {"produced_on": "production date", "shipped_on": "shipment date", "sold_on": "sale date"}

# The two ways dates arrive (1C's DD.MM.YYYY and ISO), with the time of day some exports append.
_DATE_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")

# What ERP systems write for "no date" or "for ever": 1C's empty date 01.01.0001, 31.12.9999, the zero days of
# Excel/OLE (30.12.1899), SQL Server (01.01.1753), Unix (01.01.1970) and the common 01.01.1900.
_PLACEHOLDER_DATES = frozenset({date(1, 1, 1), date(1753, 1, 1), date(1899, 12, 30), date(1899, 12, 31),
                                date(1900, 1, 1), date(1970, 1, 1), date(2099, 12, 31), date(2999, 12, 31)})


def parse_date(value: str, *, field: str, what: str | None = None) -> date:
    """A date typed or exported as DD.MM.YYYY or YYYY-MM-DD (a time of day after it is ignored).

    Every way a date comes in (CLI options, API fields, ERP import columns) reads it here; `field` names it in
    the error details and `what` in the message (by default the field's label, such as "production date").
    """
    what = what or _DATE_LABELS.get(field, field)
    text = value.strip() if isinstance(value, str) else ""
    match = _DATE_DMY.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _DATE_ISO.fullmatch(text)
        if not match:
            raise ValidationError(_l("%(what)s %(value)r is not a date (YYYY-MM-DD or DD.MM.YYYY)", what=what,
                                     value=value),
                                  details={"field": field})
        year, month, day = (int(g) for g in match.groups())
    if year == 0:
        # 00.00.0000 is how some systems export an empty date; say so instead of "not a calendar date".
        raise ValidationError(_l("%(what)s %(value)r is an ERP placeholder for 'no date', not a real date: send the "
                                 "real %(what)s", what=what, value=value), details={"field": field})
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError(_l("%(what)s %(value)r is not a real calendar date", what=what, value=value),
                              details={"field": field}) from None


def latest_business_date(today: date) -> date:
    """The last production, shipment or sale date accepted on `today`: one year ahead (29 Feb -> 28 Feb)."""
    try:
        return add_months(today, BUSINESS_DATE_MONTHS_AHEAD)
    except ValueError:
        return date.max


def is_placeholder_date(value: date) -> bool:
    """True for the dates ERP systems use to mean "no date" or "for ever" (01.01.0001, 31.12.9999, ...)."""
    return value in _PLACEHOLDER_DATES or value.year in (1, 9999)


def ensure_business_date(field: str, value: date, *, today: date, empty: str | None = None) -> date:
    """`value` when it is a real production/shipment/sale date: 1990-01-01 to one year after `today`.

    `field` names the field in the error (produced_on, shipped_on, sold_on); `empty` says what leaving the field
    empty does where the caller allows that ("today's date is used"), so the message can offer it.
    """
    label = _DATE_LABELS.get(field, field)
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValidationError(_l("%(label)s (%(field)s) must be a date, not %(value)r", label=label, field=field,
                                 value=value), details={"field": field})
    latest = latest_business_date(today)
    details = {"field": field, "earliest": EARLIEST_BUSINESS_DATE.isoformat(), "latest": latest.isoformat()}
    if is_placeholder_date(value):
        instead = f"send the real {label}" + (f", or leave it empty ({empty})" if empty else "")
        raise ValidationError(_l("%(label)s %(value)s (%(field)s) is an ERP placeholder for 'no date', not a real "
                                 "date: %(instead)s", label=label, value=value.isoformat(), field=field,
                                 instead=instead), details=details)
    if not EARLIEST_BUSINESS_DATE <= value <= latest:
        raise ValidationError(_l("%(label)s %(value)s (%(field)s) is outside the accepted range "
                                 "%(earliest_business_date)s to %(latest)s (one year after today)", label=label,
                                 value=value.isoformat(), field=field,
                                 earliest_business_date=EARLIEST_BUSINESS_DATE.isoformat(), latest=latest.isoformat()),
                              details=details)
    return value


@dataclass(frozen=True)
class WarrantyStatus:
    """Whether a unit is under warranty on a day, with the reason spelled out."""

    status: str  # in_warranty | expired | not_started | unknown (the start date cannot be a real one)
    until: date | None
    start: date | None
    reason: str

    def as_dict(self) -> dict:
        """JSON shape used by the dossier."""
        return {
            "status": self.status,
            "in_warranty": self.status == "in_warranty",
            "until": self.until.isoformat() if self.until else None,
            "start": self.start.isoformat() if self.start else None,
            "reason": self.reason,
        }


def warranty_status(*, months: int, start_rule: str, shipped_on: date | None, sold_on: date | None,
                    today: date, grace_days: int = 0) -> WarrantyStatus:
    """Warranty on `today`: starts at sale when registered and the product says so, else at first shipment."""
    if start_rule == "sale" and sold_on is not None:
        start, basis = sold_on, "sold"
    elif shipped_on is not None:
        start, basis = shipped_on, "shipped"
    elif sold_on is not None:
        start, basis = sold_on, "sold"
    else:
        return WarrantyStatus("not_started", None, None,
                              _l("warranty not started: the unit has not been shipped or sold"))
    sold = basis == "sold"
    # Rows written before dates were checked (or straight into the database) may hold placeholders; the dossier
    # must still open, so such a start is reported instead of being computed or raising.
    if is_placeholder_date(start):
        return WarrantyStatus("unknown", None, start, _l(
            "warranty cannot be computed: the sale date %(start)s is an ERP placeholder, not a real date; correct the "
            "sale date", start=start) if sold else _l(
            "warranty cannot be computed: the shipment date %(start)s is an ERP placeholder, not a real date; correct "
            "the shipment date", start=start))
    if start > latest_business_date(today):
        return WarrantyStatus("unknown", None, start, _l(
            "warranty cannot be computed: the sale date %(start)s lies more than a year ahead; correct the sale date",
            start=start) if sold else _l(
            "warranty cannot be computed: the shipment date %(start)s lies more than a year ahead; correct the "
            "shipment date", start=start))
    try:
        until = add_months(start, months)
        last_day = until + timedelta(days=grace_days)
    except (ValueError, OverflowError):
        return WarrantyStatus("unknown", None, start, _past_calendar(start, months, grace_days, sold))
    return WarrantyStatus(*_computed(today <= last_day, until, start, months, grace_days, sold))


def _past_calendar(start: date, months: int, grace_days: int, sold: bool) -> Message:
    """Why a warranty whose end lies past 9999-12-31 cannot be computed, as one sentence."""
    p = {"start": start, "months": months, "grace": grace_days}
    if sold:
        return (_l("warranty cannot be computed: the sale date %(start)s plus %(months)s months + %(grace)s days grace "
                   "falls past the last date the calendar holds (9999-12-31); check the sale date and the warranty "
                   "months", **p) if grace_days else
                _l("warranty cannot be computed: the sale date %(start)s plus %(months)s months falls past the last "
                   "date the calendar holds (9999-12-31); check the sale date and the warranty months", **p))
    return (_l("warranty cannot be computed: the shipment date %(start)s plus %(months)s months + %(grace)s days "
               "grace falls past the last date the calendar holds (9999-12-31); check the shipment date and the "
               "warranty months", **p) if grace_days else
            _l("warranty cannot be computed: the shipment date %(start)s plus %(months)s months falls past the last "
               "date the calendar holds (9999-12-31); check the shipment date and the warranty months", **p))


def _computed(inside: bool, until: date, start: date, months: int, grace_days: int,
              sold: bool) -> tuple[str, date, date, Message]:
    """Status, end, start and the reason of a warranty that could be computed, the reason as one sentence."""
    p = {"until": until, "start": start, "months": months, "grace": grace_days}
    if inside:
        if sold:
            reason = (_l("in warranty until %(until)s (sold %(start)s, %(months)s months + %(grace)s days grace)", **p)
                      if grace_days else _l("in warranty until %(until)s (sold %(start)s, %(months)s months)", **p))
        else:
            reason = (_l("in warranty until %(until)s (shipped %(start)s, %(months)s months + %(grace)s days grace)",
                         **p) if grace_days else
                      _l("in warranty until %(until)s (shipped %(start)s, %(months)s months)", **p))
        return "in_warranty", until, start, reason
    if sold:
        reason = (_l("warranty expired on %(until)s (sold %(start)s, %(months)s months + %(grace)s days grace)", **p)
                  if grace_days else _l("warranty expired on %(until)s (sold %(start)s, %(months)s months)", **p))
    else:
        reason = (_l("warranty expired on %(until)s (shipped %(start)s, %(months)s months + %(grace)s days grace)",
                     **p) if grace_days else
                  _l("warranty expired on %(until)s (shipped %(start)s, %(months)s months)", **p))
    return "expired", until, start, reason
