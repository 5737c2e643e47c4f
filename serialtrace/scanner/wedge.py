"""Keyboard-wedge realities: scanner profiles, separator stand-ins, keyboard layouts, repeats."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from serialtrace.i18n import _l
from serialtrace.scanner.errors import ScanError

GS = "\x1d"
# What a wedge scanner types for GS: Ctrl+] gives the GS control character itself; Alt+029 on a
# Windows numpad gives the code page 437 glyph of 0x1D.
ALT_029 = "\u2194"
# Characters outside GS1 character set 82 that scanners are commonly configured to send for GS;
# since they can never be part of GS1 data, reading them as separators is unambiguous.
STAND_INS = ("^", "~", "|")
LAYOUTS = ("latin", "ru")

# Russian ЙЦУКЕН -> the US key on the same position (what the scanner meant to type).
_RU_KEYS = (
    "йq цw уe кr еt нy гu шi щo зp х[ ъ] фa ыs вd аf пg рh оj лk дl ж; э' яz чx сc мv иb тn "
    "ьm б, ю. ё` ЙQ ЦW УE КR ЕT НY ГU ШI ЩO ЗP Х{ Ъ} ФA ЫS ВD АF ПG РH ОJ ЛK ДL Ж: Э\" ЯZ "
    "ЧX СC МV ИB ТN ЬM Б< Ю> Ё~ .\u002f ,? \"@ №# ;$ :^ ?& /|"
)
_RU_TO_LATIN = str.maketrans({pair[0]: pair[1] for pair in _RU_KEYS.split()})
_CYRILLIC = re.compile("[" + "".join(p[0] for p in _RU_KEYS.split() if p[0].isalpha()) + "]")
_LATIN = re.compile("[A-Za-z]")


@dataclass(frozen=True, slots=True)
class ScannerProfile:
    """How one keyboard-wedge scanner delivers text.

    `separator` is what the scanner types for GS: "\\x1d", a stand-in such as "^", or "" when
    it drops separators. `layout` is the keyboard layout the station types under ("latin" or
    "ru"), or None to detect a Russian layout mix-up automatically.
    """

    prefix: str = ""
    suffix: str = ""
    separator: str = GS
    layout: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.layout is not None and self.layout not in LAYOUTS:
            raise ValueError(f"unknown keyboard layout {self.layout!r} (known: {', '.join(LAYOUTS)})")


def undo_layout(text: str, layout: str | None) -> tuple[str, bool]:
    """Return the text as typed on a US layout and whether anything was changed.

    With layout None, a Russian mix-up is assumed only when the text has Cyrillic letters and
    no Latin ones: real scanner data is never a mixture of both.
    """
    if layout == "latin":
        return text, False
    if layout is None:
        if text.isascii():  # nearly every scan: no Cyrillic possible, skip the searches
            return text, False
        if _CYRILLIC.search(text) is None or _LATIN.search(text) is not None:
            return text, False
    fixed = text.translate(_RU_TO_LATIN)
    return fixed, fixed != text


def _same_keys(typed: str, affix: str, layout: str | None) -> bool:
    """Whether `typed` is `affix` as the scanner sends it, or the same keys under the profile's layout."""
    if typed == affix:
        return True
    # A profile saved before affixes were kept as sent holds them as the US keys: the typed text with the layout
    # undone (one character for one, so the lengths agree) still matches them.
    return layout == "ru" and undo_layout(typed, "ru")[0] == affix


def strip_affixes(text: str, profile: ScannerProfile | None) -> str:
    """Remove the Enter/Tab a wedge scanner ends with and the profile's prefix and suffix.

    Runs before the layout is undone, so the affixes are the characters the scanner sends under the station's
    layout (what calibrate() stores): a "#" prefix arrives as "№" behind a Russian layout.
    """
    text = text.rstrip("\r\n")
    if profile is not None:
        prefix, suffix, layout = profile.prefix, profile.suffix, profile.layout
        if prefix and _same_keys(text[: len(prefix)], prefix, layout):
            text = text[len(prefix) :]
        if suffix and len(text) >= len(suffix) and _same_keys(text[-len(suffix) :], suffix, layout):
            text = text[: -len(suffix)]
        text = text.rstrip("\r\n")
    return text


def normalise_separators(text: str, profile: ScannerProfile | None) -> str:
    """Turn the profile's separator stand-in (and the Alt+029 glyph) into GS."""
    if profile is None and text.isascii():
        return text
    if ALT_029 in text:
        text = text.replace(ALT_029, GS)
    if profile is not None and profile.separator not in ("", GS) and profile.separator in text:
        text = text.replace(profile.separator, GS)
    return text


@dataclass
class RepeatFilter:
    """Drops the same code scanned again within `window` seconds (a double trigger pull)."""

    window: float = 1.0
    _last: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def is_repeat(self, text: str, now: float) -> bool:
        """True when `text` was seen less than `window` seconds before `now`; records the scan."""
        last = self._last.get(text)
        self._last[text] = now
        if len(self._last) > 1024:
            self._last = {k: t for k, t in self._last.items() if now - t <= self.window}
        return last is not None and now - last < self.window


# The calibration symbol: a GS1 element string with lower- and upper-case letters (so a layout
# mix-up shows) and a variable-length field before another field (so the separator shows).
CALIBRATION_DATA = "01095060001343521718123110Ab12Cd" + GS + "21xY3z9"


def calibrate(raw: str, *, expected: str = CALIBRATION_DATA) -> ScannerProfile:
    """Learn a ScannerProfile from the text a scanner typed for the calibration symbol.

    `expected` is the element string of the symbol (GS between fields). Raises ScanError when
    the text does not contain the symbol's data under any known layout.
    """
    if GS not in expected:
        raise ValueError("the calibration data needs a GS separator to learn it")
    head, tail = expected.split(GS, 1)
    for layout in LAYOUTS:
        typed, _ = undo_layout(raw, layout)
        typed = typed.replace(ALT_029, GS)
        start = typed.find(head)
        if start < 0:
            continue
        end_of_head = start + len(head)
        tail_at = typed.find(tail, end_of_head)
        if tail_at < 0:
            continue
        separator = typed[end_of_head:tail_at]
        if len(separator) > 1:
            raise ScanError(
                _l("calibration scan has %(separator)r between the fields; expected one separator",
                   separator=separator),
                part=separator,
            )
        prefix_end = start
        # The AIM identifier belongs to the data, not to the prefix the parser strips.
        if start >= 3 and typed[start - 3] == "]":
            prefix_end = start - 3
        # Undoing the layout and the Alt+029 glyph change one character for one, so positions in `typed` are
        # positions in `raw`: the affixes are kept as the scanner sends them, because the parser strips them
        # before it undoes the layout (a "#" prefix typed behind a Russian layout arrives as "№").
        suffix = raw[tail_at + len(tail) :].rstrip("\r\n")
        return ScannerProfile(prefix=raw[:prefix_end], suffix=suffix, separator=separator, layout=layout)
    raise ScanError(_l("calibration scan does not contain the calibration symbol's data"), part=raw)
