"""Reads of the accounts domain: users by name, password or token, and the token list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..columns import utcnow
from ..db import BUSY_TIMEOUT_MS, READ_ONLY
from ..errors import NotFound
from ..i18n import _l
from .models import AdminEvent, ApiToken, LoginAttempt, User
from .policy import LOCKOUT, Lockout, as_utc, hash_token, lock_end
from .security_log import record_token_use

_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")

# Built once: this runs on every API call. The token's id and last use come along, so recording the use
# needs no second read.
_USER_FOR_TOKEN = (select(User, ApiToken.id, ApiToken.prefix, ApiToken.last_used_at)
                   .join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked.is_(False)))
# last_used_at is written at most this often per token, so the hot path stays a single SELECT.
LAST_USED_EVERY = timedelta(minutes=1)
# How long recording a use may wait for SQLite's write lock before it gives up (ms; it is best-effort).
_TOUCH_BUSY_MS = 200


def find_user(session: Session, username: str) -> User | None:
    """The user with this name, or None."""
    return session.scalars(select(User).where(User.username == username)).first()


def get_user(session: Session, username: str) -> User:
    """The user with this name, or NotFound."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(_l("no user %(username)r", username=username))
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this name and password, or None."""
    user = find_user(session, username)
    if user is None or not user.active or not user.password_hash:
        # Compare anyway so timing does not reveal which user names exist.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def user_for_token(session: Session, token: str, *, now: datetime | None = None, address: str = "") -> User | None:
    """The active user behind a live bearer token, or None; notes the token's use at most once a minute, and in the
    security log (with the caller's `address`) at most once an hour."""
    row = session.execute(_USER_FOR_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None or not row.User.active:
        return None
    now = now or utcnow()
    if row.last_used_at is None or as_utc(row.last_used_at) <= now - LAST_USED_EVERY:
        _touch_token(session, row, now, address)
    return row.User


def _holds_sqlite_write_lock(session: Session, bind: Engine) -> bool:
    """True when `session` is a SQLite writer inside its transaction, which began with BEGIN IMMEDIATE."""
    return (bind.dialect.name == "sqlite" and session.in_transaction()
            and not bind.get_execution_options().get(READ_ONLY, False))


def _touch_token(session: Session, row: Any, now: datetime, address: str) -> None:
    """Set last_used_at, in a short transaction of its own when the session sits on an engine, and log the use
    (security_log.record_token_use) when this call's update won.

    The request's own session may be read-only (GET) or roll back on error, and the use happened either way.
    A session bound to a connection (a caller managing the transaction, as tests do) records it in place, and so
    does a SQLite writer: it already holds the one write lock, which a second connection would only wait for (and
    give up on, every call, so the use was never recorded and each write call lost the whole wait).
    """
    table = ApiToken.__table__
    stmt = (update(table).where(table.c.id == row.id,
                                 or_(table.c.last_used_at.is_(None), table.c.last_used_at <= now - LAST_USED_EVERY))
            .values(last_used_at=now))
    use = {"token_id": row.id, "prefix": row.prefix, "user_id": row.User.id, "username": row.User.username,
           "address": address, "now": now}
    bind = session.get_bind()
    if not isinstance(bind, Engine) or _holds_sqlite_write_lock(session, bind):
        if session.execute(stmt).rowcount == 1:
            record_token_use(session, **use)
        return
    options: dict[str, Any] = {READ_ONLY: False}
    if bind.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        # A scan's reads run in autocommit (web.database); the update and its security log row go together.
        options["isolation_level"] = bind.dialect.default_isolation_level
    with bind.execution_options(**options).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection
        if sqlite:
            # Never keep an API call waiting behind a long write (a big batch) just to record a timestamp.
            raw.execute(f"PRAGMA busy_timeout={_TOUCH_BUSY_MS}")
        try:
            with conn.begin():
                if conn.execute(stmt).rowcount == 1:
                    record_token_use(conn, **use)
        except OperationalError:
            # Busy database: this minute's use goes unrecorded and the next call records it.
            pass
        finally:
            if sqlite:
                # Back to the busy timeout make_engine gives every SQLite connection.
                raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def list_tokens(session: Session) -> list[tuple[ApiToken, User]]:
    """Every token with its user, oldest first."""
    stmt = select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    return [(token, user) for token, user in session.execute(stmt)]


def list_users(session: Session) -> list[User]:
    """Every user, active first, then by name."""
    return list(session.scalars(select(User).order_by(User.active.desc(), User.username)))


def get_user_by_id(session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("no user %(id)s", id=user_id), details={"field": "user"})
    return user


def locked_user_names(session: Session, *, now: datetime | None = None,
                      lockout: Lockout = LOCKOUT) -> dict[str, datetime]:
    """User names that failed sign-ins lock right now, with the time each lock ends."""
    now = now or utcnow()
    rows = session.execute(select(LoginAttempt.username, LoginAttempt.at)
                           .where(LoginAttempt.username.is_not(None),
                                  LoginAttempt.at > now - lockout.window - lockout.duration)).all()
    times: dict[str, list[datetime]] = {}
    for name, at in rows:
        times.setdefault(name, []).append(as_utc(at))
    locked = {}
    for name, seen in times.items():
        until = lock_end(sorted(seen), limit=lockout.per_user, window=lockout.window, duration=lockout.duration)
        if until is not None and until > now:
            locked[name] = until
    return locked


def list_admin_events(session: Session, *, limit: int = 50) -> list[AdminEvent]:
    """The latest admin actions, newest first."""
    return list(session.scalars(select(AdminEvent).order_by(AdminEvent.id.desc()).limit(limit)))
