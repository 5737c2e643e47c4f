"""The security log: appending a security event (in the caller's transaction) and reading the log back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..columns import utcnow
from ..errors import ValidationError
from ..i18n import _l
from .enums import SECURITY_EVENT_KINDS, SecurityEventKind
from .models import ApiToken, SecurityEvent, User

# A token's use is logged at most this often per token: an ERP scanning all day writes one row an hour, not one a
# request (the use is noticed only when last_used_at is written, at most once a minute: queries.LAST_USED_EVERY).
TOKEN_USE_EVERY = timedelta(hours=1)
# Detail keys that must never reach the log, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "new_password", "current_password", "secret", "token", "token_secret"})
# Columns of the CSV download and the API rows, in order.
COLUMNS = ("id", "at", "kind", "username", "user_id", "actor", "address", "token_id", "token_prefix", "details")


def _clean(details: dict[str, Any] | None) -> dict[str, Any]:
    """The details without any key that could hold a secret."""
    return {k: v for k, v in (details or {}).items() if k.lower() not in SECRET_KEYS}


def event_values(kind: str, *, username: str = "", user: User | None = None, actor: User | str | None = None,
                 address: str = "", token: ApiToken | None = None, details: dict[str, Any] | None = None,
                 at: datetime | None = None) -> dict[str, Any]:
    """The column values of one security event (names and address cut to their column's length)."""
    if kind not in SECURITY_EVENT_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    actor_name = actor if isinstance(actor, str) else getattr(actor, "username", "") or ""
    return {"at": at or utcnow(), "kind": kind, "username": (username or getattr(user, "username", "") or "")[:64],
            "user_id": getattr(user, "id", None), "actor": actor_name[:64], "address": (address or "")[:64],
            "token_id": getattr(token, "id", None), "token_prefix": getattr(token, "prefix", "") or "",
            "details": _clean(details)}


def record_security_event(session: Session, kind: str, **values: Any) -> SecurityEvent:
    """Append one security event in the caller's transaction (see event_values for the fields). Flushes."""
    event = SecurityEvent(**event_values(kind, **values))
    session.add(event)
    session.flush()
    return event


def logged_within(conn: Connection | Session, kind: str, *, since: datetime, **match: Any) -> bool:
    """True when an event of `kind` whose columns equal `match` was logged after `since`: the once-per-window rules
    that keep repeated events (a token's use, a refused token, a locked sign-in) from growing the table."""
    table = SecurityEvent.__table__
    stmt = select(table.c.id).where(table.c.kind == kind, table.c.at > since,
                                    *(table.c[name] == value for name, value in match.items())).limit(1)
    return conn.execute(stmt).first() is not None


def record_token_use(conn: Connection | Session, *, token_id: int, prefix: str, user_id: int, username: str,
                     address: str, now: datetime) -> bool:
    """Log a token's use unless one was logged within TOKEN_USE_EVERY; True when a row was written.

    Called only by the one caller whose conditional UPDATE of last_used_at won (at most once a minute per token), so
    two processes never both read "none this hour" for the same token.
    """
    if logged_within(conn, SecurityEventKind.TOKEN_USED, since=now - TOKEN_USE_EVERY, token_id=token_id):
        return False
    conn.execute(insert(SecurityEvent.__table__).values(
        at=now, kind=SecurityEventKind.TOKEN_USED, username=username[:64], user_id=user_id, actor="",
        address=(address or "")[:64], token_id=token_id, token_prefix=prefix, details={}))
    return True


# A refused token is logged at most this often per client address: a station with a revoked token retrying all day,
# or someone trying made-up tokens, must not grow an append-only table that is never pruned.
TOKEN_REJECTED_EVERY = timedelta(minutes=1)


def record_token_rejected(session: Session, *, address: str, prefix: str, now: datetime | None = None) -> bool:
    """Log an API call refused for its token unless one from `address` was logged within TOKEN_REJECTED_EVERY;
    True when a row was written. `prefix` is as much of the token as a real token's stored prefix."""
    now = now or utcnow()
    address = (address or "")[:64]
    if logged_within(session, SecurityEventKind.TOKEN_REJECTED, since=now - TOKEN_REJECTED_EVERY, address=address):
        return False
    record_security_event(session, SecurityEventKind.TOKEN_REJECTED, address=address, at=now,
                          details={"prefix": prefix[:10]})
    return True


@dataclass(frozen=True)
class SecurityFilter:
    """What the log page, the API and the CLI filter by: kind, user name, a time range (since inclusive, until
    exclusive)."""

    kind: str = ""
    user: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind and self.kind not in SECURITY_EVENT_KINDS:
            raise ValidationError(_l("unknown security event kind %(kind)r; use one of %(kinds)s",
                                     kind=self.kind[:40], kinds=", ".join(SECURITY_EVENT_KINDS)),
                                  details={"field": "kind"})


def _filtered(where: SecurityFilter) -> Select:
    stmt = select(SecurityEvent)
    if where.kind:
        stmt = stmt.where(SecurityEvent.kind == where.kind)
    if where.user:
        # The name as typed on failed sign-ins, the actor on admin actions: either matches.
        stmt = stmt.where((SecurityEvent.username == where.user) | (SecurityEvent.actor == where.user))
    if where.since is not None:
        stmt = stmt.where(SecurityEvent.at >= where.since)
    if where.until is not None:
        stmt = stmt.where(SecurityEvent.at < where.until)
    return stmt


def list_security_events(session: Session, where: SecurityFilter = SecurityFilter(), *, offset: int = 0,
                         limit: int = 50) -> list[SecurityEvent]:
    """One page of the log, newest first."""
    stmt = _filtered(where).order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
    return list(session.scalars(stmt.offset(offset).limit(limit)))


def count_security_events(session: Session, where: SecurityFilter = SecurityFilter()) -> int:
    """How many events the filter matches."""
    return session.execute(select(func.count()).select_from(_filtered(where).subquery())).scalar_one()


def event_row(event: SecurityEvent) -> dict[str, Any]:
    """An event as a plain row (API, CSV, CLI), the time in ISO 8601."""
    row = {name: getattr(event, name) for name in COLUMNS}
    row["at"] = event.at.isoformat() if event.at else None
    return row
