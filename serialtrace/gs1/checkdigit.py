"""The GS1 mod-10 check digit of GTIN, SSCC, GLN and the other numeric keys."""

from __future__ import annotations

from .errors import GS1Error


def _weighted_sum(body: bytes) -> int:
    # Weights run 3, 1, 3, ... from the right-most digit of the body; bytes sums are
    # much faster than int() per character, which matters on the scan path.
    odd = body[-1::-2]
    even = body[-2::-2]
    return 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)


def check_digit(digits_without_check: str) -> str:
    """Return the mod-10 check digit for a string of digits."""
    if not isinstance(digits_without_check, str) or not digits_without_check.isascii() \
            or not digits_without_check.isdigit():
        raise GS1Error(f"check digit needs digits only, got {digits_without_check!r}")
    return str(-_weighted_sum(digits_without_check.encode()) % 10)


def is_valid_check_digit(digits: str) -> bool:
    """Tell whether the last digit of digits is the right mod-10 check digit."""
    if not isinstance(digits, str) or len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    return -_weighted_sum(digits[:-1].encode()) % 10 == ord(digits[-1]) - 48


def ensure_check_digit(ai: str, digits: str) -> None:
    """Raise GS1Error when the check digit of an AI's digits is wrong."""
    expected = -_weighted_sum(digits[:-1].encode()) % 10
    if expected != ord(digits[-1]) - 48:
        raise GS1Error(f"({ai}) check digit is {digits[-1]}, expected {expected}")
