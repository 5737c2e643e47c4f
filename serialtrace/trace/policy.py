"""Pure rules of the trace domain: identifiers, warranty status. No database."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import ValidationError

# GS1 character set 82 minus the characters a batch/serial should never need on a label.
_CODE_RE = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_SKU_RE = re.compile(r"\S(.{0,62}\S)?")


def ensure_code(value: str, *, what: str) -> str:
    """A batch number or serial: 1-20 characters of GS1 character set 82, so it fits AI (10)/(21)."""
    value = (value or "").strip()
    if not _CODE_RE.fullmatch(value):
        raise ValidationError(
            f"{what} {value!r} must be 1 to 20 characters of GS1 set 82 (letters, digits, -./ and similar)",
            details={"field": what},
        )
    return value


def ensure_sku(value: str) -> str:
    """A product article/SKU: 1-64 visible characters."""
    value = (value or "").strip()
    if not _SKU_RE.fullmatch(value):
        raise ValidationError(f"SKU {value!r} must be 1 to 64 characters", details={"field": "sku"})
    return value


def normalise_gtin(value: str | None) -> str | None:
    """GTIN-8/12/13/14 padded to 14 digits with a verified check digit, or None when empty."""
    if value is None or not value.strip():
        return None
    digits = value.strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValidationError(f"GTIN {value!r} must be 8, 12, 13 or 14 digits", details={"field": "gtin"})
    digits = digits.zfill(14)
    expected = mod10_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise ValidationError(
            f"GTIN {value!r} has check digit {digits[-1]}, expected {expected}", details={"field": "gtin"}
        )
    return digits


def mod10_check_digit(body: str) -> str:
    """GS1 mod-10 check digit: weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def add_months(start: date, months: int) -> date:
    """`start` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class WarrantyStatus:
    """Whether a unit is under warranty on a day, with the reason spelled out."""

    status: str  # in_warranty | expired | not_started
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
        return WarrantyStatus("not_started", None, None, "warranty not started: the unit has not been shipped or sold")
    until = add_months(start, months)
    grace = f" + {grace_days} days grace" if grace_days else ""
    detail = f"({basis} {start.isoformat()}, {months} months{grace})"
    if today <= until + timedelta(days=grace_days):
        return WarrantyStatus("in_warranty", until, start, f"in warranty until {until.isoformat()} {detail}")
    return WarrantyStatus("expired", until, start, f"warranty expired on {until.isoformat()} {detail}")
