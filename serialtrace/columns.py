"""Shared column helpers for every table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB


def utcnow() -> datetime:
    """Timezone-aware now in UTC; the single clock for created/at columns."""
    return datetime.now(UTC)


# JSONB on PostgreSQL (indexable), JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")
