"""Check characters for serials typed by hand: Damm for digits, ISO/IEC 7064 MOD 37,36 for alphanumerics."""

from __future__ import annotations

from .errors import SerialError

# Damm's totally anti-symmetric quasigroup of order 10: catches every single-digit error and
# every swap of adjacent digits.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHANUMERIC)}


def _damm_interim(digits: str) -> int:
    if not digits or not digits.isascii() or not digits.isdigit():
        raise SerialError("serial", f"Damm check digits need a string of digits, got {digits!r}")
    interim = 0
    for char in digits:
        interim = _DAMM[interim][ord(char) - 48]
    return interim


def damm_check(digits: str) -> str:
    """The Damm check digit to append to `digits`."""
    return str(_damm_interim(digits))


def is_valid_damm(digits_with_check: str) -> bool:
    """True when the last digit is the Damm check digit of the ones before it."""
    try:
        return len(digits_with_check) >= 2 and _damm_interim(digits_with_check) == 0
    except SerialError:
        return False


def _values(text: str) -> list[int]:
    values = []
    for char in text.upper():
        value = _VALUE.get(char)
        if value is None:
            raise SerialError("serial", f"MOD 37,36 takes only 0-9 and A-Z, got {char!r} in {text!r}")
        values.append(value)
    if not values:
        raise SerialError("serial", "MOD 37,36 needs at least one character")
    return values


def _mod37_36_remainder(values: list[int]) -> int:
    # ISO/IEC 7064 hybrid system with M = 36: P starts at M; per character
    # S = (P + a) mod M (0 read as M) and P = 2S mod (M + 1).
    product = 36
    for value in values:
        total = (product + value) % 36 or 36
        product = (total * 2) % 37
    return product


def mod37_36_check(text: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character (0-9, A-Z) for `text` (case-insensitive)."""
    return ALPHANUMERIC[(37 - _mod37_36_remainder(_values(text))) % 36]


def is_valid_mod37_36(text_with_check: str) -> bool:
    """True when the last character is the MOD 37,36 check character of the ones before it."""
    try:
        values = _values(text_with_check)
    except SerialError:
        return False
    if len(values) < 2:
        return False
    # With the check character included, the final S of the hybrid system is 1.
    return ((_mod37_36_remainder(values[:-1]) + values[-1]) % 36 or 36) == 1
