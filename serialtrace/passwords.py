"""The password rule: long enough, not the user name, not a common password (pure, no database)."""

from __future__ import annotations

import functools
import gzip
import string
from pathlib import Path

from .errors import ValidationError

MIN_LENGTH = 10
# Long passphrases are welcome; the cap only keeps a pasted file from being hashed.
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt.gz"
# What people put around a word to pass "must contain a digit" rules: "Summer2026!" is "summer".
_DECORATION = string.digits + string.punctuation + " "


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded (see serialtrace/data/README.md)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def _core(password: str) -> str:
    """The password case-folded, without the digits and symbols at its ends."""
    return password.casefold().strip(_DECORATION)


def ensure_password(password: str, *, username: str = "") -> str:
    """Refuse a password that breaks the rule, naming the rule; returns it unchanged when it passes."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"password too short: it needs at least {MIN_LENGTH} characters "
                              f"(this one has {len(password)}); a phrase of a few words is easy to type")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"password too long: at most {MAX_LENGTH} characters")
    folded, core = password.casefold(), _core(password)
    name = username.strip().casefold()
    if name and name in (folded, core):
        raise ValidationError("password must not be the user name (nor the user name with digits or symbols "
                              "added)")
    common = common_passwords()
    if folded in common or (core and core in common):
        raise ValidationError("password is too common: it is one of the 20,000 most used passwords, or one of "
                              "them with digits or symbols added; choose another")
    return password

