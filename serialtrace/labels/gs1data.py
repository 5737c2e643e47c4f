"""The GS1 rules labels need: AI pairs for a unit, check digits, set 82, separators, Digital Link."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from .errors import LabelError

GS = "\x1d"
GS1_128_MAX_DATA = 48

# GS1 character set 82 (GS1 General Specifications, figure 7.11-1).
_SET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")
_FIXED_LENGTH = {"01": 14, "11": 6}
_MAX_LENGTH = {"10": 20, "21": 20}
_FIELD_OF_AI = {"01": "gtin", "11": "produced_on", "10": "batch", "21": "serial"}


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit for the digits before it."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def normalise_gtin(gtin: str) -> str:
    """Return the GTIN as 14 digits after checking its length and check digit."""
    if not gtin.isascii() or not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        raise LabelError("gtin", f"must be 8, 12, 13 or 14 digits, got {gtin!r}")
    expected = check_digit(gtin[:-1])
    if gtin[-1] != expected:
        raise LabelError("gtin", f"check digit of {gtin!r} is {gtin[-1]}, expected {expected}")
    return gtin.zfill(14)


def ensure_set82(field: str, value: str, max_length: int = 20) -> None:
    """Raise unless `value` is 1..max_length characters of GS1 character set 82."""
    if not value:
        raise LabelError(field, "must not be empty")
    if len(value) > max_length:
        raise LabelError(field, f"at most {max_length} characters, got {len(value)}")
    if not _SET82.fullmatch(value):
        bad = next(c for c in value if not _SET82.fullmatch(c))
        raise LabelError(field, f"character {bad!r} is outside GS1 character set 82")


def yymmdd(on: date) -> str:
    """A date as GS1 YYMMDD."""
    return f"{on.year % 100:02d}{on.month:02d}{on.day:02d}"


def unit_pairs(gtin: str | None, produced_on: date | None, batch: str, serial: str) -> tuple[tuple[str, str], ...]:
    """AI pairs of a unit: (01) (11) fixed-length first, then (10), and (21) last."""
    ensure_set82("batch", batch)
    ensure_set82("serial", serial)
    pairs: list[tuple[str, str]] = []
    if gtin is not None:
        pairs.append(("01", normalise_gtin(gtin)))
    if produced_on is not None:
        pairs.append(("11", yymmdd(produced_on)))
    pairs.append(("10", batch))
    pairs.append(("21", serial))
    return tuple(pairs)


def element_string(pairs: tuple[tuple[str, str], ...]) -> str:
    """Concatenate AI pairs, with GS after every variable-length value but the last."""
    parts = []
    for index, (ai, value) in enumerate(pairs):
        parts.append(ai + value)
        if ai not in _FIXED_LENGTH and index < len(pairs) - 1:
            parts.append(GS)
    return "".join(parts)


def bracketed(pairs: tuple[tuple[str, str], ...]) -> str:
    """Human-readable form `(01)...(21)...`."""
    return "".join(f"({ai}){value}" for ai, value in pairs)


def fit_gs1_128(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Drop (11) when the GS1-128 data would exceed 48 characters; raise if still too long."""
    if len(element_string(pairs)) > GS1_128_MAX_DATA:
        pairs = tuple(p for p in pairs if p[0] != "11")
    length = len(element_string(pairs))
    if length > GS1_128_MAX_DATA:
        longest = max((p for p in pairs if p[0] in _MAX_LENGTH), key=lambda p: len(p[1]))
        raise LabelError(
            _FIELD_OF_AI[longest[0]],
            f"GS1-128 holds at most {GS1_128_MAX_DATA} data characters, this label needs {length}",
        )
    return pairs


def digital_link(pairs: tuple[tuple[str, str], ...], domain: str) -> str:
    """GS1 Digital Link URI: key and qualifiers in the path, (11) as a query attribute."""
    values = dict(pairs)
    if "01" not in values:
        raise LabelError("gtin", "a Digital Link needs a GTIN")
    path = f"/01/{values['01']}"
    for ai in ("10", "21"):
        if ai in values:
            path += f"/{ai}/{quote(values[ai], safe='')}"
    query = f"?11={values['11']}" if "11" in values else ""
    return domain.rstrip("/") + path + query
