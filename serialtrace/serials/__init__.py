"""Serial numbers: schemes (opaque digits, Crockford Base32, readable patterns) and check characters."""

from .checkchars import damm_check, is_valid_damm, is_valid_mod37_36, mod37_36_check
from .errors import SerialError, SerialSchemeError
from .schemes import (
    CHECKS,
    CROCKFORD,
    MISTYPED,
    OpaqueBase32,
    OpaqueDigits,
    PatternScheme,
    SerialScheme,
    is_mistyped,
    is_valid_check,
    make_scheme,
    with_check,
)

__all__ = [
    "CHECKS", "CROCKFORD", "MISTYPED", "OpaqueBase32", "OpaqueDigits", "PatternScheme", "SerialError",
    "SerialScheme", "SerialSchemeError", "damm_check", "is_mistyped", "is_valid_check", "is_valid_damm",
    "is_valid_mod37_36", "make_scheme", "mod37_36_check", "with_check",
]
