"""The test bench: an engineer takes a received case into test and records the test (steps judged against the
product's procedure, verdict, failure codes); the verdict moves the claim on, settled or billed. Return deadlines:
cases never sent back become not_returned and their advance-replaced claims are billed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..columns import utcnow
from ..errors import Conflict, InvalidTransition, NotFound, ValidationError
from ..i18n import _l, coded
from ..trace import service as trace_service
from ..trace.enums import EventKind, UnitStatus
from ..trace.models import Product, Unit
from ..trace.policy import MAX_INT
from ..trace.service import Author
from . import codes, procedures, service, stages, workflow
from .enums import (
    CLAIM_STATE_LABELS,
    UNIT_CASE_STATE_LABELS,
    VERDICT_LABELS,
    ClaimState,
    FailureList,
    UnitCaseState,
    Verdict,
)
from .models import Claim, ClaimEvent, TestRecord, TestStepResult, UnitCase
from .service import record_claim_event

# The failure object's keys, their lists and the test record's columns.
FAILURE_FIELDS: dict[str, tuple[FailureList, str]] = {
    "symptom": (FailureList.SYMPTOM, "symptom"),
    "mode": (FailureList.MODE, "failure_mode"),
    "cause": (FailureList.CAUSE, "root_cause"),
    "location": (FailureList.LOCATION, "location"),
    "action": (FailureList.ACTION, "action"),
}
# Verdicts that settle an advance-replaced claim at no charge; not_covered bills, no_fault_found as the policy says.
SETTLING = frozenset({Verdict.CONFIRMED_DEFECT, Verdict.TRANSPORT_DAMAGE})
# A correction may follow the case this far (see record_test for what it does to the claim's outcome).
TESTED_STATES = frozenset({UnitCaseState.TESTED, UnitCaseState.DISPOSITION_PENDING, UnitCaseState.DISPOSED})
# Claim states on the advance-replacement path, waiting on the returned unit.
_ADVANCE = (ClaimState.REPLACEMENT_SHIPPED, ClaimState.PENDING_VERIFICATION)
# Cases a return deadline applies to: the expected unit has not arrived.
AWAITED = (UnitCaseState.EXPECTED, UnitCaseState.WRONG_UNIT)
# Claims whose return deadline runs: waiting for the unit (a claim waiting for the customer, or cancelled, is not).
EXPIRING = (ClaimState.AWAITING_RETURN, *_ADVANCE)


def _role(author: Author | None) -> str | None:
    return getattr(author, "role", None) if author is not None else None


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return (user.display_name or user.username) if user is not None else "?"


def _lock_case(session: Session, case_id: int, *, active: bool = True) -> tuple[Claim, UnitCase]:
    """The case and its claim, locked in the order every writer of both takes them: claim row first, then case;
    `active`: a case of a cancelled or closed claim is a 409 naming the claim's state."""
    claim = service.get_claim(session, service.get_case(session, case_id).claim_id, lock=True)
    case = service.get_case(session, case_id, lock=True)
    if active:
        service.ensure_claim_active(claim, case)
    return claim, case


def _ensure_not_taken_by_other(session: Session, case: UnitCase, author: Author | None) -> None:
    """409 naming the engineer when another one has the case in test (admins may record on anyone's case)."""
    mine = case.engineer_id is None or case.engineer_id == getattr(author, "id", None)
    if case.state == UnitCaseState.IN_TEST and not mine and _role(author) != "admin":
        raise Conflict(_l("case %(id)s is already in test with %(engineer)s", id=case.id,
                          engineer=_name(session, case.engineer_id)),
                       details={"case_id": case.id, "engineer": _name(session, case.engineer_id)})


def _take(session: Session, claim: Claim, case: UnitCase, author: Author | None) -> None:
    """Move a locked received case into test with the author as its engineer, the unit in_test with its event."""
    workflow.ensure_transition(case.state, UnitCaseState.IN_TEST, role=_role(author), kind="case")
    before = case.state
    case.state = str(UnitCaseState.IN_TEST)
    case.engineer_id = getattr(author, "id", None)
    case.taken_at = utcnow()
    trace_service.lock_units(session, [case.unit_id])
    if session.scalar(select(Unit.status).where(Unit.id == case.unit_id)) != UnitStatus.IN_TEST:
        trace_service.set_unit_status(session, units=[case.unit_id], to=UnitStatus.IN_TEST, kind=EventKind.STATUS,
                                      author=author, payload={"claim": claim.number, "case_id": case.id})
    record_claim_event(session, claim, kind="case_state", author=author, from_state=before, to_state=case.state,
                       reason="taken into test")
    stages.take_bench_task(session, claim, author)


def take_case(session: Session, *, case_id: int, author: Author | None) -> UnitCase:
    """An engineer takes a received case into test. Taking one's own case again changes nothing; a case another
    engineer has is a 409 naming them (the claim and case rows are locked, so of two engineers at once exactly one
    wins); any other state a 409 naming it. Flushes; the caller commits."""
    claim, case = _lock_case(session, case_id)
    if case.state == UnitCaseState.IN_TEST:
        _ensure_not_taken_by_other(session, case, author)
        if case.engineer_id == getattr(author, "id", None):
            return case
    if case.state != UnitCaseState.RECEIVED:
        raise InvalidTransition(
            _l("case %(id)s of claim %(claim)s is %(state)s; only a received case can be taken into test", id=case.id,
               claim=claim.number, state=coded(case.state, UNIT_CASE_STATE_LABELS)),
            details={"kind": "case", "state": case.state, "to": str(UnitCaseState.IN_TEST)})
    _take(session, claim, case, author)
    session.flush()
    session.refresh(case)
    return case


def ensure_verdict(verdict: str) -> Verdict:
    """`verdict` as a Verdict; anything else a 422 naming the field and the verdicts."""
    try:
        return Verdict(verdict)
    except ValueError:
        raise ValidationError(_l("unknown verdict %(verdict)r; use one of %(allowed)s", verdict=verdict,
                                 allowed=coded(list(Verdict), VERDICT_LABELS)), details={"field": "verdict"}) from None


def _value(step: Mapping[str, Any], index: int) -> float:
    value = step.get("value")
    if value is None or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(_l("steps[%(i)s].value: step %(name)r is measured; give its value as a finite number",
                                 i=index, name=step.get("name")), details={"field": f"steps[{index}].value"})
    return float(value)


def judge_steps(procedure_steps: Sequence[Mapping[str, Any]] | None,
                steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The engineer's step results against the procedure, in the procedure's order, passed computed from the limits
    for a measure (low <= value <= high). Every procedure step exactly once; a step the procedure has not, a value
    for a pass/fail step, a missing `passed` or `value`: 422 naming steps[i].name or .value. No procedure: no
    steps."""
    if not procedure_steps:
        if steps:
            raise ValidationError(_l("the product has no test procedure; send no steps"), details={"field": "steps"})
        return []
    by_name = {step["name"]: (position, step) for position, step in enumerate(procedure_steps)}
    results: dict[str, dict[str, Any]] = {}
    for index, step in enumerate(steps):
        name = step.get("name")
        if name not in by_name:
            raise ValidationError(_l("steps[%(i)s].name %(name)r is not a step of the procedure; its steps: "
                                     "%(steps)s", i=index, name=name, steps=", ".join(by_name)),
                                  details={"field": f"steps[{index}].name"})
        if name in results:
            raise ValidationError(_l("steps[%(i)s].name %(name)r is given twice", i=index, name=name),
                                  details={"field": f"steps[{index}].name"})
        position, spec = by_name[name]
        low, high = spec.get("low"), spec.get("high")
        if spec["kind"] == "measure":
            value: float | None = _value(step, index)
            passed = (low is None or low <= value) and (high is None or value <= high)
        else:
            if step.get("value") is not None:
                raise ValidationError(_l("steps[%(i)s].value: step %(name)r is pass/fail and takes no value; give "
                                         "passed", i=index, name=name), details={"field": f"steps[{index}].value"})
            if not isinstance(step.get("passed"), bool):
                raise ValidationError(_l("steps[%(i)s].passed: step %(name)r is pass/fail; give passed true or "
                                         "false", i=index, name=name), details={"field": f"steps[{index}].passed"})
            value, passed = None, step["passed"]
        results[name] = {"position": position, "name": name, "kind": spec["kind"], "value": value, "low": low,
                         "high": high, "unit": spec.get("unit") or "", "passed": bool(passed)}
    missing = [name for name in by_name if name not in results]
    if missing:
        raise ValidationError(_l("steps: every step of the procedure once; missing %(steps)s",
                                 steps=", ".join(missing)), details={"field": "steps"})
    return sorted(results.values(), key=lambda r: r["position"])


def _failure_codes(session: Session, failure: Mapping[str, Any] | None) -> dict[str, str]:
    """The record's failure columns from the failure object, each an active code of its list (422 naming
    failure.<key> otherwise); empty when not given."""
    failure = failure or {}
    unknown = sorted(set(failure) - set(FAILURE_FIELDS))
    if unknown:
        raise ValidationError(_l("failure.%(key)s is not a failure-code list; use %(allowed)s", key=unknown[0],
                                 allowed=", ".join(FAILURE_FIELDS)), details={"field": f"failure.{unknown[0]}"})
    out = {}
    for key, (kind, column) in FAILURE_FIELDS.items():
        code = failure.get(key) or ""
        if code:
            codes.ensure_code(session, kind, code, field=f"failure.{key}")
        out[column] = code
    return out


@dataclass
class Tested:
    """A test's outcome: the record, its case and claim, and what the office must know (no_price)."""

    record: TestRecord
    case: UnitCase
    claim: Claim
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _bill(session: Session, claim: Claim, *, reason: str) -> list[dict[str, Any]]:
    """Move a locked pending_verification (or settled) claim to billed with the product's price; one without a price is
    billed with no amount and a no_price warning (the office fills the invoice by hand)."""
    product = session.scalar(select(Product).join(Unit, Unit.product_id == Product.id)
                             .where(Unit.id == claim.unit_id))
    claim.billed_amount = product.price
    claim.billed_at = utcnow()
    service.advance_claim(session, claim, [ClaimState.BILLED], reason=reason)
    if product.price is None:
        return [{"code": "no_price", "message": _l(
            "claim %(claim)s is billed without an amount: product %(sku)s has no price", claim=claim.number,
            sku=product.sku)}]
    return []


def _verify(session: Session, claim: Claim, verdict: Verdict, *, bill_no_fault: bool) -> list[dict[str, Any]]:
    """Move the claim on after a verdict, as the system: the advance-replacement path to settled or billed, the
    standard path in_inspection -> decided; a claim elsewhere (not yet triaged, already decided) stays."""
    reason = f"verdict {verdict}"
    if claim.state == ClaimState.REPLACEMENT_SHIPPED:
        service.advance_claim(session, claim, [ClaimState.PENDING_VERIFICATION], reason=reason)
    if claim.state == ClaimState.PENDING_VERIFICATION:
        if bills(verdict, bill_no_fault=bill_no_fault):
            return _bill(session, claim, reason=reason)
        service.advance_claim(session, claim, [ClaimState.SETTLED], reason=reason)
        return []
    if claim.state == ClaimState.AWAITING_RETURN:
        service.advance_claim(session, claim, [ClaimState.IN_INSPECTION], reason=reason)
    if claim.state == ClaimState.IN_INSPECTION:
        service.advance_claim(session, claim, [ClaimState.DECIDED], reason=reason)
    return []


def ensure_procedure_version(current: int | None, given: int | None) -> None:
    """409 naming procedure_version when the steps were typed against another version of the procedure than the
    product's current one (`given` None: not said; 0: no procedure), so no value lands on the wrong step."""
    if given is not None and given != (current or 0):
        raise Conflict(_l("the test procedure changed while the form was open: version %(given)s was filled in, the "
                          "current one is %(current)s; fill in the steps again", given=given or "—",
                          current=current or "—"),
                       details={"field": "procedure_version", "current": current or 0})


def bills(verdict: Verdict, *, bill_no_fault: bool) -> bool:
    """True when the verdict bills an advance-replaced claim: not covered, or no fault found when the policy says."""
    return verdict == Verdict.NOT_COVERED or (verdict == Verdict.NO_FAULT_FOUND and bill_no_fault)


def _outcome_changes(session: Session, claim: Claim, verdict: Verdict, *, bill_no_fault: bool) -> bool:
    """True when a corrected verdict changes whether the claim is billed: only on the advance-replacement path,
    where a verdict settled or billed it (the standard path's verdict bills nobody)."""
    if bills(verdict, bill_no_fault=bill_no_fault) == (claim.billed_at is not None):
        return False
    if claim.state in (ClaimState.SETTLED, ClaimState.BILLED):
        return True
    return session.scalar(select(ClaimEvent.id).where(
        ClaimEvent.claim_id == claim.id, ClaimEvent.to_state.in_([str(ClaimState.SETTLED), str(ClaimState.BILLED)]))
        .limit(1)) is not None


def _ensure_outcome_may_change(session: Session, claim: Claim, verdict: Verdict, *, bill_no_fault: bool) -> None:
    """409 when the correction would change whether the customer is billed but the claim has moved past settled or
    billed (resolved, closed, reopened): its outcome is history until the claim is back there."""
    if _outcome_changes(session, claim, verdict, bill_no_fault=bill_no_fault) and claim.state not in (
            ClaimState.SETTLED, ClaimState.BILLED):
        raise Conflict(
            _l("claim %(claim)s is %(state)s; a correction to %(verdict)s would change whether the customer is "
               "billed, which is only done while the claim is settled or billed: reopen the claim first",
               claim=claim.number, state=coded(claim.state, CLAIM_STATE_LABELS),
               verdict=coded(verdict, VERDICT_LABELS)),
            details={"field": "verdict", "claim_state": claim.state})


def _correct_outcome(session: Session, claim: Claim, verdict: Verdict, *,
                     bill_no_fault: bool) -> list[dict[str, Any]]:
    """After a correction, as the system: a settled claim the new verdict bills is billed; a billed one it does not
    bill goes back to settled, its bill withdrawn (amount and date cleared, so the billed export drops it)."""
    if not _outcome_changes(session, claim, verdict, bill_no_fault=bill_no_fault):
        return []
    if claim.state == ClaimState.SETTLED:
        return _bill(session, claim, reason=f"verdict corrected to {verdict}")
    claim.billed_amount = None
    claim.billed_at = None
    service.advance_claim(session, claim, [ClaimState.SETTLED], reason="billing withdrawn: verdict corrected")
    return []


def _superseded(session: Session, case: UnitCase, supersedes: int) -> TestRecord:
    """The record a correction replaces: a record of this case not yet corrected; 422 or 409 otherwise."""
    old = session.get(TestRecord, supersedes) if 0 < supersedes <= MAX_INT else None
    if old is None or old.case_id != case.id:
        raise ValidationError(_l("supersedes: record %(record)s is not a test record of case %(case)s",
                                 record=supersedes, case=case.id), details={"field": "supersedes"})
    newer = session.scalar(select(TestRecord.id).where(TestRecord.supersedes_id == old.id))
    if newer is not None:
        raise Conflict(_l("record %(record)s was already corrected by record %(newer)s; correct that one",
                          record=old.id, newer=newer), details={"field": "supersedes", "record": newer})
    return old


def record_test(session: Session, *, case_id: int, verdict: str, steps: Sequence[Mapping[str, Any]] = (),
                failure: Mapping[str, Any] | None = None, notes: str = "", author: Author | None,
                supersedes: int | None = None, bill_no_fault: bool = True,
                procedure_version: int | None = None) -> Tested:
    """Record the test of a case: accepted for a received case (taken into test by the same action) or one in test
    by the author; steps judged against the product's current procedure, failure codes from the active lists. Writes
    the record with its step rows, the case tested with the verdict, the unit's tested event and a claim timeline
    row, then moves the claim on (settled, billed at the product's price, or decided; `bill_no_fault` bills a no
    fault found). `procedure_version`, when given, is the version the steps were typed against (0: none); another
    current version is a 409. A correction (`supersedes`: a record of this case, once tested) writes a new record
    replacing that one's verdict on the case; when the new verdict changes whether an advance-replaced claim is
    billed, a settled claim is billed and a billed one's bill withdrawn (see _correct_outcome). Any refusal changes
    nothing. Flushes; the caller commits."""
    target = ensure_verdict(verdict)
    claim, case = _lock_case(session, case_id)
    old = None
    if supersedes is not None:
        if case.state not in TESTED_STATES:
            raise InvalidTransition(
                _l("case %(id)s is %(state)s; only a tested case's record can be corrected", id=case.id,
                   state=coded(case.state, UNIT_CASE_STATE_LABELS)),
                details={"kind": "case", "state": case.state, "field": "supersedes"})
        old = _superseded(session, case, supersedes)
        workflow.ensure_transition(UnitCaseState.IN_TEST, UnitCaseState.TESTED, role=_role(author), kind="case")
    elif case.state not in (UnitCaseState.RECEIVED, UnitCaseState.IN_TEST):
        raise ValidationError(
            _l("case %(id)s of claim %(claim)s is %(state)s; a test is recorded for a received or in-test case",
               id=case.id, claim=claim.number, state=coded(case.state, UNIT_CASE_STATE_LABELS)),
            details={"field": "case", "state": case.state})
    else:
        _ensure_not_taken_by_other(session, case, author)
        workflow.ensure_transition(UnitCaseState.IN_TEST, UnitCaseState.TESTED, role=_role(author), kind="case")
    product_id = session.scalar(select(Unit.product_id).where(Unit.id == case.unit_id))
    procedure = procedures.current_procedure(session, product_id)
    ensure_procedure_version(procedure.version if procedure else None, procedure_version)
    results = judge_steps(procedure.steps if procedure else None, list(steps))
    columns = _failure_codes(session, failure)
    if old is not None:
        _ensure_outcome_may_change(session, claim, target, bill_no_fault=bill_no_fault)
    if old is None and case.state == UnitCaseState.RECEIVED:
        _take(session, claim, case, author)
    record = TestRecord(unit_id=case.unit_id, claim_id=claim.id, case_id=case.id,
                        procedure_id=procedure.id if procedure else None, verdict=str(target), notes=notes or "",
                        supersedes_id=old.id if old else None, engineer_id=getattr(author, "id", None), **columns)
    session.add(record)
    session.flush()
    for result in results:
        session.add(TestStepResult(record_id=record.id, **result))
    case.verdict = str(target)
    payload = {"claim": claim.number, "case_id": case.id, "record_id": record.id, "verdict": str(target)}
    trace_service.record_unit_events(session, kind=EventKind.TESTED, units=[case.unit_id], author=author,
                                     payload=payload | ({"supersedes": old.id} if old else {}))
    warnings: list[dict[str, Any]] = []
    if old is None:
        before = case.state
        case.state = str(UnitCaseState.TESTED)
        record_claim_event(session, claim, kind="test", author=author, from_state=before, to_state=case.state,
                           reason=f"{target}: {notes}" if notes else str(target))
        warnings = _verify(session, claim, target, bill_no_fault=bill_no_fault)
    else:
        record_claim_event(session, claim, kind="test", author=author,
                           reason=f"record {old.id} corrected: {old.verdict} -> {target}")
        warnings = _correct_outcome(session, claim, target, bill_no_fault=bill_no_fault)
    session.flush()
    session.refresh(case)
    session.refresh(claim)
    return Tested(record, case, claim, warnings)


@dataclass
class Expired:
    """A case whose return deadline passed: the case, now not_returned, its claim and the warnings."""

    case: UnitCase
    claim: Claim
    warnings: list[dict[str, Any]] = field(default_factory=list)


def expire_returns(session: Session, *, today: date, author: Author | None = None,
                   business_day: date | None = None) -> list[Expired]:
    """Every case still expected (or wrong_unit) whose return_due is before `today` and whose claim waits for it
    (EXPIRING) becomes not_returned; its claim, when on the advance-replacement path, is billed at the product's
    price with timeline rows saying why. Each case is re-read under its claim's lock and skipped when another run
    (or a receiving scan) got there first, so running it twice, even at once, moves each case once. `today` after
    `business_day` (the business's today, when given) is a 422: a day ahead would bill customers whose time has not
    run out. Flushes; the caller commits."""
    if business_day is not None and today > business_day:
        raise ValidationError(_l("today %(day)s is after today (%(today)s): a later day would bill customers whose "
                                 "time to send the unit in has not run out", day=today.isoformat(),
                                 today=business_day.isoformat()), details={"field": "today"})
    # The role is checked before any case moves: a refused run changes nothing.
    workflow.ensure_transition(UnitCaseState.EXPECTED, UnitCaseState.NOT_RETURNED, role=_role(author), kind="case")
    due = session.scalars(select(UnitCase.id).join(Claim, Claim.id == UnitCase.claim_id)
                          .where(UnitCase.state.in_([str(s) for s in AWAITED]), UnitCase.return_due < today,
                                 Claim.state.in_([str(s) for s in EXPIRING]))
                          .order_by(UnitCase.claim_id, UnitCase.id)).all()
    moved = []
    for case_id in due:
        try:
            claim, case = _lock_case(session, case_id, active=False)
        except NotFound:
            continue
        if (case.state not in AWAITED or case.return_due is None or case.return_due >= today
                or claim.state not in EXPIRING):
            continue
        workflow.ensure_transition(case.state, UnitCaseState.NOT_RETURNED, role=_role(author), kind="case")
        before = case.state
        case.state = str(UnitCaseState.NOT_RETURNED)
        reason = f"{case.expected_serial} not returned by {case.return_due.isoformat()}"
        record_claim_event(session, claim, kind="case_state", author=author, from_state=before, to_state=case.state,
                           reason=reason)
        warnings: list[dict[str, Any]] = []
        if claim.state in _ADVANCE:
            if claim.state == ClaimState.REPLACEMENT_SHIPPED:
                service.advance_claim(session, claim, [ClaimState.PENDING_VERIFICATION], reason=reason)
            warnings = _bill(session, claim, reason=reason)
        moved.append(Expired(case, claim, warnings))
    session.flush()
    return moved
