"""The full unit dossier: the trace part plus claims, tests and replacement links."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ..trace import queries as trace_queries
from ..trace.dossier import trace_dossier
from ..trace.models import Unit
from . import queries


def unit_dossier(session: Session, unit: Unit, *, today: date | None = None, grace_days: int = 0) -> dict[str, Any]:
    """Everything known about one unit, in the JSON shape of GET /api/v1/units/<serial>."""
    dossier = trace_dossier(session, unit, today=today, grace_days=grace_days)
    dossier["claims"] = queries.unit_claims(session, unit.id)
    dossier["tests"] = queries.unit_tests(session, unit.id)
    dossier["replacements"] = queries.unit_replacements(session, unit.id)
    return dossier


def lookup_dossier(session: Session, code: str, *, today: date | None = None, grace_days: int = 0) -> dict[str, Any]:
    """Dossier for a serial (or external code); NotFound or Conflict (ambiguous) otherwise."""
    return unit_dossier(session, trace_queries.get_unit(session, code), today=today, grace_days=grace_days)
