"""Parse what a scanner sent: AIM identifiers, GS1 element strings, Digital Link, EAN/UPC, plain codes."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from serialtrace import gs1
from serialtrace.i18n import _l
from serialtrace.scanner.errors import ScanError
from serialtrace.scanner.symbology import GS1_IDENTIFIERS, SYMBOLOGY_NAMES
from serialtrace.scanner.wedge import (
    GS,
    STAND_INS,
    ScannerProfile,
    normalise_separators,
    strip_affixes,
    undo_layout,
)

# GS plus the stand-ins, none of which can occur inside GS1 data (character sets 82/39/64).
_GS1_SEPARATORS = GS + "".join(STAND_INS)
_AIM = re.compile(r"\][A-Za-z][0-9A-Za-z]")
# [0-9], not \d: \d also takes full-width and other Unicode digits, which no GS1 data holds.
_BRACKETED = re.compile(r"\([0-9]{2,4}\)")
_URI = re.compile(r"https?://", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")
_ISO15434 = "[)>\x1e"
_AI_IN_MESSAGE = re.compile(r"\(([0-9]{2,4})\)")
# Enumerating the splits of data without separators stops here; real labels have a handful.
_MAX_READINGS = 8
# The longest scan read: above the largest symbols a scanner reads (QR Code holds 7,089
# digits, Han Xin 7,827) plus an AIM identifier and a wedge prefix and suffix.
MAX_SCAN_LENGTH = 8000
# What one scan may spend looking for the splits of data without separators: units of work
# (a value checked or an element tried, about 2 us each; generated labels of up to 12 elements
# need at most about 160), so a scan gives the same answer on a busy machine, and seconds as a
# safety net only: the work limit bounds CPU time (about 25 ms at worst), so the clock is set well
# above it and fires only on a starved machine, never deciding the answer on a merely busy one.
MAX_SPLIT_WORK = 10_000
SCAN_TIME_BUDGET = 1.0
# Digital Link path segments that mark a URI as meant to be GS1 data.
_DL_KEYS = frozenset(
    [ai for ai, spec in gs1.AI_TABLE.items() if spec.is_dl_primary_key]
    + [alpha for alpha, ai in gs1.CONVENIENCE_ALPHAS.items() if gs1.AI_TABLE[ai].is_dl_primary_key]
)
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ParsedScan:
    """What one scan said: its kind, GS1 AI data in scan order, and how it was read."""

    kind: str  # gs1, digital_link, ean, upc, url, iso15434, plain
    ai: Mapping[str, str]
    symbology_id: str | None
    raw: str
    text: str
    alternatives: tuple[Mapping[str, str], ...] = ()
    ambiguous: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def gtin(self) -> str | None:
        """The GTIN as 14 digits: AI (01), or the EAN/UPC number padded with zeros."""
        if self.kind in ("ean", "upc"):
            return self.text.zfill(14)
        return self.ai.get("01")

    @property
    def serial(self) -> str | None:
        """AI (21), the serial number."""
        return self.ai.get("21")

    @property
    def batch(self) -> str | None:
        """AI (10), the batch or lot number."""
        return self.ai.get("10")

    @property
    def symbology(self) -> str | None:
        """The symbology the AIM identifier names, such as "DataMatrix"."""
        if self.symbology_id is None:
            return None
        return SYMBOLOGY_NAMES.get(self.symbology_id[1])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the API and the CLI."""
        return {
            "kind": self.kind,
            "ai": dict(self.ai),
            "symbology_id": self.symbology_id,
            "text": self.text,
            "gtin": self.gtin,
            "serial": self.serial,
            "batch": self.batch,
            "ambiguous": self.ambiguous,
            "alternatives": [dict(a) for a in self.alternatives],
            "notes": list(self.notes),
        }


def parse_scan(raw: str, *, profile: ScannerProfile | None = None) -> ParsedScan:
    """Read scanner text into a ParsedScan; raises ScanError naming the bad part of GS1 data.

    Without a profile, separators may have been dropped: when several splits of the data
    validate, the scan is ambiguous and the others are in `alternatives`. Scans longer than
    MAX_SCAN_LENGTH characters, digits other than ASCII 0-9 in GS1 or EAN/UPC data, and data
    whose splits cannot be searched within MAX_SPLIT_WORK units of work (or SCAN_TIME_BUDGET
    seconds) are ScanErrors too ("too complex to read").
    """
    if not isinstance(raw, str):
        raise ScanError(_l("scan must be text, got %(type)s", type=type(raw).__name__))
    if len(raw) > MAX_SCAN_LENGTH:
        raise ScanError(
            _l("scan is %(length)s characters long; at most %(limit)s are read (no barcode holds more)",
               length=format(len(raw), ","), limit=format(MAX_SCAN_LENGTH, ",")),
            details={"length": len(raw), "limit": MAX_SCAN_LENGTH},
        )
    deadline = time.monotonic() + SCAN_TIME_BUDGET
    notes: list[str] = []
    if profile is None and raw.isascii():
        # Nearly every scan: no affixes to strip, and ASCII holds neither Cyrillic from a
        # layout mix-up nor the Alt+029 glyph, so the three wedge steps change nothing.
        text = raw.rstrip("\r\n")
    else:
        text = strip_affixes(raw, profile)
        text, fixed = undo_layout(text, profile.layout if profile is not None else None)
        if fixed:
            notes.append("keyboard layout mix-up undone")
        text = normalise_separators(text, profile)
    sym_id = None
    if len(text) >= 3 and text[0] == "]" and _AIM.match(text):
        sym_id, text = text[:3], text[3:]
    if not text or text.isspace():
        raise ScanError(_l("empty scan"), part=raw)
    exact = profile is not None and profile.separator != ""

    if sym_id in GS1_IDENTIFIERS:
        if _URI.match(text) or text.startswith("("):
            raise ScanError(_l("%(symbology)s announces a GS1 element string, got %(start)r", symbology=sym_id,
                               start=text[:12]), part=sym_id)
        return _gs1(raw, text, sym_id, exact, notes, deadline)
    if sym_id is not None and sym_id[1] == "E":
        return _ean(raw, text, sym_id, exact, notes, deadline)
    if sym_id is None and text[0] in _GS1_SEPARATORS:
        # FNC1 in first position passed on as a leading GS (or its stand-in); after a
        # non-GS1 identifier the same character is ordinary data.
        return _gs1(raw, text[1:], sym_id, exact, notes, deadline)
    if text.startswith("(") and _BRACKETED.match(text):
        return _bracketed(raw, text, sym_id, notes)
    if _URI.match(text):
        return _uri(raw, text.strip(), sym_id, notes)
    if text.startswith(_ISO15434):
        return ParsedScan("iso15434", _EMPTY, sym_id, raw, text, notes=tuple(notes))
    if sym_id is None:
        if _DIGITS.fullmatch(text) and len(text) in (12, 13) and gs1.is_valid_check_digit(text):
            return _ean(raw, text, sym_id, exact, notes, deadline)
        if _looks_like_gs1(text):
            return _gs1(raw, text, sym_id, exact, notes, deadline)
    return ParsedScan("plain", _EMPTY, sym_id, raw, text.strip(), notes=tuple(notes))


def _looks_like_gs1(text: str) -> bool:
    # A GTIN or SSCC with a valid check digit at the start is GS1 data that lost its AIM
    # identifier; a plain serial rarely starts like that (1 in 10 by chance, times the length).
    if text.startswith("01") and len(text) >= 16:
        key = text[2:16]
    elif text.startswith("00") and len(text) >= 20:
        key = text[2:20]
    else:
        return False
    return key.isdigit() and gs1.is_valid_check_digit(key)


def _scan_error(exc: gs1.GS1Error) -> ScanError:
    # The GS1 rule's message as it was raised (a Message, so the page can show it translated).
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    found = _AI_IN_MESSAGE.search(message)
    return ScanError(message, part=f"({found.group(1)})" if found else None)


def _non_ascii_digit(text: str, what: str) -> None:
    # A scanner emulating a keyboard under an East Asian input method types full-width digits;
    # they look like data but are other characters, so name them instead of a format rule.
    if text.isascii():
        return
    for position, char in enumerate(text):
        if char.isdigit() and not char.isascii():
            raise ScanError(
                _l("%(what)s has the non-ASCII digit %(char)r (U+%(code)s) at position %(position)s; GS1 data and "
                   "EAN/UPC numbers hold only the digits 0-9 (check the scanner's keyboard mode)",
                   what=what, char=char, code=format(ord(char), "04X"), position=position),
                part=char,
            )


def _gs1(raw: str, data: str, sym_id: str | None, exact: bool, notes: list[str],
         deadline: float) -> ParsedScan:
    _non_ascii_digit(data, "GS1 data")
    # With a profile its separator was already turned into GS; without one, any stand-in counts.
    if not exact and _STAND_IN.search(data) is not None:
        data = data.translate(_TO_GS)
        notes.append("separator stand-in read as GS")
    try:
        pairs = gs1.parse_element_string(data)
        error = None
    except gs1.GS1Error as exc:
        pairs, error = None, exc
    if exact or GS in data:
        if error is not None:
            raise _scan_error(error) from error
        assert pairs is not None  # parsed without an error
        return ParsedScan("gs1", _mapping(pairs), sym_id, raw, data, notes=tuple(notes))
    try:
        readings = gs1.split_readings(data, limit=_MAX_READINGS, max_work=MAX_SPLIT_WORK, deadline=deadline)
    except gs1.SearchTooComplex as exc:
        raise ScanError(
            _l("scan too complex to read: GS1 data without separators splits too many ways; "
               "scan it with a scanner that sends GS (FNC1) between fields"),
            part=data[:20],
        ) from exc
    if not readings:
        assert error is not None  # a strict reading that validates is always among the splits
        raise _scan_error(error) from error
    if pairs is not None:
        first = pairs
    else:
        first = readings[0]
        notes.append("separator missing: split where the data validates")
    others = tuple(_mapping(r) for r in readings if r != first)
    return ParsedScan(
        "gs1", _mapping(first), sym_id, raw, data, others, bool(others), tuple(notes)
    )


_TO_GS = str.maketrans({c: GS for c in STAND_INS})
_STAND_IN = re.compile("[" + re.escape("".join(STAND_INS)) + "]")


def _mapping(pairs: list[tuple[str, str]]) -> Mapping[str, str]:
    return MappingProxyType(dict(pairs))


def _bracketed(raw: str, text: str, sym_id: str | None, notes: list[str]) -> ParsedScan:
    try:
        pairs = gs1.parse_bracketed(text.strip())
    except gs1.GS1Error as exc:
        raise _scan_error(exc) from exc
    return ParsedScan("gs1", _mapping(pairs), sym_id, raw, text.strip(), notes=tuple(notes))


def _uri(raw: str, text: str, sym_id: str | None, notes: list[str]) -> ParsedScan:
    # URI schemes are case-insensitive (RFC 3986); the GS1 parser only takes all-lower or all-upper.
    scheme_end = text.index("://")
    text = text[:scheme_end].lower() + text[scheme_end:]
    try:
        pairs = gs1.parse_digital_link(text)
    except gs1.GS1Error as exc:
        if _meant_as_digital_link(text):
            raise _scan_error(exc) from exc
        return ParsedScan("url", _EMPTY, sym_id, raw, text, notes=tuple(notes))
    return ParsedScan("digital_link", _mapping(pairs), sym_id, raw, text, notes=tuple(notes))


def _meant_as_digital_link(uri: str) -> bool:
    path = uri.split("://", 1)[1].split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")[1:]
    # A primary key segment followed by a value is what makes a URI a Digital Link.
    return any(seg in _DL_KEYS for seg in segments[:-1])


def _ean(raw: str, text: str, sym_id: str | None, exact: bool, notes: list[str],
         deadline: float) -> ParsedScan:
    digits, bar, composite = text.strip().partition("|]e0")
    _non_ascii_digit(digits, f"{sym_id or 'EAN/UPC'} data")
    if sym_id == "]E3" and len(digits) in (15, 18):
        # EAN-13 with a 2- or 5-digit add-on: the main symbol is what identifies the item.
        digits = digits[:13]
        notes.append("add-on symbol ignored")
    lengths = {"]E0": (13,), "]E3": (13,), "]E4": (8,), None: (12, 13)}.get(sym_id, (8, 12, 13))
    if not _DIGITS.fullmatch(digits) or len(digits) not in lengths:
        shown = " or ".join(str(n) for n in lengths)
        raise ScanError(_l("%(symbology)s announces EAN/UPC with %(lengths)s digits, got %(digits)r",
                           symbology=sym_id, lengths=shown, digits=digits[:20]), part=sym_id)
    if not gs1.is_valid_check_digit(digits):
        raise ScanError(
            _l("EAN/UPC %(digits)s has a wrong check digit (expected %(expected)s)", digits=digits,
               expected=gs1.check_digit(digits[:-1])),
            part=digits,
        )
    ai = _EMPTY
    if bar:
        # A GS1 Composite: the 2D component after "|]e0" carries AI data for the item.
        ai = _gs1(raw, composite, "]e0", exact, notes, deadline).ai
    kind = "upc" if len(digits) == 12 else "ean"
    return ParsedScan(kind, ai, sym_id, raw, digits, notes=tuple(notes))
