"""The GS1 mod-10 check digit of GTIN, SSCC, GLN and the other numeric keys."""

from __future__ import annotations

from ..i18n import _l
from .errors import GS1Error


def _check_of(body: bytes) -> int:
    # Weights run 3, 1, 3, ... from the right-most digit of the body. Summing bytes and
    # taking out the ASCII offset at the end is several times faster than int() per digit,
    # which matters on the scan path.
    odd = body[-1::-2]
    even = body[-2::-2]
    return (48 * (3 * len(odd) + len(even)) - 3 * sum(odd) - sum(even)) % 10


def check_digit(digits_without_check: str) -> str:
    """Return the mod-10 check digit for a string of digits."""
    if not isinstance(digits_without_check, str) or not digits_without_check.isascii() \
            or not digits_without_check.isdigit():
        raise GS1Error(_l("check digit needs digits only, got %(digits_without_check)r",
                          digits_without_check=digits_without_check))
    return str(_check_of(digits_without_check.encode()))


def is_valid_check_digit(digits: str) -> bool:
    """Tell whether the last digit of digits is the right mod-10 check digit."""
    if not isinstance(digits, str) or len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    b = digits.encode()
    return _check_of(b[:-1]) == b[-1] - 48


def ensure_check_digit(ai: str, digits: str) -> None:
    """Raise GS1Error when the check digit of an AI's digits is wrong."""
    b = digits.encode()
    odd = b[-2::-2]
    even = b[-3::-2]
    # _check_of inlined for the scan path.
    expected = (48 * (3 * len(odd) + len(even)) - 3 * sum(odd) - sum(even)) % 10
    if expected != b[-1] - 48:
        raise GS1Error(_l("(%(ai)s) check digit is %(found)s, expected %(expected)s", ai=ai, found=digits[-1],
                          expected=expected))
