"""Users and API tokens: the people and systems that act, with hashed secrets."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import String, bindparam, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel
from werkzeug.security import check_password_hash, generate_password_hash

from .db import READ_ONLY
from .errors import Conflict, NotFound, ValidationError
from .models_base import utcnow
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
    if password is not None and len(password) < 8:
        raise ValidationError("password must be at least 8 characters")
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
    """Stop a user from logging in or using their tokens; history keeps the name. Flushes."""
    user = get_user(session, username)
    user.active = False
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    """The user with this name, or NotFound."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user
