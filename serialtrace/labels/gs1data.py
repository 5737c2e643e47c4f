"""Unit AI pairs for labels on top of `serialtrace.gs1`, with its errors turned into LabelError."""

from __future__ import annotations

import re
from datetime import date
from functools import cache, lru_cache

from serialtrace import gs1
from serialtrace.gs1 import GS, GS1_128_MAX_DATA, GS1Error, ai_spec
from serialtrace.gs1.rules import check_value

from .errors import LabelError

__all__ = ["GS", "GS1_128_MAX_DATA", "bracketed", "check_digit", "digital_link", "element_string",
           "ensure_set82", "fit_gs1_128", "normalise_gtin", "unit_pairs", "yymmdd"]

Pairs = tuple[tuple[str, str], ...]
_FIELD_OF_AI = {"01": "gtin", "11": "produced_on", "17": "expires_on", "10": "batch", "21": "serial"}
_AI_IN_MESSAGE = re.compile(r"\((\d{2,4})\)")
_SERIAL_SPEC = ai_spec("21")


def _label_error(exc: GS1Error, default: str = "gs1") -> LabelError:
    """Name the LabelData field behind the first AI the GS1 message mentions."""
    match = _AI_IN_MESSAGE.search(str(exc))
    field = _FIELD_OF_AI.get(match.group(1), default) if match else default
    return LabelError(field, str(exc))


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit for the digits before it."""
    return str(gs1.check_digit(digits))


def normalise_gtin(gtin: str) -> str:
    """Return the GTIN as 14 digits after checking its length and check digit."""
    if not gtin.isascii() or not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        raise LabelError("gtin", f"must be 8, 12, 13 or 14 digits, got {gtin!r}")
    try:
        gs1.validate([("01", gtin.zfill(14))], associations=False)
    except GS1Error as exc:
        raise _label_error(exc, "gtin") from exc
    return gtin.zfill(14)


def ensure_set82(field: str, value: str, max_length: int = 20) -> None:
    """Raise unless `value` is 1..max_length characters of GS1 character set 82."""
    if not value:
        raise LabelError(field, "must not be empty")
    if len(value) > max_length:
        raise LabelError(field, f"at most {max_length} characters, got {len(value)}")
    if not gs1.is_cset82(value):
        bad = next(c for c in value if not gs1.is_cset82(c))
        raise LabelError(field, f"character {bad!r} is not in GS1 character set 82")


@lru_cache(maxsize=64)
def yymmdd(on: date) -> str:
    """A date as GS1 YYMMDD."""
    return f"{on.year % 100:02d}{on.month:02d}{on.day:02d}"


@lru_cache(maxsize=1024)
def _checked(ai: str, value: str) -> str:
    """A value checked against its AI's GS1 format; repeated values in a job are checked once."""
    try:
        check_value(ai_spec(ai), value)
    except GS1Error as exc:
        raise _label_error(exc) from exc
    return value


@lru_cache(maxsize=64)
def _check_combination(pairs: Pairs) -> None:
    # The association rules depend on which AIs are present, so one full check per
    # combination suffices; the values are checked one by one in unit_pairs.
    try:
        gs1.validate(list(pairs))
    except GS1Error as exc:
        raise _label_error(exc) from exc


@lru_cache(maxsize=256)
def _gtin14(gtin: str) -> str:
    return normalise_gtin(gtin)


def unit_pairs(gtin: str | None, produced_on: date | None, batch: str, serial: str,
               expires_on: date | None = None) -> Pairs:
    """AI pairs of a unit, (01) (11) (17) (10) (21), validated by the GS1 rules.

    Fixed-length AIs come first, (11) before (17) as GS1 lists them, then the variable-length (10) and (21), so
    only the batch needs a separator after it.
    """
    if not batch:
        raise LabelError("batch", "must not be empty")
    if not serial:
        raise LabelError("serial", "must not be empty")
    pairs: list[tuple[str, str]] = []
    if gtin is not None:
        pairs.append(("01", _gtin14(gtin)))
    if produced_on is not None:
        pairs.append(("11", _checked("11", yymmdd(produced_on))))
    if expires_on is not None:
        pairs.append(("17", _checked("17", yymmdd(expires_on))))
    pairs.append(("10", _checked("10", batch)))
    try:
        check_value(_SERIAL_SPEC, serial)  # unique per label: not worth caching
    except GS1Error as exc:
        raise _label_error(exc) from exc
    pairs.append(("21", serial))
    result = tuple(pairs)
    if gtin is not None:
        # Without a GTIN (21) has no (01) to belong to; the plain-serial label only needs
        # batch and serial to follow the GS1 value rules.
        _check_combination(tuple((ai, "1") if ai == "21" else (ai, v) for ai, v in result))
    return result


@cache  # one entry per AI in the GS1 table at most
def _needs_separator(ai: str) -> bool:
    return ai_spec(ai).separator_required


def element_string(pairs: Pairs) -> str:
    """Element string of already validated pairs: GS after each variable-length value but the last."""
    parts = []
    last = len(pairs) - 1
    for index, (ai, value) in enumerate(pairs):
        parts.append(ai)
        parts.append(value)
        if index < last and _needs_separator(ai):
            parts.append(GS)
    return "".join(parts)


def bracketed(pairs: Pairs) -> str:
    """Human-readable form `(01)...(21)...` in element-string order."""
    return "".join(f"({ai}){value}" for ai, value in pairs)


def fit_gs1_128(pairs: Pairs) -> Pairs:
    """Drop (11) when GS1-128 data would exceed 48 characters; LabelError if still too long.

    The expiry date (17) is never dropped: it is a safety date, and a label that cannot carry it is refused.
    """
    length = len(element_string(pairs))
    if length > GS1_128_MAX_DATA:
        # The DESIGN rule: the production date goes first; serial, batch and expiry date must stay.
        pairs = tuple(p for p in pairs if p[0] != "11")
        length = len(element_string(pairs))
    if length > GS1_128_MAX_DATA:
        values = dict(pairs)
        longest = max(("10", "21"), key=lambda ai: len(values.get(ai, "")))
        if "17" in values:
            rule = (f"GS1-128 holds at most {GS1_128_MAX_DATA} data characters, this label needs {length} with the "
                    "expiry date (17), which is never left out")
        else:
            rule = f"GS1-128 holds at most {GS1_128_MAX_DATA} data characters, this label needs {length}"
        raise LabelError(_FIELD_OF_AI[longest], rule)
    return pairs


def digital_link(pairs: Pairs, domain: str) -> str:
    """GS1 Digital Link URI of the pairs on `domain`."""
    if "01" not in dict(pairs):
        raise LabelError("gtin", "a Digital Link needs a GTIN")
    try:
        return gs1.build_digital_link(list(pairs), domain=domain)
    except GS1Error as exc:
        raise _label_error(exc, "digital_link_domain") from exc
