"""Reads of the warranty domain for a unit: claims, tests, replacement links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ..trace.models import Unit
from .models import Claim, Replacement, TestRecord


def unit_claims(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Claims against a unit, newest first."""
    rows = session.scalars(select(Claim).where(Claim.unit_id == unit_id).order_by(Claim.opened_at.desc())).all()
    return [{"id": c.id, "number": c.number, "state": c.state, "symptom": c.symptom, "description": c.description,
             "priority": c.priority, "opened_at": c.opened_at.isoformat(),
             "closed_at": c.closed_at.isoformat() if c.closed_at else None} for c in rows]


def unit_tests(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Test records of a unit, newest first."""
    rows = session.scalars(select(TestRecord).where(TestRecord.unit_id == unit_id)
                           .order_by(TestRecord.tested_at.desc())).all()
    return [{"id": t.id, "claim_id": t.claim_id, "verdict": t.verdict, "failure_mode": t.failure_mode,
             "root_cause": t.root_cause, "notes": t.notes, "tested_at": t.tested_at.isoformat()} for t in rows]


# Built once: aliased() per call cost several milliseconds per dossier.
_RETURNED, _HANDED = aliased(Unit), aliased(Unit)


def unit_replacements(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Replacement links in which the unit was returned or handed out."""
    returned, handed = _RETURNED, _HANDED
    rows = session.execute(
        select(Replacement, returned.serial, handed.serial)
        .join(returned, returned.id == Replacement.returned_unit_id)
        .join(handed, handed.id == Replacement.replacement_unit_id)
        .where(or_(Replacement.returned_unit_id == unit_id, Replacement.replacement_unit_id == unit_id))
    ).all()
    return [{"claim_id": r.claim_id, "returned_serial": rs, "replacement_serial": hs,
             "role": "returned" if r.returned_unit_id == unit_id else "replacement",
             "created_at": r.created_at.isoformat()} for r, rs, hs in rows]
