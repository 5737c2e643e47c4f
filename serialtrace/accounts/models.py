"""Tables of the accounts domain: users, API tokens and the sign-in attempts the lockout counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel

from ..columns import JsonType, utcnow
from .enums import Role


class User(SQLModel, table=True):
    """A person with one role; admins may do everything."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_type=String(64), unique=True, index=True)
    display_name: str = Field(default="", sa_type=String(200))
    email: str = Field(default="", sa_type=String(200))
    role: str = Field(sa_type=String(16))
    password_hash: str = Field(default="", sa_type=String(256))
    supervisor_id: int | None = Field(default=None, foreign_key="user_account.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Copied into the session cookie at login and compared on every request; raising it ends every session of
    # the user at once (logout, password change, deactivation).
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # The language pages are shown in (a code of i18n.LANGUAGES); NULL follows the browser's Accept-Language.
    language: str | None = Field(default=None, sa_type=String(8))

    def has_role(self, *roles: str) -> bool:
        """True when the user holds one of `roles` (admins hold all)."""
        return self.active and (self.role == Role.ADMIN or self.role in roles)


class ApiToken(SQLModel, table=True):
    """An API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100))
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(sa_type=String(64), unique=True, index=True)
    prefix: str = Field(sa_type=String(12))
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
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

    id: int | None = Field(default=None, primary_key=True)
    username: str | None = Field(default=None, sa_type=String(64))
    address: str = Field(default="", sa_type=String(64))
    at: datetime = Field(default_factory=utcnow, index=True)


class AdminEvent(SQLModel, table=True):
    """Append-only record of an administrator's action (users, tokens, stations, products): who, when, what, on what.

    Users, tokens and products have no history of their own, so the admin area writes one row per action in the
    action's transaction; the details never hold a password or a token secret.
    """

    __tablename__ = "admin_event"
    __table_args__ = (Index("ix_admin_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author: str = Field(default="", sa_type=String(100))
    action: str = Field(sa_type=String(32))
    subject: str = Field(default="", sa_type=String(200))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))


class SecurityEvent(SQLModel, table=True):
    """Append-only record of a security event: sign-ins and their failures, lockouts, logouts, token life and use,
    role, password and account changes, exports of customer data.

    `username` is the name as typed (a failed sign-in may name nobody); `actor` is who did it when that is someone
    else (an admin changing a role). The details never hold a password or a token secret.
    """

    __tablename__ = "security_event"
    __table_args__ = (Index("ix_security_event_at", "at"),
                      Index("ix_security_event_kind_at", "kind", "at"),
                      Index("ix_security_event_token_at", "token_id", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(sa_type=String(32))
    username: str = Field(default="", sa_type=String(64))
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor: str = Field(default="", sa_type=String(64))
    address: str = Field(default="", sa_type=String(64))
    token_id: int | None = Field(default=None, foreign_key="api_token.id")
    token_prefix: str = Field(default="", sa_type=String(12))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
