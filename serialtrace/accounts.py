"""Users and API tokens: the people and systems that act, with hashed secrets."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from sqlalchemy import Index, String, bindparam, delete, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel
from werkzeug.security import check_password_hash, generate_password_hash

from .db import READ_ONLY
from .errors import Conflict, DomainError, NotFound, ValidationError
from .columns import utcnow
from .passwords import MIN_LENGTH as PASSWORD_MIN_LENGTH, ensure_password  # noqa: F401  (used by web)
from .trace.enums import Role


# Werkzeug's scrypt default; tests lower the cost through this name to stay fast.
PASSWORD_METHOD = "scrypt"


class User(SQLModel, table=True):
    """A person with one role; admins may do everything."""

    __tablename__ = "user_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(sa_type=String(64), unique=True, index=True)
    display_name: str = Field(default="", sa_type=String(200))
    email: str = Field(default="", sa_type=String(200))
    role: str = Field(sa_type=String(16))
    password_hash: str = Field(default="", sa_type=String(256))
    supervisor_id: Optional[int] = Field(default=None, foreign_key="user_account.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Copied into the session cookie at login and compared on every request; raising it ends every session of
    # the user at once (logout, password change, deactivation).
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})

    def has_role(self, *roles: str) -> bool:
        """True when the user holds one of `roles` (admins hold all)."""
        return self.active and (self.role == Role.ADMIN or self.role in roles)


class ApiToken(SQLModel, table=True):
    """An API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_token"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100))
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(sa_type=String(64), unique=True, index=True)
    prefix: str = Field(sa_type=String(12))
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: Optional[datetime] = None
    revoked: bool = False


class LoginAttempt(SQLModel, table=True):
    """A password check that has not (yet) succeeded: the counters of the sign-in lockout.

    A row is written before the password is checked, so every app process counts an attempt in flight; a
    successful sign-in deletes its own row and detaches the user's earlier failures (user name NULL), which keeps
    them counted against the address.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),
                      Index("ix_login_attempt_address_at", "address", "at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    username: Optional[str] = Field(default=None, sa_type=String(64))
    address: str = Field(default="", sa_type=String(64))
    at: datetime = Field(default_factory=utcnow, index=True)


_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")


# Built once: this runs on every API call. The token's id and last use come along, so recording the use
# needs no second read.
_USER_FOR_TOKEN = (select(User, ApiToken.id, ApiToken.last_used_at).join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked.is_(False)))
# last_used_at is written at most this often per token, so the hot path stays a single SELECT.
LAST_USED_EVERY = timedelta(minutes=1)
# How long recording a use may wait for SQLite's write lock before it gives up (ms; it is best-effort).
_TOUCH_BUSY_MS = 200
# The busy timeout make_engine gives every SQLite connection, restored after recording a use.
SQLITE_BUSY_MS = 30_000


def hash_token(token: str) -> str:
    """Tokens are 32 random bytes, so one SHA-256 pass is enough (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_role(role: str) -> str:
    """Validate a role name."""
    if role not in {r.value for r in Role}:
        raise ValidationError(f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}")
    return role


def create_user(session: Session, *, username: str, role: str, password: str | None = None,
                display_name: str = "", email: str = "") -> User:
    """Add a user. Flushes; the caller commits."""
    ensure_role(role)
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationError("user name must be 1 to 64 characters")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f"user {username!r} already exists")
    if password is not None:
        ensure_password(password, username=username)
    user = User(username=username, role=role, display_name=display_name or username, email=email,
                password_hash=generate_password_hash(password, method=PASSWORD_METHOD) if password else "")
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this name and password, or None."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active or not user.password_hash:
        # Compare anyway so timing does not reveal which user names exist.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def create_token(session: Session, *, name: str, user: User) -> str:
    """Issue a token for `user`; returns the secret, which is not stored."""
    secret = "st_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, user_id=user.id, token_hash=hash_token(secret), prefix=secret[:10]))
    session.flush()
    return secret


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    """The active user behind a live bearer token, or None; notes the token's use at most once a minute."""
    row = session.execute(_USER_FOR_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None or not row.User.active:
        return None
    now = now or utcnow()
    if row.last_used_at is None or _aware(row.last_used_at) <= now - LAST_USED_EVERY:
        _touch_token(session, row.id, now)
    return row.User


def _touch_token(session: Session, token_id: int, now: datetime) -> None:
    """Set last_used_at, in a short transaction of its own when the session sits on an engine.

    The request's own session may be read-only (GET) or roll back on error, and the use happened either way.
    A session bound to a connection (a caller managing the transaction, as tests do) records it in place.
    """
    table = ApiToken.__table__
    stmt = (update(table).where(table.c.id == token_id,
                                 or_(table.c.last_used_at.is_(None), table.c.last_used_at <= now - LAST_USED_EVERY))
            .values(last_used_at=now))
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        session.execute(stmt)
        return
    with bind.execution_options(**{READ_ONLY: False}).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection
        if sqlite:
            # Never keep an API call waiting behind a long write (a big batch) just to record a timestamp.
            raw.execute(f"PRAGMA busy_timeout={_TOUCH_BUSY_MS}")
        try:
            with conn.begin():
                conn.execute(stmt)
        except OperationalError:
            # Busy database: this minute's use goes unrecorded and the next call records it.
            pass
        finally:
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def list_tokens(session: Session) -> list[tuple[ApiToken, User]]:
    """Every token with its user, oldest first."""
    stmt = select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    return [(token, user) for token, user in session.execute(stmt)]


def revoke_tokens(session: Session, name_or_prefix: str) -> list[ApiToken]:
    """Revoke the live tokens with this name or secret prefix; NotFound when there is none. Flushes."""
    key = (name_or_prefix or "").strip()
    found = list(session.scalars(select(ApiToken).where(or_(ApiToken.name == key, ApiToken.prefix == key),
                                                      ApiToken.revoked.is_(False)).order_by(ApiToken.id)))
    if not key or not found:
        raise NotFound(f"no live API token named {name_or_prefix!r} or starting with it")
    for token in found:
        token.revoked = True
    session.flush()
    return found


def deactivate_user(session: Session, username: str) -> User:
    """Stop a user from logging in or using their tokens, ending their sessions; history keeps the name. Flushes."""
    user = get_user(session, username)
    user.active = False
    end_sessions(session, user)
    return user


def get_user(session: Session, username: str) -> User:
    """The user with this name, or NotFound."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def set_password(session: Session, user: User, *, password: str) -> None:
    """Give `user` a new password that passes the rule, ending all their sessions. Flushes."""
    ensure_password(password, username=user.username)
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    end_sessions(session, user)


def end_sessions(session: Session, user: User) -> None:
    """End every login session of `user` on every device: their cookies now carry an old version. Flushes."""
    # Incremented in SQL so two logouts at once cannot both write the same new number.
    user.session_version = User.session_version + 1
    session.flush()


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
# A locked user name or address writes no rows, so a few times the limits is all a check can meet; this only
# bounds the read when many attempts race.
_ATTEMPTS_READ = 1000
# Expired attempts each sign-in removes; more than the one row it adds, so the table stays small.
_PRUNE_BATCH = 200


class SignInRefused(DomainError):
    """Wrong user name or password; the message never says which, so the form reveals no user names."""

    status_code = 401
    code = "unauthorized"


class SignInLocked(DomainError):
    """Too many failed sign-ins for a user name or from an address; `until` says when to try again."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, *, until: datetime, scope: str) -> None:
        what = "for this user name" if scope == "user" else "from this address"
        super().__init__(f"too many failed sign-ins {what}; try again after {until:%Y-%m-%d %H:%M} UTC",
                         details={"retry_at": until.isoformat(), "scope": scope})
        self.until = until
        self.scope = scope


def sign_in(session: Session, *, username: str, password: str, address: str, commit: Callable[[], None],
            now: datetime | None = None, lockout: Lockout = LOCKOUT) -> User:
    """The active user with this name and password, under the lockout rules.

    The attempt is committed (through `commit`) before the password is checked, so that attempts running at the
    same time in other processes count it; every outcome is committed the same way.

    Raises:
        SignInLocked: the user name or the address is locked (even when the password is right).
        SignInRefused: wrong password, or an unknown, inactive or password-less user (one message for all).
    """
    now = now or utcnow()
    key, address = username[:64], (address or "")[:64]
    _ensure_not_locked(session, key=key, address=address, now=now, lockout=lockout)
    attempt = LoginAttempt(username=key, address=address, at=now)
    session.add(attempt)
    _prune_attempts(session, before=now - lockout.window - lockout.duration)
    session.flush()
    attempt_id = attempt.id
    commit()
    try:
        _ensure_not_locked(session, key=key, address=address, now=now, lockout=lockout, exclude=attempt_id)
    except SignInLocked:
        # Refused unchecked, so not a failure: hammering a locked name does not make its lockout longer.
        _delete_attempt(session, attempt_id)
        commit()
        raise
    user = authenticate(session, username=username, password=password)
    if user is None:
        raise SignInRefused("wrong user name or password")
    _delete_attempt(session, attempt_id)
    clear_failures(session, key)
    commit()
    return user


def clear_failures(session: Session, username: str) -> int:
    """Forget the failed sign-ins counted against a user name (they still count for their address). Flushes."""
    result = session.execute(update(LoginAttempt).where(LoginAttempt.username == username).values(username=None)
                             .execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount


def lock_end(times: list[datetime], *, limit: int, window: timedelta, duration: timedelta) -> datetime | None:
    """When the lockout set off by failures at these sorted times ends; None when they set off none.

    A lockout starts at the failure that makes `limit` failures within `window` and lasts `duration`.
    """
    ends = [times[i] + duration for i in range(limit - 1, len(times)) if times[i] - times[i - limit + 1] <= window]
    return max(ends, default=None)


def _ensure_not_locked(session: Session, *, key: str, address: str, now: datetime, lockout: Lockout,
                       exclude: int | None = None) -> None:
    """Raise SignInLocked when the attempts on record (but `exclude`) lock the user name or the address now."""
    horizon = now - lockout.window - lockout.duration
    stmt = (select(LoginAttempt.username, LoginAttempt.address, LoginAttempt.at)
            .where(LoginAttempt.at > horizon, or_(LoginAttempt.username == key, LoginAttempt.address == address)))
    if exclude is not None:
        stmt = stmt.where(LoginAttempt.id != exclude)
    rows = session.execute(stmt.order_by(LoginAttempt.at.desc()).limit(_ATTEMPTS_READ)).all()
    for scope, limit, times in (("user", lockout.per_user, [r.at for r in rows if r.username == key]),
                                ("address", lockout.per_address, [r.at for r in rows if r.address == address])):
        until = lock_end(sorted(_aware(t) for t in times), limit=limit, window=lockout.window,
                         duration=lockout.duration)
        if until is not None and until > now:
            raise SignInLocked(until=until, scope=scope)


def _delete_attempt(session: Session, attempt_id: int) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id)
                    .execution_options(synchronize_session=False))


def _prune_attempts(session: Session, *, before: datetime) -> None:
    """Delete a batch of attempts too old to matter."""
    # SKIP LOCKED: two sign-ins pruning at once on PostgreSQL take different rows instead of waiting or
    # deadlocking on each other (SQLite writes one at a time and ignores the clause).
    old = (select(LoginAttempt.id).where(LoginAttempt.at < before).limit(_PRUNE_BATCH)
           .with_for_update(skip_locked=True))
    session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(old.scalar_subquery()))
                    .execution_options(synchronize_session=False))
