"""Dispositions of tested units: proposed by the bench, approved by quality when needed, executed in one transaction
that moves the unit (restock, swap pool, back to the customer, to the supplier, scrap, hold) and writes its event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..columns import utcnow
from ..errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from ..i18n import _l, coded
from ..trace import service as trace_service
from ..trace.enums import EventKind, UnitStatus
from ..trace.models import Customer, Product, Unit
from ..trace.policy import MAX_INT
from ..trace.service import Author
from . import service, workflow
from .enums import DISPOSITION_LABELS, DISPOSITION_STATE_LABELS, Disposition, DispositionState, UnitCaseState
from .models import Claim, DispositionRecord, Replacement, UnitCase
from .service import get_case, get_claim

K, D = UnitCaseState, Disposition
# Above this value (the products' price currency) a disposition needs quality's approval; config overrides it.
DEFAULT_APPROVAL_VALUE = 500
# Free text of a proposal or a decision.
NOTES_MAX = 4000
# Numeric(12, 2): ten digits before the point.
VALUE_MAX = Decimal("9999999999.99")
# Who approves or rejects: the roles of the case table's step back from disposition_pending (a rejection).
APPROVERS = workflow.CASE_ROLES[(K.DISPOSITION_PENDING, K.TESTED)]
# Where each disposition takes the unit; None: the unit's status stays (it is shipped back, or held).
UNIT_TARGETS: dict[Disposition, UnitStatus | None] = {
    D.RESTOCK_REFURBISHED: UnitStatus.REFURBISHED,
    # The swap pool is the stock advance replacements are handed out of (shippable like refurbished stock).
    D.REPAIR_SWAP_POOL: UnitStatus.SWAP_POOL,
    D.REPAIR_RETURN: None,
    D.RETURN_AS_IS: None,
    D.RETURN_TO_SUPPLIER: UnitStatus.SENT_TO_SUPPLIER,
    D.SCRAP: UnitStatus.SCRAPPED,
    D.HOLD_FOR_ANALYSIS: None,
}
# Dispositions that ship the unit back to the claim's customer.
SHIP_BACK = frozenset({D.REPAIR_RETURN, D.RETURN_AS_IS})
# Scrap always needs approval, whatever the unit's value.
ALWAYS_APPROVED = frozenset({D.SCRAP})


def _role(author: Author | None) -> str | None:
    return getattr(author, "role", None) if author is not None else None


def disposition_kind(value: str) -> Disposition:
    """`value` as a Disposition; an unknown one is a 422 naming the field kind and the kinds allowed."""
    try:
        return Disposition(value)
    except ValueError:
        raise ValidationError(_l("unknown disposition %(value)r; use one of %(allowed)s", value=value,
                                 allowed=coded(list(Disposition), DISPOSITION_LABELS)),
                              details={"field": "kind"}) from None


def _money(value: Any) -> Decimal:
    """A unit's value as money: a number from 0 up to the column's limit, two decimals; else 422 naming value."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount > VALUE_MAX:
        raise ValidationError(_l("value must be an amount from 0 to %(limit)s, not %(value)r", limit=VALUE_MAX,
                                 value=str(value)), details={"field": "value"})
    return amount.quantize(Decimal("0.01"))


def _notes(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if len(text) > NOTES_MAX:
        raise ValidationError(_l("%(field)s has at most %(limit)s characters, not %(count)s", field=field,
                                 limit=NOTES_MAX, count=len(text)), details={"field": field})
    if "\x00" in text:
        raise ValidationError(_l("%(what)s must not contain NUL characters", what=field), details={"field": field})
    return text


def needs_approval(kind: Disposition, value: Decimal | None, *, price: Decimal | None,
                   approval_value: Decimal | int) -> bool:
    """True when quality must approve: a scrap, a unit whose given value or product price is above
    `approval_value` (the proposer cannot talk a unit's worth down), or a unit of unknown worth (no value, no
    price)."""
    if kind in ALWAYS_APPROVED:
        return True
    known = [v for v in (value, price) if v is not None]
    return not known or max(known) > Decimal(approval_value)


def get_disposition(session: Session, disposition_id: int, *, lock: bool = False) -> DispositionRecord:
    """The disposition `disposition_id` (locked for update and read afresh when asked); NotFound otherwise."""
    stmt = select(DispositionRecord).where(DispositionRecord.id == disposition_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(stmt).one_or_none() if 0 < disposition_id <= MAX_INT else None
    if found is None:
        raise NotFound(_l("no disposition with id %(id)s", id=disposition_id))
    return found


def list_dispositions(session: Session, case_id: int) -> list[DispositionRecord]:
    """The dispositions of a case, oldest first; NotFound for an unknown case."""
    get_case(session, case_id)
    return list(session.scalars(select(DispositionRecord).where(DispositionRecord.case_id == case_id)
                                .order_by(DispositionRecord.id)))


def _locked(session: Session, case_id: int) -> tuple[Claim, UnitCase]:
    """The case's claim and the case, locked in the order every warranty writer takes them: claim, then case."""
    claim = get_claim(session, get_case(session, case_id).claim_id, lock=True)
    case = session.scalars(select(UnitCase).where(UnitCase.id == case_id).with_for_update()
                           .execution_options(populate_existing=True)).one()
    return claim, case


def _move_case(session: Session, claim: Claim, case: UnitCase, to: UnitCaseState, *, author: Author | None,
               reason: str) -> None:
    """Write a case's state change and its claim timeline row; the caller has checked the step."""
    before = case.state
    case.state = str(to)
    service.record_claim_event(session, claim, kind="case_state", author=author, from_state=before,
                               to_state=str(to), reason=reason)


def _ensure_not_sent_twice(session: Session, claim: Claim, case: UnitCase, kind: Disposition) -> None:
    """422 naming kind when the disposition would ship back a unit the customer already got a replacement for:
    they would keep both."""
    if kind not in SHIP_BACK:
        return
    replaced = session.scalar(select(Replacement.id).where(Replacement.claim_id == claim.id,
                                                           Replacement.returned_unit_id == case.unit_id).limit(1))
    if replaced is not None:
        raise ValidationError(
            _l("%(kind)s would send unit %(serial)s back to a customer who already got a replacement for it on claim "
               "%(claim)s; choose a disposition that keeps it", kind=coded(kind, DISPOSITION_LABELS),
               serial=case.expected_serial, claim=claim.number), details={"field": "kind"})


def propose(session: Session, *, case_id: int, kind: str, author: Author | None, value: Any = None,
            notes: str = "", approval_value: Decimal | int = DEFAULT_APPROVAL_VALUE) -> DispositionRecord:
    """Propose what happens to a tested unit: the case goes tested -> disposition_pending (409 in another state, 403
    for a role that may not); the value defaults to the product's price, and a scrap, a value or price above
    `approval_value` or a unit of unknown worth needs quality's approval. Shipping back a unit the customer already
    got a replacement for is a 422 naming kind. Flushes; the caller commits."""
    chosen = disposition_kind(kind)
    amount = None if value is None else _money(value)
    notes = _notes(notes, "notes")
    claim, case = _locked(session, case_id)
    workflow.ensure_transition(case.state, K.DISPOSITION_PENDING, role=_role(author), kind="case")
    _ensure_not_sent_twice(session, claim, case, chosen)
    price = session.scalar(select(Product.price).join(Unit, Unit.product_id == Product.id)
                           .where(Unit.id == case.unit_id))
    record = DispositionRecord(case_id=case.id, kind=str(chosen), state=DispositionState.PROPOSED,
                               value=price if amount is None else amount,
                               needs_approval=needs_approval(chosen, amount, price=price,
                                                             approval_value=approval_value),
                               notes=notes, proposed_by_id=getattr(author, "id", None))
    session.add(record)
    _move_case(session, claim, case, K.DISPOSITION_PENDING, author=author, reason=f"{chosen} proposed")
    session.flush()
    return record


def _ensure_state(record: DispositionRecord, allowed: set[DispositionState], action: str) -> None:
    if record.state not in allowed:
        raise InvalidTransition(
            _l("disposition %(id)s is %(state)s; only a proposed one can be %(action)s", id=record.id,
               state=coded(record.state, DISPOSITION_STATE_LABELS), action=action),
            details={"kind": "disposition", "state": record.state})


def decide(session: Session, *, disposition_id: int, approve: bool, reason: str = "",
           author: Author | None) -> DispositionRecord:
    """Quality approves or rejects a proposed disposition (403 for other roles, 409 when it is not proposed); a
    rejection needs a reason and sends the case back to tested for another proposal. Flushes; the caller commits."""
    reason = _notes(reason, "reason")
    if not approve and not reason:
        raise ValidationError(_l("say why the disposition is rejected"), details={"field": "reason"})
    record = get_disposition(session, disposition_id)
    claim, case = _locked(session, record.case_id)
    record = get_disposition(session, disposition_id, lock=True)
    _ensure_state(record, {DispositionState.PROPOSED}, "approved or rejected")
    role = _role(author)
    if role is not None and role not in APPROVERS:
        raise PermissionDenied(_l("the %(role)s role may not approve or reject a disposition (roles that may: "
                                  "%(roles)s)", role=role, roles=", ".join(sorted(APPROVERS))),
                               details={"role": role, "roles": sorted(APPROVERS)})
    if not approve:
        workflow.ensure_transition(case.state, K.TESTED, role=role, kind="case")
        _move_case(session, claim, case, K.TESTED, author=author, reason=f"{record.kind} rejected: {reason}")
    record.state = str(DispositionState.APPROVED if approve else DispositionState.REJECTED)
    record.decided_by_id = getattr(author, "id", None)
    record.decided_at = utcnow()
    record.decision_reason = reason
    session.flush()
    return record


def _ensure_executable(record: DispositionRecord) -> None:
    _ensure_state(record, {DispositionState.PROPOSED, DispositionState.APPROVED}, "executed")
    if record.state == DispositionState.PROPOSED and record.needs_approval:
        raise InvalidTransition(
            _l("disposition %(id)s (%(kind)s) needs quality's approval before it is executed", id=record.id,
               kind=coded(record.kind, DISPOSITION_LABELS)),
            details={"kind": "disposition", "state": record.state, "needs_approval": True})


def _ship_back(session: Session, claim: Claim, unit: Unit, *, author: Author | None, today: date) -> int:
    """Ship the claim's own unit back to the claim's customer; returns the shipment's id."""
    if claim.customer_id is None:
        raise Conflict(_l("claim %(claim)s has no customer to send the unit back to", claim=claim.number),
                       details={"claim": claim.number})
    shipment = trace_service.create_shipment(
        session, customer=session.get(Customer, claim.customer_id), shipped_on=today, serials=[unit.serial],
        reference=claim.number, attributes={"claim": claim.number, "returned_to_customer": unit.serial},
        author=author, today=today, returning=True)
    return shipment.id


def _to_bench(session: Session, unit: Unit, target: UnitStatus | None, payload: dict[str, Any], *,
              author: Author | None) -> None:
    """A tested unit still on the returns shelf (the bench did not move it) is put on the bench first, where every
    disposition starts from."""
    status = session.scalar(select(Unit.status).where(Unit.id == unit.id))
    if status == UnitStatus.RETURNED and target != UnitStatus.SCRAPPED:
        trace_service.set_unit_status(session, units=[unit.id], to=UnitStatus.IN_TEST, kind=EventKind.STATUS,
                                      author=author, payload=payload)


def execute(session: Session, *, disposition_id: int, author: Author | None, today: date) -> DispositionRecord:
    """Carry out an approved disposition (or one that needs no approval) in the caller's one transaction: the
    unit's status and its `disposed` event, a shipment back to the customer where the disposition says so, the
    case disposed. A second execution, or one of a rejected or unapproved disposition, is a 409; a role the case
    table does not allow a 403. Flushes; the caller commits."""
    record = get_disposition(session, disposition_id)
    claim, case = _locked(session, record.case_id)
    record = get_disposition(session, disposition_id, lock=True)
    _ensure_executable(record)
    workflow.ensure_transition(case.state, K.DISPOSED, role=_role(author), kind="case")
    kind = Disposition(record.kind)
    _ensure_not_sent_twice(session, claim, case, kind)
    unit = session.get(Unit, case.unit_id)
    trace_service.lock_units(session, [unit.id])
    target = UNIT_TARGETS[kind]
    payload: dict[str, Any] = {"claim": claim.number, "claim_id": claim.id, "case_id": case.id,
                               "disposition_id": record.id, "disposition": str(kind)}
    if record.notes:
        payload["notes"] = record.notes
    if kind is not D.HOLD_FOR_ANALYSIS:
        _to_bench(session, unit, target, payload, author=author)
    if target is not None:
        trace_service.set_unit_status(session, units=[unit.id], to=target, kind=EventKind.DISPOSED, author=author,
                                      payload=payload)
    else:
        if kind in SHIP_BACK:
            payload["shipment_id"] = _ship_back(session, claim, unit, author=author, today=today)
        trace_service.record_unit_events(session, kind=EventKind.DISPOSED, units=[unit.id], author=author,
                                         payload=payload)
    record.state = str(DispositionState.EXECUTED)
    record.executed_by_id = getattr(author, "id", None)
    record.executed_at = utcnow()
    _move_case(session, claim, case, K.DISPOSED, author=author, reason=f"{kind} executed")
    session.flush()
    return record


def disposition_read(session: Session, record: DispositionRecord) -> dict[str, Any]:
    """A disposition in the shape of the API's DispositionRead."""
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(
        [i for i in (record.proposed_by_id, record.decided_by_id, record.executed_by_id) if i is not None]))).all())

    def at(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": record.id, "case_id": record.case_id, "kind": record.kind, "state": record.state,
            "value": str(record.value) if record.value is not None else None,
            "needs_approval": record.needs_approval, "notes": record.notes,
            "proposed_by": names.get(record.proposed_by_id), "proposed_at": at(record.proposed_at),
            "decided_by": names.get(record.decided_by_id), "decided_at": at(record.decided_at),
            "decision_reason": record.decision_reason,
            "executed_by": names.get(record.executed_by_id), "executed_at": at(record.executed_at)}
