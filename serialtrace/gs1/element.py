"""Element strings: parsing scanned and bracketed data, building them for symbols and labels."""

from __future__ import annotations

from collections.abc import Iterable

from ..i18n import _l
from .errors import GS1Error
from .rules import (
    _VERIFIED,
    _as_pairs,
    check_associations,
    check_value,
    explain_mismatch,
    remember_verified,
    validate,
)
from .table import AI_LENGTH, AI_TABLE, TABLE

GS = "\x1d"
# The code python-barcode and most encoders take for FNC1; a separator inside the data
# becomes FNC1 in the symbol and GS again when a scanner transmits it.
FNC1 = "\xf1"
GS1_128_MAX_DATA = 48

_translations: dict[str, dict[int, str]] = {}

# What the scan loop needs of each AI, unpacked from one tuple instead of four attribute
# lookups per element.
_SCAN = {ai: (spec.separator_required, spec.max_length, spec.pattern.fullmatch, spec.checks)
         for ai, spec in TABLE.items()}
# Two-digit AIs (01, 10, 17, 21, ...) are named by the two characters alone, which saves the
# length lookup and a second slice for the AIs nearly every label carries.
_SCAN2 = {ai: info for ai, info in _SCAN.items() if len(ai) == 2 and AI_LENGTH.get(ai) == 2}


def _to_gs(data: str, separators: str) -> str:
    table = _translations.get(separators)
    if table is None:
        table = _translations[separators] = {ord(c): GS for c in separators}
    return data.translate(table)


def parse_element_string(data: str, *, separators: str = GS,
                         associations: bool = True) -> list[tuple[str, str]]:
    """Parse and validate an unbracketed element string into (AI, value) pairs in scan order."""
    if not isinstance(data, str) or not isinstance(separators, str):
        raise GS1Error(_l("GS1 data must be text"))
    if separators != GS:
        data = _to_gs(data, separators)
    n = len(data)
    # A reader may pass FNC1 in first position on as a leading GS.
    i = 1 if n and data[0] == GS else 0
    if i >= n:
        raise GS1Error(_l("no GS1 data"))
    pairs: list[tuple[str, str]] = []
    append = pairs.append
    while i < n:
        ai = data[i:i + 2]
        info = _SCAN2.get(ai)
        if info is not None:
            i += 2
        else:
            size = AI_LENGTH.get(ai, 0)
            ai = data[i:i + size] if size else ""
            info = _SCAN.get(ai)
            if info is None:
                start = data[i:i + 4].split(GS)[0]
                raise GS1Error(_l("unknown AI at position %(position)s: data starts %(start)r", position=i,
                                  start=start))
            i += size
        separator_required, length, fullmatch, checks = info
        if separator_required:
            end = data.find(GS, i)
            if end < 0:
                end = n
            value = data[i:end]
            i = end + 1
        else:
            end = i + length
            value = data[i:end]
            if len(value) < length or GS in value:
                value = value.split(GS)[0]
                raise GS1Error(_l("(%(ai)s) is %(size)s characters, expected %(expected)s", ai=ai, size=len(value),
                                  expected=length))
            # A separator after a predefined-length AI is not needed but is harmless.
            i = end + 1 if end < n and data[end] == GS else end
        # check_value inlined: this loop is the scan hot path.
        m = fullmatch(value)
        if m is None:
            explain_mismatch(TABLE[ai], value)
        if checks:
            pair = ai + value
            if pair not in _VERIFIED:
                for index, check in checks:
                    part = m.group(index)
                    if part is not None:
                        check(ai, part)
                remember_verified(pair)
        append((ai, value))
    if associations:
        check_associations(pairs)
    return pairs


def parse_bracketed(text: str, *, associations: bool = True) -> list[tuple[str, str]]:
    """Parse and validate bracketed text such as "(01)09506000134352(10)ABC"; "\\(" is a literal "("."""
    if not isinstance(text, str):
        raise GS1Error(_l("GS1 data must be text"))
    if not text.startswith("("):
        raise GS1Error(_l("bracketed GS1 data must start with '(', got %(start)r", start=text[:10]))
    if "\\(" not in text:
        return _parse_plain_bracketed(text, associations)
    pairs = []
    i, n = 0, len(text)
    while i < n:
        close = text.find(")", i)
        if close < 0:
            raise GS1Error(_l("'(' at position %(position)s is not closed", position=i))
        ai = text[i + 1:close]
        spec = AI_TABLE.get(ai)
        if spec is None:
            raise GS1Error(_l("unknown AI (%(ai)s)", ai=ai))
        chunks = []
        j = close + 1
        while True:
            k = text.find("(", j)
            if k < 0:
                chunks.append(text[j:])
                i = n
                break
            if text[k - 1] == "\\":
                chunks.append(text[j:k - 1] + "(")
                j = k + 1
                continue
            chunks.append(text[j:k])
            i = k
            break
        value = "".join(chunks)
        check_value(spec, value)
        pairs.append((ai, value))
    if associations:
        check_associations(pairs)
    return pairs


def _parse_plain_bracketed(text: str, associations: bool) -> list[tuple[str, str]]:
    # Without escaped brackets every "(" opens an AI, so one split does the scanning.
    pairs = []
    position = 0
    for chunk in text[1:].split("("):
        ai, close, value = chunk.partition(")")
        if not close:
            raise GS1Error(_l("'(' at position %(position)s is not closed", position=position))
        spec = AI_TABLE.get(ai)
        if spec is None:
            raise GS1Error(_l("unknown AI (%(ai)s)", ai=ai))
        check_value(spec, value)
        pairs.append((ai, value))
        position += len(chunk) + 1
    if associations:
        check_associations(pairs)
    return pairs


def _prepared(pairs: Iterable[tuple[str, str]], reorder: bool, associations: bool = True) -> list[tuple[str, str]]:
    checked = _as_pairs(pairs)
    validate(checked, associations=associations)
    unique = list(dict.fromkeys(checked))  # an identical repeat adds nothing to a symbol
    if reorder:
        # Predefined-length AIs first: they need no separator, so the variable-length
        # ones after them need one separator each except the last.
        unique.sort(key=lambda p: AI_TABLE[p[0]].separator_required)
    return unique


def _join(pairs: list[tuple[str, str]], separator: str) -> str:
    out = []
    last = len(pairs) - 1
    for index, (ai, value) in enumerate(pairs):
        out.append(ai)
        out.append(value)
        if index < last and AI_TABLE[ai].separator_required:
            out.append(separator)
    return "".join(out)


def build_element_string(pairs: Iterable[tuple[str, str]], *, reorder: bool = True, associations: bool = True) -> str:
    """Build the element string with GS separators where needed and no leading FNC1."""
    return _join(_prepared(pairs, reorder, associations), GS)


def build_fnc1_data(pairs: Iterable[tuple[str, str]], *, fnc1: str = FNC1) -> str:
    """Build the FNC1-prefixed data a symbol encoder takes, separators written as FNC1."""
    return fnc1 + _join(_prepared(pairs, True), fnc1)


def build_bracketed(pairs: Iterable[tuple[str, str]], *, reorder: bool = False, escape: bool = True) -> str:
    """Build bracketed text "(01)...(10)..."; "(" in a value is written "\\(" unless escape is off."""
    parts = []
    for ai, value in _prepared(pairs, reorder):
        parts.append(f"({ai}){value.replace('(', chr(92) + '(') if escape else value}")
    return "".join(parts)


def gs1_128_length(pairs: Iterable[tuple[str, str]]) -> int:
    """Count the GS1-128 data characters of pairs: AIs, values and separators, not FNC1 in first."""
    return len(build_element_string(pairs))


def fits_gs1_128(pairs: Iterable[tuple[str, str]]) -> bool:
    """Tell whether pairs fit in one GS1-128 symbol (at most 48 data characters)."""
    return gs1_128_length(pairs) <= GS1_128_MAX_DATA


# Dates that a production label can lose without losing its identity, least useful
# first. (17) expiry and (12) due date stay: they carry obligations, not history.
OPTIONAL_DATES = ("11", "13", "16", "15")


def fit_gs1_128(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return pairs that fit GS1-128, dropping (11) first and then other optional dates."""
    current = _prepared(pairs, False)
    size = len(_join(_prepared(current, True), GS))
    dropped = []
    for ai in OPTIONAL_DATES:
        if size <= GS1_128_MAX_DATA:
            break
        if any(a == ai for a, _ in current):
            current = [p for p in current if p[0] != ai]
            dropped.append(f"({ai})")
            size = len(_join(_prepared(current, True), GS))
    if size > GS1_128_MAX_DATA:
        if dropped:
            raise GS1Error(_l("data is %(size)s characters, GS1-128 holds at most %(limit)s after dropping %(dropped)s",
                              size=size, limit=GS1_128_MAX_DATA, dropped=", ".join(dropped)))
        raise GS1Error(_l("data is %(size)s characters, GS1-128 holds at most %(limit)s", size=size,
                          limit=GS1_128_MAX_DATA))
    return current
