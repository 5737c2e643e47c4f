"""Claims at the desk: registering a complaint with its warnings, moving a claim through its state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..columns import utcnow
from ..errors import Conflict, InvalidTransition, NotFound, ValidationError
from ..i18n import Message, _l, coded
from ..trace import queries as trace_queries
from ..trace import service as trace_service
from ..trace import workflow as trace_workflow
from ..trace.dossier import trace_dossier
from ..trace.enums import BatchStatus, EventKind, UnitStatus
from ..trace.models import Batch, Customer, Product, SerialCounter, Unit
from ..trace.policy import MAX_INT
from ..trace.service import Author, allocate_counter, author_fields
from . import codes, policy, registration, sla, stages, surveys, workflow
from .dossier import unit_warranty
from .enums import CLAIM_STATE_LABELS, UNIT_CASE_STATE_LABELS, ClaimState, FailureList, UnitCaseState
from .models import Claim, ClaimEvent, Replacement, UnitCase

CHANNELS = ("desk", "phone", "email", "web")
CLAIM_COUNTER = "claim"
# Days the customer has to send the unit in, unless the settings say otherwise (warranty_return_days).
RETURN_DAYS = 14
# Claims in these states are over; any other claim on the unit is still open.
CLOSED_STATES = frozenset({ClaimState.RESOLVED, ClaimState.CLOSED, ClaimState.CANCELLED})
# Claims in these states wait for the returned unit: entering one starts its return deadline.
AWAITING_STATES = frozenset({ClaimState.AWAITING_RETURN, ClaimState.REPLACEMENT_SHIPPED})
# Where receiving the awaited unit takes a claim waiting for it.
RECEIVED_STEPS = {ClaimState.AWAITING_RETURN: ClaimState.IN_INSPECTION,
                  ClaimState.REPLACEMENT_SHIPPED: ClaimState.PENDING_VERIFICATION}
# Cases whose unit has not come back yet.
AWAITED_CASES = frozenset({UnitCaseState.EXPECTED, UnitCaseState.WRONG_UNIT})


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


def _desk_dossier(session: Session, unit: Unit, *, today: date) -> dict[str, Any]:
    """The trace dossier the desk's warnings read, its warranty the one the unit dossier shows (a replacement's may
    continue the warranty of the unit it replaced)."""
    dossier = trace_dossier(session, unit, today=today)
    dossier["warranty"] = unit_warranty(session, unit, dossier["warranty"], today=today)
    return dossier


def claim_warnings(session: Session, *, serial: str, today: date) -> list[dict[str, Any]]:
    """The warnings registering a complaint about `serial` would give now, for the desk to see before it registers."""
    unit = trace_queries.get_unit(session, serial)
    return _warnings(session, _desk_dossier(session, unit, today=today), unit.id)


def record_claim_event(session: Session, claim: Claim, *, kind: str, author: Author | None, reason: str = "",
                       from_state: str | None = None, to_state: str | None = None) -> None:
    """Append a row to the claim's timeline: a state change, a case's step, a test, with its author (None: system).
    A state change also moves the claim's stage tasks and SLA clocks along (warranty.stages)."""
    session.add(ClaimEvent(claim_id=claim.id, kind=kind, from_state=from_state, to_state=to_state, reason=reason,
                           **author_fields(author)))
    if kind == "state_change" and to_state is not None:
        if from_state is None:
            stages.on_registered(session, claim)
        else:
            stages.on_state_change(session, claim, from_state, to_state)
            if to_state == ClaimState.CLOSED:
                surveys.open_survey(session, claim)  # the customer is asked once the claim is closed


def register_claim(session: Session, *, serial: str, symptom: str, author: Author | None, description: str = "",
                   channel: str = "desk", customer_id: int | None = None, today: date,
                   draft: bool = False, confirm_own_customer: bool = False, impact: int = 2,
                   urgency: int = 2, statutory_days: int = policy.STATUTORY_DAYS) -> Registered:
    """Register a complaint about `serial`: a claim in registered (in draft when `draft`, a complaint still being
    written down) with one expected unit case (no return deadline yet: it starts when the claim waits for the unit)
    and its first timeline row, plus the warnings (never silent). The symptom is a code of the active symptom list.
    The customer's own account manager gets 409 own_customer unless `confirm_own_customer` (then it is logged).
    Impact and urgency (1 high to 3 low) give the priority; `statutory_days` (0: none) the legal deadline, in
    calendar days from registration. Flushes; the caller commits."""
    known = codes.find_code(session, FailureList.SYMPTOM, symptom)
    if known is None or not known.active:
        raise ValidationError(_l("unknown symptom %(symptom)r; use one of %(allowed)s", symptom=symptom,
                                 allowed=codes.allowed_codes(session, FailureList.SYMPTOM)),
                              details={"field": "symptom"})
    if channel not in CHANNELS:
        raise ValidationError(_l("unknown channel %(channel)r; use one of %(allowed)s", channel=channel,
                                 allowed=", ".join(CHANNELS)), details={"field": "channel"})
    unit = trace_queries.get_unit(session, serial)
    dossier = _desk_dossier(session, unit, today=today)
    if customer_id is not None:
        if session.get(Customer, customer_id) is None:
            raise NotFound(_l("no customer with id %(id)s", id=customer_id), details={"field": "customer_id"})
    elif dossier["customer"] is not None:
        customer_id = dossier["customer"]["id"]
    warnings = _warnings(session, dossier, unit.id)
    own = registration.own_customer(session, customer_id=customer_id, author=author, confirmed=confirm_own_customer)
    first = ClaimState.DRAFT if draft else ClaimState.REGISTERED
    priority = sla.priority(impact, urgency)  # checks both, naming the field
    claim = Claim(number=next_claim_number(session), unit_id=unit.id, customer_id=customer_id,
                  state=str(first), symptom=symptom, description=description, channel=channel,
                  author_id=getattr(author, "id", None), impact=impact, urgency=urgency, priority=str(priority),
                  opened_at=utcnow())
    if statutory_days:
        # A draft's deadline moves on when it is registered (stages.on_state_change).
        claim.statutory_due_at = claim.opened_at + timedelta(days=statutory_days)
    session.add(claim)
    session.flush()
    session.add(UnitCase(claim_id=claim.id, unit_id=unit.id, state=UnitCaseState.EXPECTED, expected_serial=unit.serial))
    record_claim_event(session, claim, kind="state_change", author=author, to_state=str(first), reason=description)
    if own:
        registration.record_confirmation(session, claim, author=author)
    session.flush()
    return Registered(claim, warnings)


def get_claim(session: Session, claim_id: int, *, lock: bool = False) -> Claim:
    """The claim `claim_id` (locked for update when asked); NotFound otherwise."""
    stmt = select(Claim).where(Claim.id == claim_id)
    # Ids past the 32-bit column cannot exist; PostgreSQL would refuse the comparison's parameter otherwise.
    in_range = 0 < claim_id <= MAX_INT
    # A locked read refreshes an object the session already holds: what another writer committed before the lock
    # was granted must be seen, not the copy read earlier.
    stmt = stmt.with_for_update().execution_options(populate_existing=True) if lock else stmt
    claim = session.scalars(stmt).one_or_none() if in_range else None
    if claim is None:
        raise NotFound(_l("no claim with id %(id)s", id=claim_id))
    return claim


def ensure_claim_active(claim: Claim, case: UnitCase) -> None:
    """409 naming the claim's state when it is cancelled or closed: its case takes no more work (a closed claim is
    reopened first)."""
    if claim.state in workflow.INACTIVE_CLAIM_STATES:
        raise InvalidTransition(
            _l("claim %(claim)s is %(state)s; its case %(id)s takes no more receiving, testing or deadlines",
               claim=claim.number, state=coded(claim.state, CLAIM_STATE_LABELS), id=case.id),
            details={"kind": "case", "state": case.state, "claim_state": claim.state})


def await_unit(session: Session, claim: Claim, *, today: date, return_days: int, author: Author | None) -> UnitCase:
    """The case of a locked claim's unit as the claim starts waiting for it: an awaited case gets its return
    deadline (`return_days` after `today`); one whose unit is already here stays as it is; when the latest case is
    over (not returned, disposed) a new expected case is opened, with a timeline row, if the unit is out with the
    customer, else 409 naming where the unit is. Flushes."""
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id, UnitCase.unit_id == claim.unit_id)
                           .order_by(UnitCase.id.desc()).limit(1)).first()
    due = today + timedelta(days=return_days)
    if case is not None and case.state not in workflow.CASE_FINAL:
        if case.state in AWAITED_CASES:
            case.return_due = due
        return case
    unit = session.get(Unit, claim.unit_id)
    if unit.status != UnitStatus.SHIPPED:
        raise Conflict(_l("unit %(serial)s of claim %(claim)s is %(status)s, not with the customer, so it cannot be "
                          "sent in again; register a claim for the unit the customer has", serial=unit.serial,
                          claim=claim.number, status=unit.status),
                       details={"serial": unit.serial, "status": unit.status})
    case = UnitCase(claim_id=claim.id, unit_id=unit.id, state=str(UnitCaseState.EXPECTED), expected_serial=unit.serial,
                    return_due=due)
    session.add(case)
    session.flush()
    record_claim_event(session, claim, kind="case_state", author=author, to_state=case.state,
                       reason=f"{unit.serial} expected back by {due.isoformat()}")
    return case


def transition_claim(session: Session, *, claim_id: int, to: str, reason: str = "", author: Author | None,
                     today: date | None = None, return_days: int = RETURN_DAYS,
                     confirm_own_customer: bool = False) -> Claim:
    """Move a claim to `to` when its state and the author's role allow it (else 409 / 403, nothing changed), with a
    timeline row; a claim that starts waiting for its unit (awaiting_return) gives it `return_days` from `today`
    (default: the date of utcnow) to come back, a new expected case when the last one is over. Registering a draft
    makes the author its registrar, with the own-customer check of register_claim. Flushes; the caller commits."""
    claim = get_claim(session, claim_id, lock=True)
    role = getattr(author, "role", None) if author is not None else None
    workflow.ensure_transition(claim.state, to, role=role, kind="claim")
    target = workflow.state_of(to, "claim")
    registering = claim.state == ClaimState.DRAFT and target == ClaimState.REGISTERED
    own = registering and registration.check_registrar(session, claim, author=author, confirmed=confirm_own_customer)
    if target in AWAITING_STATES:
        await_unit(session, claim, today=today or utcnow().date(), return_days=return_days, author=author)
    before = claim.state
    claim.state = str(target)
    if target in (ClaimState.CLOSED, ClaimState.CANCELLED):
        claim.closed_at = utcnow()
    elif before in (ClaimState.RESOLVED, ClaimState.CLOSED):
        claim.closed_at = None  # reopened
    record_claim_event(session, claim, kind="state_change", author=author, from_state=before, to_state=str(target),
                       reason=reason)
    if registering:
        registration.record_registrar(session, claim, author=author, confirmed=own)
    session.flush()
    session.refresh(claim)
    return claim


def _move_claim(session: Session, claim: Claim, to: ClaimState, *, author: Author | None, reason: str) -> None:
    """Write a claim's state change and its timeline row; the caller has checked the step."""
    before = claim.state
    claim.state = str(to)
    record_claim_event(session, claim, kind="state_change", author=author, from_state=before, to_state=str(to),
                       reason=reason)


def advance_claim(session: Session, claim: Claim, path: list[ClaimState], *, reason: str) -> None:
    """Move a locked claim along `path` as the system (deadlines, verdicts): each step checked against the table,
    each with its timeline row."""
    for step in path:
        workflow.ensure_transition(claim.state, step, role=None, kind="claim")
        _move_claim(session, claim, step, author=None, reason=reason)


def _open_replacement(session: Session, *, column: Any, unit_id: int, claim_id: int) -> Any:
    """A replacement link on another claim still open in which the unit plays the part `column` names, or None."""
    return session.execute(
        select(Claim.number, Replacement.returned_unit_id, Replacement.replacement_unit_id)
        .join(Claim, Claim.id == Replacement.claim_id)
        .where(column == unit_id, Replacement.claim_id != claim_id,
               Claim.state.not_in([str(s) for s in CLOSED_STATES])).limit(1)).first()


def _serial(session: Session, unit_id: int) -> str:
    return session.scalar(select(Unit.serial).where(Unit.id == unit_id))


def _ensure_replacement_may_go(session: Session, claim: Claim, returned: Unit, replacement: Unit) -> None:
    """The checks of an instant replacement, read under the row locks: 422 or 409 naming what forbids it."""
    if replacement.id == returned.id:
        raise ValidationError(_l("unit %(serial)s is the returned unit; scan a replacement from stock",
                                 serial=replacement.serial), details={"field": "replacement_serial"})
    if replacement.product_id != returned.product_id and not trace_queries.is_substitute(
            session, product_id=returned.product_id, substitute_id=replacement.product_id):
        skus = dict(session.execute(select(Product.id, Product.sku)
                                    .where(Product.id.in_([replacement.product_id, returned.product_id]))).all())
        raise ValidationError(_l("unit %(serial)s is a %(sku)s, the returned unit %(returned)s a %(returned_sku)s; "
                                 "a replacement must be the same product or a substitute it allows",
                                 serial=replacement.serial,
                                 sku=skus[replacement.product_id], returned=returned.serial,
                                 returned_sku=skus[returned.product_id]),
                              details={"field": "replacement_serial"})
    taken = _open_replacement(session, column=Replacement.returned_unit_id, unit_id=returned.id, claim_id=claim.id)
    if taken is not None:
        raise Conflict(_l("unit %(serial)s was already replaced by %(replacement)s on claim %(claim)s",
                          serial=returned.serial, replacement=_serial(session, taken.replacement_unit_id),
                          claim=taken.number), details={"serial": returned.serial, "claim": taken.number})
    taken = _open_replacement(session, column=Replacement.replacement_unit_id, unit_id=replacement.id,
                              claim_id=claim.id)
    if taken is not None:
        raise Conflict(_l("unit %(serial)s is already the replacement for %(returned)s on claim %(claim)s",
                          serial=replacement.serial, returned=_serial(session, taken.returned_unit_id),
                          claim=taken.number), details={"serial": replacement.serial, "claim": taken.number})
    # Read again under the lock, not from the loaded object: another desk may have shipped it since.
    row = session.execute(select(Unit.status, Batch.status.label("batch_status"))
                          .join(Batch, Batch.id == Unit.batch_id).where(Unit.id == replacement.id)).one()
    trace_workflow.ensure_shippable(replacement.serial, row.status, row.batch_status)


def replace_unit(session: Session, *, claim_id: int, replacement_serial: str, author: Author | None,
                 on_desk: bool = False, today: date, return_days: int = RETURN_DAYS) -> Claim:
    """Hand out a replacement on the spot, in the caller's one transaction: the replacement (shippable stock of the
    returned unit's product or a substitute it allows) ships to the claim's customer, both units are linked, and the
    claim moves triage -> replacement_shipped. The returned unit's case (a new one when the last is over, see
    await_unit) becomes received when it is on the desk and the claim goes on to pending_verification; else it stays
    expected, due back within `return_days` of `today`. A case already received stays as it is.

    A claim still in registered is taken to triage first as a system step (the desk may not triage, but handing
    out a replacement is triage's outcome); any other state than triage is a 409 naming it. Two desks at once:
    the claim row and both unit rows are locked, so the second sees the first's work and gets a 409. Flushes; the
    caller commits."""
    serial = (replacement_serial or "").strip()
    if not serial:
        raise ValidationError(_l("scan the replacement's serial"), details={"field": "replacement_serial"})
    claim = get_claim(session, claim_id, lock=True)
    role = getattr(author, "role", None) if author is not None else None
    path = [ClaimState.TRIAGE] if claim.state == ClaimState.REGISTERED else []
    # A system step: the replacement takes it, for the roles that may hand one out.
    workflow.ensure_transition(ClaimState.TRIAGE if path else claim.state, ClaimState.REPLACEMENT_SHIPPED,
                               kind="claim")
    workflow.ensure_replace_role(role)
    if claim.customer_id is None:
        raise Conflict(_l("claim %(claim)s has no customer to ship a replacement to", claim=claim.number),
                       details={"claim": claim.number})
    replacement = trace_queries.get_scanned_unit(session, serial)
    returned = session.get(Unit, claim.unit_id)
    # Both units in the one id order every writer of several units uses, after the claim row.
    trace_service.lock_units(session, [returned.id, replacement.id])
    _ensure_replacement_may_go(session, claim, returned, replacement)
    case = await_unit(session, claim, today=today, return_days=return_days, author=author)
    # A case already received (or further on) is here: "on desk" again changes nothing.
    receive = on_desk and case.state in AWAITED_CASES
    shipment = trace_service.create_shipment(
        session, customer=session.get(Customer, claim.customer_id), shipped_on=today, serials=[replacement.serial],
        reference=claim.number, attributes={"claim": claim.number, "replacement_for": returned.serial},
        author=author, today=today)
    session.add(Replacement(claim_id=claim.id, returned_unit_id=returned.id, replacement_unit_id=replacement.id,
                            shipment_id=shipment.id, author_id=getattr(author, "id", None)))
    payload = {"claim": claim.number, "claim_id": claim.id, "shipment_id": shipment.id}
    trace_service.record_unit_events(session, kind=EventKind.REPLACED, units=[returned.id], author=author,
                                     payload={**payload, "replacement_serial": replacement.serial})
    if receive:
        case.state = str(UnitCaseState.RECEIVED)
        case.received_at = utcnow()
        # The customer hands the unit over at the desk: it is back with us, as the receiving scan would record.
        if session.scalar(select(Unit.status).where(Unit.id == returned.id)) == UnitStatus.SHIPPED:
            trace_service.set_unit_status(session, units=[returned.id], to=UnitStatus.RETURNED,
                                          kind=EventKind.RETURNED, author=author, payload=payload)
    for step in path:
        _move_claim(session, claim, step, author=author, reason="advance replacement")
    _move_claim(session, claim, ClaimState.REPLACEMENT_SHIPPED, author=author,
                reason=f"{returned.serial} replaced by {replacement.serial}")
    if case.state not in AWAITED_CASES:
        advance_claim(session, claim, [ClaimState.PENDING_VERIFICATION], reason=f"{returned.serial} received")
    session.flush()
    session.refresh(claim)
    return claim


@dataclass
class Received:
    """A receiving scan's outcome: the case, and for a wrong unit the sentence saying so."""

    case: UnitCase
    message: Message | None = None


def get_case(session: Session, case_id: int, *, lock: bool = False) -> UnitCase:
    """The unit case `case_id` (locked for update when asked); NotFound otherwise."""
    stmt = select(UnitCase).where(UnitCase.id == case_id)
    in_range = 0 < case_id <= MAX_INT
    stmt = stmt.with_for_update().execution_options(populate_existing=True) if lock else stmt
    case = session.scalars(stmt).one_or_none() if in_range else None
    if case is None:
        raise NotFound(_l("no unit case with id %(id)s", id=case_id))
    return case


def receive_case(session: Session, *, case_id: int, serial: str, author: Author | None) -> Received:
    """The receiving scan of a returned unit: the expected serial makes the case received and the unit returned
    (with its event) and moves a claim waiting for it on (RECEIVED_STEPS); another serial makes the case wrong_unit
    and says so, nothing else changed. A case whose state does not allow it, or whose claim is cancelled or closed,
    is a 409 naming the state, a role that may not receive a 403. Flushes; the caller commits."""
    scanned = trace_queries.read_scan(serial)[0]
    if not scanned:
        raise ValidationError(_l("scan the returned unit's serial"), details={"field": "serial"})
    # The claim row first, then the case, then the unit: the order replace_unit takes them in.
    claim = get_claim(session, get_case(session, case_id).claim_id, lock=True)
    case = get_case(session, case_id, lock=True)
    role = getattr(author, "role", None) if author is not None else None
    ensure_claim_active(claim, case)
    if case.state not in (UnitCaseState.EXPECTED, UnitCaseState.WRONG_UNIT):
        raise InvalidTransition(
            _l("case %(id)s of claim %(claim)s is %(state)s; only an expected case can be received", id=case.id,
               claim=claim.number, state=coded(case.state, UNIT_CASE_STATE_LABELS)),
            details={"kind": "case", "state": case.state, "to": str(UnitCaseState.RECEIVED)})
    # Units, not strings: a GS1 label or Digital Link names the expected unit as well as its bare serial does.
    right = case.unit_id in {u.id for u in trace_queries.list_scanned_units(session, serial)}
    # A second wrong unit leaves the case wrong_unit: the same role check, no new state.
    again = not right and case.state == UnitCaseState.WRONG_UNIT
    target = UnitCaseState.RECEIVED if right or again else UnitCaseState.WRONG_UNIT
    workflow.ensure_transition(case.state, target, role=role, kind="case")
    before = case.state
    message = None
    if not again:
        case.state = str(target)
    if right:
        case.received_at = utcnow()
        trace_service.lock_units(session, [case.unit_id])
        # A unit still out with the customer is back with us; one the desk already took in keeps its status.
        if session.scalar(select(Unit.status).where(Unit.id == case.unit_id)) == UnitStatus.SHIPPED:
            trace_service.set_unit_status(session, units=[case.unit_id], to=UnitStatus.RETURNED,
                                          kind=EventKind.RETURNED, author=author,
                                          payload={"claim": claim.number, "claim_id": claim.id, "case_id": case.id})
        reason = f"{scanned} received"
    else:
        message = _l("unit %(scanned)s is not the expected unit %(expected)s of claim %(claim)s; the case is marked "
                     "wrong unit", scanned=scanned, expected=case.expected_serial, claim=claim.number)
        reason = f"{scanned} scanned, {case.expected_serial} expected"
    if not again:
        record_claim_event(session, claim, kind="case_state", author=author, from_state=before, to_state=case.state,
                           reason=reason)
    if right and claim.state in RECEIVED_STEPS:
        # The unit the claim waited for is here: inspection (or the replaced unit's verification) starts, a step of
        # the system, not of the receiver.
        advance_claim(session, claim, [RECEIVED_STEPS[ClaimState(claim.state)]], reason=reason)
    session.flush()
    session.refresh(case)
    return Received(case, message)
