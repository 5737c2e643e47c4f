"""Shared column helpers for every table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB

# A moment the calling context stands at instead of the wall clock: the demo replays two years of claims through
# the same services the desk uses, so their rows carry the day each step happened.
_AT: ContextVar[datetime | None] = ContextVar("serialtrace_at", default=None)


def utcnow() -> datetime:
    """Timezone-aware now in UTC (or the moment `at_moment` set); the single clock for created/at columns."""
    return _AT.get() or datetime.now(UTC)


@contextmanager
def at_moment(moment: datetime) -> Iterator[None]:
    """Within the block, utcnow() answers `moment` (timezone-aware) in this context only."""
    if moment.tzinfo is None:
        raise ValueError("at_moment needs a timezone-aware datetime")
    token = _AT.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _AT.reset(token)


# JSONB on PostgreSQL (indexable), JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")
