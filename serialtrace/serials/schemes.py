"""Serial number schemes: opaque keyed permutations of a counter, or a readable pattern; one `SerialScheme` type."""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np

from .. import gs1
from .checkchars import damm_check, is_valid_damm, is_valid_mod37_36, mod37_36_check
from .errors import SerialSchemeError

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECKS = ("none", "damm", "mod37_36")
# Longest serial GS1 AI (21) takes.
SERIAL_MAX = 20
# What a person sees when a typed serial of the configured shape fails its check character.
MISTYPED = "check character wrong: mistyped serial?"


class SerialScheme(Protocol):
    """Turns counter values into serial strings; the counter itself lives in the database."""

    @property
    def name(self) -> str:
        """The scheme's name, stored on each batch."""

    @property
    def check(self) -> str:
        """The check character appended to each serial: none, damm or mod37_36."""

    def counter_key(self, today: date) -> str:
        """Name of the counter this scheme draws from on `today`."""

    def format(self, start: int, count: int, today: date) -> list[str]:
        """Serials for counter values start .. start+count-1."""

    def capacity(self) -> int:
        """How many counter values the scheme can turn into distinct serials."""

    def fits(self, text: str) -> bool:
        """True when `text` has the length and characters of this scheme's serials, whatever its check character."""


def _round_keys(secret: str, rounds: int) -> np.ndarray:
    digest = hashlib.blake2b(secret.encode(), digest_size=8 * rounds, person=b"serialtrace").digest()
    return np.frombuffer(digest, dtype="<u8").astype(np.uint64)


def _mix(values: np.ndarray, key: np.uint64, mask: np.uint64) -> np.ndarray:
    """A keyed 64-bit mixer (splitmix-style) truncated to the half width."""
    x = values ^ key
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return x & mask


@dataclass(frozen=True)
class FeistelPermutation:
    """A keyed bijection on [0, size): balanced Feistel network on 2*half_bits with cycle walking."""

    size: int
    secret: str
    rounds: int = 6
    half_bits: int = field(init=False)
    keys: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        bits = max(2, (self.size - 1).bit_length())
        object.__setattr__(self, "half_bits", (bits + 1) // 2)
        object.__setattr__(self, "keys", tuple(int(k) for k in _round_keys(self.secret, self.rounds)))

    def _once(self, x: np.ndarray) -> np.ndarray:
        hb = np.uint64(self.half_bits)
        mask = np.uint64((1 << self.half_bits) - 1)
        left, right = x >> hb, x & mask
        for key in self.keys:
            left, right = right, left ^ _mix(right, np.uint64(key), mask)
        return (left << hb) | right

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Permute every value in [0, size); results are distinct and in [0, size)."""
        with np.errstate(over="ignore"):
            out = self._once(values.astype(np.uint64))
            limit = np.uint64(self.size)
            pending = out >= limit
            # Cycle walking: re-permute values that fell outside the domain until they land inside.
            while pending.any():
                out[pending] = self._once(out[pending])
                pending = out >= limit
        return out


@dataclass(frozen=True)
class OpaqueDigits:
    """Eleven-digit serials (no leading zero) that do not reveal the sequence without the key."""

    secret: str
    digits: int = 11
    name: str = "opaque"
    check: str = "none"

    def __post_init__(self) -> None:
        _ensure_check(self.check, ("none", "damm", "mod37_36"), "opaque")
        _ensure_key(self.secret, "opaque")

    def counter_key(self, today: date) -> str:
        return f"serial:{self.name}:{self.digits}"

    def capacity(self) -> int:
        return 9 * 10 ** (self.digits - 1)

    def format(self, start: int, count: int, today: date) -> list[str]:
        _check_range(start, count, self.capacity())
        perm = FeistelPermutation(self.capacity(), self.secret)
        values = perm.apply(np.arange(start, start + count, dtype=np.uint64)) + np.uint64(10 ** (self.digits - 1))
        return with_check(values.astype(str).tolist(), self.check)

    def fits(self, text: str) -> bool:
        size = self.digits + (self.check != "none")
        return len(text) == size and text.isascii() and text.isdigit() and text[0] != "0"


@dataclass(frozen=True)
class OpaqueBase32:
    """Ten-character Crockford Base32 serials (50 bits), readable aloud and hard to guess."""

    secret: str
    length: int = 10
    name: str = "base32"
    check: str = "none"

    def __post_init__(self) -> None:
        # Crockford Base32 is a subset of 0-9 A-Z, which MOD 37,36 covers; Damm takes digits only.
        _ensure_check(self.check, ("none", "mod37_36"), "base32")
        _ensure_key(self.secret, "base32")

    def counter_key(self, today: date) -> str:
        return f"serial:{self.name}:{self.length}"

    def capacity(self) -> int:
        return 32**self.length

    def format(self, start: int, count: int, today: date) -> list[str]:
        _check_range(start, count, self.capacity())
        perm = FeistelPermutation(self.capacity(), self.secret)
        values = perm.apply(np.arange(start, start + count, dtype=np.uint64))
        alphabet = np.array(list(CROCKFORD))
        chars = np.empty((count, self.length), dtype="<U1")
        for pos in range(self.length - 1, -1, -1):
            chars[:, pos] = alphabet[(values & np.uint64(31)).astype(np.intp)]
            values = values >> np.uint64(5)
        return with_check(["".join(row) for row in chars], self.check)

    def fits(self, text: str) -> bool:
        body, tail = (text[:-1], text[-1:]) if self.check != "none" else (text, "")
        return (len(body) == self.length and all(c in CROCKFORD for c in body.upper())
                and (not tail or tail.upper() in _ALPHANUMERIC))


_PATTERN_FIELDS = {"prefix", "yyyy", "yy", "mm", "ww", "dd", "seq"}
_DATE_PART = {"yyyy": r"\d{4}", "yy": r"\d{2}", "mm": r"\d{2}", "ww": r"\d{2}", "dd": r"\d{2}"}
_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class PatternScheme:
    """Readable serials from a pattern such as `{prefix}{yy}{ww}{seq:06d}`; the sequence restarts per date part."""

    pattern: str
    prefix: str = ""
    name: str = "pattern"
    check: str = "none"

    def __post_init__(self) -> None:
        _ensure_check(self.check, CHECKS, "pattern")
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(self.pattern) if f is not None]
        except ValueError as exc:
            raise SerialSchemeError("pattern", f"serial pattern {self.pattern!r} does not parse: {exc}") from None
        unknown = sorted(set(names) - _PATTERN_FIELDS)
        if unknown:
            raise SerialSchemeError("pattern", f"serial pattern field {{{unknown[0]}}} is unknown; "
                                               f"use {sorted(_PATTERN_FIELDS)}")
        if names.count("seq") != 1:
            raise SerialSchemeError("pattern", "serial pattern needs exactly one {seq} field")
        if not re.fullmatch(r"[0-9A-Za-z\-./]*", self.prefix):
            raise SerialSchemeError("prefix", f"serial prefix {self.prefix!r} may hold only letters, digits and - . /")
        try:
            sample = self.pattern.format(**self._parts(date(2000, 1, 1)), seq=1)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise SerialSchemeError("pattern", f"serial pattern {self.pattern!r} cannot be filled in: {exc}") from None
        if not _check_text(sample):
            raise SerialSchemeError("pattern", f"serial pattern {self.pattern!r} gives serials without letters or "
                                               "digits")
        # Serials travel in GS1 (21): at most 20 characters of set 82 (no spaces), or no label could carry them.
        if not gs1.is_cset82(sample):
            raise SerialSchemeError("pattern", f"serial pattern {self.pattern!r} gives serials such as {sample!r} "
                                               "with characters a GS1 serial (21) cannot hold")
        if len(sample) + (self.check != "none") > SERIAL_MAX:
            raise SerialSchemeError("pattern", f"serial pattern {self.pattern!r} gives serials such as {sample!r}, "
                                               f"longer than the {SERIAL_MAX} characters of a GS1 serial (21)")
        if self.check == "damm" and not _check_text(sample).isdigit():
            raise SerialSchemeError("check", "Damm check digits need an all-digit pattern; use mod37_36")

    def _parts(self, today: date) -> dict[str, object]:
        return {
            "prefix": self.prefix,
            "yyyy": f"{today.year:04d}",
            "yy": f"{today.year % 100:02d}",
            "mm": f"{today.month:02d}",
            "ww": f"{today.isocalendar().week:02d}",
            "dd": f"{today.day:02d}",
        }

    def counter_key(self, today: date) -> str:
        # The counter is per rendered stem, so the sequence restarts when the date part changes.
        parts = self._parts(today)
        fixed = string.Formatter().parse(self.pattern)
        stem = "".join(lit + (str(parts[f]) if f and f != "seq" else "#") if f is not None else lit
                       for lit, f, _, _ in fixed)
        return f"serial:pattern:{stem}"

    def capacity(self) -> int:
        for _, f, spec, _ in string.Formatter().parse(self.pattern):
            if f == "seq":
                width = re.search(r"(\d+)d", spec or "")
                return 10 ** int(width.group(1)) - 1 if width else 10**12
        return 0

    def format(self, start: int, count: int, today: date) -> list[str]:
        # Counters start at 0; sequences shown to people start at 1.
        _check_range(start, count, self.capacity())
        parts = self._parts(today)
        return with_check([self.pattern.format(**parts, seq=n + 1) for n in range(start, start + count)], self.check)

    def fits(self, text: str) -> bool:
        return self._shape().fullmatch(text) is not None

    def _shape(self) -> re.Pattern[str]:
        """The serials this pattern gives on any day, as a regular expression (check character included)."""
        regex = ""
        for literal, name, spec, conversion in string.Formatter().parse(self.pattern):
            regex += re.escape(literal)
            if name is None:
                continue
            if conversion or (spec and not (name == "seq" and re.fullmatch(r"0?\d*d", spec))):
                # An unusual format spec: anything in its place, so the check still applies to the rest.
                regex += ".+?"
            elif name == "seq":
                width = re.fullmatch(r"0(\d+)d", spec or "")
                regex += rf"\d{{{int(width.group(1)) if width else 1},}}"
            elif name == "prefix":
                regex += re.escape(self.prefix)
            else:
                regex += _DATE_PART[name]
        regex += {"none": "", "damm": "[0-9]", "mod37_36": "[0-9A-Za-z]"}[self.check]
        return re.compile(regex, re.IGNORECASE)


def _check_range(start: int, count: int, capacity: int) -> None:
    if count < 0 or start < 0:
        raise SerialSchemeError("scheme", "serial range must not be negative")
    if start + count > capacity:
        raise SerialSchemeError("scheme",
                                f"serial scheme exhausted: {start + count} serials asked, room for {capacity}")


def _ensure_check(check: str, allowed: tuple[str, ...], scheme: str) -> None:
    if check not in allowed:
        raise SerialSchemeError("check", f"check {check!r} does not suit the {scheme} scheme; use {', '.join(allowed)}")


def _ensure_key(secret: str, scheme: str) -> None:
    # An empty key still permutes, but then the "opaque" serials follow from the source code alone.
    if not isinstance(secret, str) or not secret.strip():
        raise SerialSchemeError("key", f"the {scheme} scheme needs a key; it must not be empty")


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def _check_text(serial: str) -> str:
    # Separators in a pattern (- . /) are read over by people; only the letters and digits are checked.
    return _NOT_ALNUM.sub("", serial)


def with_check(serials: list[str], check: str) -> list[str]:
    """Append the check character of each serial (over its letters and digits); `none` returns them as they are."""
    if check == "none":
        return serials
    if check == "damm":
        return [s + damm_check(_check_text(s)) for s in serials]
    if check == "mod37_36":
        return [s + mod37_36_check(_check_text(s)) for s in serials]
    raise SerialSchemeError("check", f"unknown check {check!r}; use {', '.join(CHECKS)}")


def is_valid_check(serial: str, check: str) -> bool:
    """True when the serial's last character is its check character (always True for `none`)."""
    if check == "none":
        return True
    if check == "damm":
        return is_valid_damm(_check_text(serial))
    if check == "mod37_36":
        text = _check_text(serial)
        return len(text) >= 2 and is_valid_mod37_36(text)
    raise SerialSchemeError("check", f"unknown check {check!r}; use {', '.join(CHECKS)}")


def is_mistyped(scheme: SerialScheme, text: str) -> bool:
    """True when `text` has the shape of the scheme's serials but a wrong check character: a typing error."""
    text = (text or "").strip()
    return scheme.check != "none" and scheme.fits(text) and not is_valid_check(text, scheme.check)


def make_scheme(kind: str, *, secret: str, pattern: str = "{prefix}{yy}{ww}{seq:06d}", prefix: str = "",
                check: str = "none") -> SerialScheme:
    """Build the scheme named in the settings (`opaque`, `base32` or `pattern`), with an optional check character."""
    if check not in CHECKS:
        raise SerialSchemeError("check", f"unknown serial check {check!r}; use {', '.join(CHECKS)}")
    if kind == "opaque":
        return OpaqueDigits(secret=secret, check=check)
    if kind == "base32":
        return OpaqueBase32(secret=secret, check=check)
    if kind == "pattern":
        return PatternScheme(pattern=pattern, prefix=prefix, check=check)
    raise SerialSchemeError("scheme", f"unknown serial scheme {kind!r}; use opaque, base32 or pattern")
