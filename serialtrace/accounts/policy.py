"""Account rules, pure (no database): the password rule, role names, token hashing, sessions, the lockout."""

from __future__ import annotations

import functools
import gzip
import hashlib
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ValidationError
from ..i18n import LANGUAGES, _l, is_language
from .enums import ROLES

if TYPE_CHECKING:
    from .models import User

MIN_LENGTH = 10
# Long passphrases are welcome; the cap only keeps a pasted file from being hashed.
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt.gz"
# What people put around a word to pass "must contain a digit" rules: "Summer2026!" is "summer".
_DECORATION = string.digits + string.punctuation + " "


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded (see serialtrace/accounts/data/README.md)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def _core(password: str) -> str:
    """The password case-folded, without the digits and symbols at its ends."""
    return password.casefold().strip(_DECORATION)


def ensure_password(password: str, *, username: str = "") -> str:
    """Refuse a password that breaks the rule, naming the rule; returns it unchanged when it passes."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(_l("password too short: it needs at least %(min_length)s characters (this one has "
                                 "%(count)s); a phrase of a few words is easy to type", min_length=MIN_LENGTH,
                                 count=len(password)))
    if len(password) > MAX_LENGTH:
        raise ValidationError(_l("password too long: at most %(max_length)s characters", max_length=MAX_LENGTH))
    folded, core = password.casefold(), _core(password)
    name = username.strip().casefold()
    if name and name in (folded, core):
        raise ValidationError(_l("password must not be the user name (nor the user name with digits or symbols added)"))
    common = common_passwords()
    if folded in common or (core and core in common):
        raise ValidationError(_l("password is too common: it is one of the 20,000 most used passwords, or one of "
                                 "them with digits or symbols added; choose another"))
    return password



def ensure_role(role: str) -> str:
    """Validate a role name."""
    if role not in ROLES:
        raise ValidationError(_l("unknown role %(role)r; use one of %(roles)s", role=role, roles=", ".join(ROLES)))
    return role


def hash_token(token: str) -> str:
    """Tokens are 32 random bytes, so one SHA-256 pass is enough (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_session_current(user: User | None, version: object) -> bool:
    """True when a session cookie carrying `version` still belongs to the active `user`."""
    return user is not None and user.active and type(version) is int and version == user.session_version


@dataclass(frozen=True)
class Lockout:
    """How many failed sign-ins within `window` lock a user name or a client address, and for how long."""

    per_user: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    duration: timedelta = timedelta(minutes=15)


LOCKOUT = Lockout()


def lock_end(times: list[datetime], *, limit: int, window: timedelta, duration: timedelta) -> datetime | None:
    """When the lockout set off by failures at these sorted times ends; None when they set off none.

    A lockout starts at the failure that makes `limit` failures within `window` and lasts `duration`.
    """
    ends = [times[i] + duration for i in range(limit - 1, len(times)) if times[i] - times[i - limit + 1] <= window]
    return max(ends, default=None)


def as_utc(moment: datetime) -> datetime:
    """`moment` with its time zone: SQLite hands back naive datetimes, and they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ensure_language(code: str | None) -> str | None:
    """A user's language setting: a code of i18n.LANGUAGES, or None (empty) to follow the browser; anything else is
    a ValidationError naming the code and the choices."""
    code = (code or "").strip().lower()
    if not code:
        return None
    if not is_language(code):
        raise ValidationError(_l("unknown language %(code)r; choose one of %(choices)s, or none to follow the "
                                 "browser", code=code[:20], choices=", ".join(LANGUAGES)),
                              details={"field": "language"})
    return code
