"""Claims at the desk: registering a complaint with its warnings, moving a claim through its state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..columns import utcnow
from ..errors import NotFound, ValidationError
from ..i18n import Message, _l, coded
from ..trace import queries as trace_queries
from ..trace.dossier import trace_dossier
from ..trace.enums import BatchStatus
from ..trace.models import Customer, SerialCounter
from ..trace.policy import MAX_INT
from ..trace.service import Author, allocate_counter, author_fields
from . import workflow
from .enums import SYMPTOM_LABELS, ClaimState, UnitCaseState
from .models import Claim, ClaimEvent, UnitCase

CHANNELS = ("desk", "phone", "email", "web")
CLAIM_COUNTER = "claim"
# Claims in these states are over; any other claim on the unit is still open.
CLOSED_STATES = frozenset({ClaimState.RESOLVED, ClaimState.CLOSED, ClaimState.CANCELLED})


@dataclass
class Registered:
    """A new claim and the warnings the desk must see."""

    claim: Claim
    warnings: list[dict[str, Any]] = field(default_factory=list)


def claim_number(value: int) -> str:
    """The printed number of the claim counter's value: CL-000042."""
    return f"CL-{value:06d}"


def next_claim_number(session: Session) -> str:
    """The next claim number from the counter row; the row starts after the highest CL- number already stored."""
    table = SerialCounter.__table__
    if session.get(SerialCounter, CLAIM_COUNTER) is None:
        # Claims written before the counter existed (the demo's) keep their numbers: start past the highest one.
        highest = session.scalar(select(func.max(Claim.number)).where(
            Claim.number.like("CL-%"), func.length(Claim.number) == len(claim_number(0))))
        start = int(highest[3:]) if highest and highest[3:].isdigit() else 0
        dialect = session.get_bind().dialect.name
        stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        session.execute(stmt.values(name=CLAIM_COUNTER, next_value=start)
                        .on_conflict_do_nothing(index_elements=["name"]))
    return claim_number(allocate_counter(session, key=CLAIM_COUNTER, count=1) + 1)


def _warning(code: str, message: Message) -> dict[str, Any]:
    return {"code": code, "message": message}


def _warnings(session: Session, dossier: dict[str, Any], unit_id: int) -> list[dict[str, Any]]:
    """Everything the desk should know before registering: open claims, warranty, batch status, never shipped."""
    out = []
    open_numbers = session.scalars(select(Claim.number).where(
        Claim.unit_id == unit_id, Claim.state.not_in([str(s) for s in CLOSED_STATES])).order_by(Claim.id)).all()
    if open_numbers:
        out.append(_warning("open_claim", _l("the unit already has an open claim: %(numbers)s",
                                             numbers=", ".join(open_numbers))))
    warranty = dossier["warranty"]
    if not dossier["shipments"]:
        out.append(_warning("never_shipped", _l("the unit was never shipped")))
    if warranty["status"] != "in_warranty":
        out.append(_warning("out_of_warranty", _l("out of warranty: %(reason)s", reason=warranty["reason"])))
    status = dossier["batch"]["status"]
    if status == BatchStatus.ON_HOLD:
        out.append(_warning("batch_on_hold", _l("the unit's batch %(batch)s is on hold",
                                                batch=dossier["batch"]["number"])))
    elif status == BatchStatus.RECALLED:
        out.append(_warning("batch_recalled", _l("the unit's batch %(batch)s is recalled",
                                                 batch=dossier["batch"]["number"])))
    return out


def _event(session: Session, claim: Claim, *, kind: str, author: Author | None, reason: str = "",
           from_state: str | None = None, to_state: str | None = None) -> None:
    session.add(ClaimEvent(claim_id=claim.id, kind=kind, from_state=from_state, to_state=to_state, reason=reason,
                           **author_fields(author)))


def register_claim(session: Session, *, serial: str, symptom: str, author: Author | None, description: str = "",
                   channel: str = "desk", customer_id: int | None = None, today: date) -> Registered:
    """Register a complaint about `serial`: a claim in registered with one expected unit case and its first timeline
    row, plus the warnings (never silent). Flushes; the caller commits."""
    if symptom not in SYMPTOM_LABELS:
        raise ValidationError(_l("unknown symptom %(symptom)r; use one of %(allowed)s", symptom=symptom,
                                 allowed=coded(list(SYMPTOM_LABELS), SYMPTOM_LABELS)), details={"field": "symptom"})
    if channel not in CHANNELS:
        raise ValidationError(_l("unknown channel %(channel)r; use one of %(allowed)s", channel=channel,
                                 allowed=", ".join(CHANNELS)), details={"field": "channel"})
    unit = trace_queries.get_unit(session, serial)
    dossier = trace_dossier(session, unit, today=today)
    if customer_id is not None:
        if session.get(Customer, customer_id) is None:
            raise NotFound(_l("no customer with id %(id)s", id=customer_id), details={"field": "customer_id"})
    elif dossier["customer"] is not None:
        customer_id = dossier["customer"]["id"]
    warnings = _warnings(session, dossier, unit.id)
    claim = Claim(number=next_claim_number(session), unit_id=unit.id, customer_id=customer_id,
                  state=ClaimState.REGISTERED, symptom=symptom, description=description, channel=channel,
                  author_id=getattr(author, "id", None))
    session.add(claim)
    session.flush()
    session.add(UnitCase(claim_id=claim.id, unit_id=unit.id, state=UnitCaseState.EXPECTED, expected_serial=unit.serial))
    _event(session, claim, kind="state_change", author=author, to_state=ClaimState.REGISTERED, reason=description)
    session.flush()
    return Registered(claim, warnings)


def get_claim(session: Session, claim_id: int, *, lock: bool = False) -> Claim:
    """The claim `claim_id` (locked for update when asked); NotFound otherwise."""
    stmt = select(Claim).where(Claim.id == claim_id)
    # Ids past the 32-bit column cannot exist; PostgreSQL would refuse the comparison's parameter otherwise.
    in_range = 0 < claim_id <= MAX_INT
    claim = session.scalars(stmt.with_for_update() if lock else stmt).one_or_none() if in_range else None
    if claim is None:
        raise NotFound(_l("no claim with id %(id)s", id=claim_id))
    return claim


def transition_claim(session: Session, *, claim_id: int, to: str, reason: str = "", author: Author | None) -> Claim:
    """Move a claim to `to` when its state and the author's role allow it (else 409 / 403, nothing changed), with a
    timeline row. Flushes; the caller commits."""
    claim = get_claim(session, claim_id, lock=True)
    role = getattr(author, "role", None) if author is not None else None
    workflow.ensure_transition(claim.state, to, role=role, kind="claim")
    target = workflow.state_of(to, "claim")
    before = claim.state
    claim.state = str(target)
    if target in (ClaimState.CLOSED, ClaimState.CANCELLED):
        claim.closed_at = utcnow()
    elif before in (ClaimState.RESOLVED, ClaimState.CLOSED):
        claim.closed_at = None  # reopened
    _event(session, claim, kind="state_change", author=author, from_state=before, to_state=str(target),
           reason=reason)
    session.flush()
    session.refresh(claim)
    return claim
