"""Reads of the warranty domain: a unit's claims, tests and replacement links (prebuilt, as in trace.dossier), and
one claim with its cases and timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, select
from sqlalchemy.orm import Session, aliased

from ..accounts.models import User
from ..columns import utcnow
from ..trace import queries as trace_queries
from ..trace.models import Customer, Product, Unit
from . import procedures, stages, surveys, timeline, workflow
from .enums import UnitCaseState
from .models import Claim, Replacement, StageTask, Team, TestProcedure, TestRecord, TestStepResult, UnitCase

_RETURNED, _HANDED = aliased(Unit), aliased(Unit)
_TEST_CLAIM, _REPLACEMENT_CLAIM = aliased(Claim), aliased(Claim)

_CLAIMS = (
    select(Claim.id, Claim.number, Claim.state, Claim.symptom, Claim.description, Claim.priority, Claim.opened_at,
           Claim.closed_at)
    .where(Claim.unit_id == bindparam("unit_id")).order_by(Claim.opened_at.desc())
)

_TESTS = (
    select(TestRecord.id, TestRecord.claim_id, TestRecord.verdict, TestRecord.failure_mode, TestRecord.root_cause,
           TestRecord.notes, TestRecord.tested_at, _TEST_CLAIM.number.label("claim_number"),
           User.username, User.display_name)
    .outerjoin(_TEST_CLAIM, _TEST_CLAIM.id == TestRecord.claim_id)
    .outerjoin(User, User.id == TestRecord.engineer_id)
    .where(TestRecord.unit_id == bindparam("unit_id")).order_by(TestRecord.tested_at.desc())
)

_REPLACEMENTS = (
    select(Replacement.claim_id, Replacement.returned_unit_id, Replacement.created_at,
           _RETURNED.serial.label("returned_serial"), _HANDED.serial.label("replacement_serial"),
           _REPLACEMENT_CLAIM.number.label("claim_number"))
    .join(_RETURNED, _RETURNED.id == Replacement.returned_unit_id)
    .join(_HANDED, _HANDED.id == Replacement.replacement_unit_id)
    .outerjoin(_REPLACEMENT_CLAIM, _REPLACEMENT_CLAIM.id == Replacement.claim_id)
    .where(or_(Replacement.returned_unit_id == bindparam("unit_id"),
               Replacement.replacement_unit_id == bindparam("unit_id")))
)


def unit_claims(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Claims against a unit, newest first."""
    rows = session.connection().execute(_CLAIMS, {"unit_id": unit_id})
    return [{"id": c.id, "number": c.number, "state": c.state, "symptom": c.symptom, "description": c.description,
             "priority": c.priority, "opened_at": c.opened_at.isoformat(),
             "closed_at": c.closed_at.isoformat() if c.closed_at else None} for c in rows]


def unit_tests(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Test records of a unit, newest first."""
    rows = session.connection().execute(_TESTS, {"unit_id": unit_id})
    return [{"id": t.id, "claim_id": t.claim_id, "claim_number": t.claim_number, "verdict": t.verdict,
             "failure_mode": t.failure_mode, "root_cause": t.root_cause, "notes": t.notes,
             "tested_at": t.tested_at.isoformat(), "engineer": t.display_name or t.username} for t in rows]


def unit_replacements(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Replacement links in which the unit was returned or handed out."""
    rows = session.connection().execute(_REPLACEMENTS, {"unit_id": unit_id})
    return [{"claim_id": r.claim_id, "claim_number": r.claim_number, "returned_serial": r.returned_serial,
             "replacement_serial": r.replacement_serial,
             "role": "returned" if r.returned_unit_id == unit_id else "replacement",
             "created_at": r.created_at.isoformat()} for r in rows]


def find_claim(session: Session, number: str) -> Claim | None:
    """The claim with this number, or None."""
    return session.scalars(select(Claim).where(Claim.number == number)).first()


def list_claim_serials(session: Session, claim: Claim) -> set[str]:
    """Serials that belong to a claim: the claimed unit and any unit handed out in its place."""
    replaced_by = select(Replacement.replacement_unit_id).where(
        or_(Replacement.claim_id == claim.id, Replacement.returned_unit_id == claim.unit_id))
    return set(session.scalars(select(Unit.serial).where(or_(Unit.id == claim.unit_id, Unit.id.in_(replaced_by)))))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _user_name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return (user.display_name or user.username) if user is not None else None


def _team_name(session: Session, team_id: int | None) -> str | None:
    team = session.get(Team, team_id) if team_id is not None else None
    return team.name if team is not None else None


def _stage_read(session: Session, task: StageTask | None, due_at: datetime | None) -> dict[str, Any] | None:
    """The open stage task: who owns it, since when, when it is due."""
    if task is None:
        return None
    return {"stage": task.stage, "assignee": _user_name(session, task.assignee_id),
            "team": _team_name(session, task.team_id), "opened_at": task.opened_at.isoformat(),
            "due_at": _iso(due_at), "priority": task.priority}


def claim_sla(session: Session, claim: Claim, now: datetime | None = None) -> dict[str, Any]:
    """The claim's stage, owner and clocks at `now` (default: now): its current stage task, team, impact, urgency,
    SLA cycle, the cycle's clocks and the statutory deadline in calendar days."""
    now = utcnow() if now is None else now
    task = stages.open_task(session, claim.id)
    clocks, task_due = [], None
    for clock in stages.claim_clocks(session, claim):
        owner = session.get(StageTask, clock.task_id) if clock.task_id is not None else None
        view = stages.view_clock(session, clock, now, stage=owner.stage if owner is not None else None)
        if task is not None and clock.task_id == task.id:
            task_due = view.due_at
        clocks.append({"kind": view.kind, "stage": view.stage, "state": view.state,
                       "target_seconds": view.target_seconds, "elapsed_seconds": view.elapsed_seconds,
                       "remaining_seconds": view.remaining_seconds, "breached": view.breached,
                       "percent": round(view.percent, 1), "due_at": _iso(view.due_at)})
    statutory = None
    if claim.statutory_due_at is not None:
        # Calendar time to the stored deadline, never paused; at the deadline it is still met.
        due = claim.statutory_due_at
        statutory = {"due_at": due.isoformat(), "remaining_seconds": (due - now).total_seconds(),
                     "breached": now > due}
    return {"stage": _stage_read(session, task, task_due), "team": _team_name(session, claim.team_id),
            "impact": claim.impact, "urgency": claim.urgency, "cycle": claim.cycle, "clocks": clocks,
            "statutory": statutory}


def claim_read(session: Session, claim: Claim, *, role: str | None) -> dict[str, Any]:
    """One claim in the shape of GET /api/v1/claims/<id>: cases, replacements, timeline, the transitions `role`
    may take now, and its stage, owner and clocks (claim_sla)."""
    customer = session.get(Customer, claim.customer_id) if claim.customer_id is not None else None
    assignee = session.get(User, claim.assignee_id) if claim.assignee_id is not None else None
    cases = session.execute(select(UnitCase.id, Unit.serial, UnitCase.state, UnitCase.expected_serial)
                            .join(Unit, Unit.id == UnitCase.unit_id)
                            .where(UnitCase.claim_id == claim.id).order_by(UnitCase.id)).all()
    replacements = session.execute(
        select(_RETURNED.serial.label("returned_serial"), _HANDED.serial.label("replacement_serial"),
               Replacement.created_at)
        .join(_RETURNED, _RETURNED.id == Replacement.returned_unit_id)
        .join(_HANDED, _HANDED.id == Replacement.replacement_unit_id)
        .where(Replacement.claim_id == claim.id).order_by(Replacement.id)).all()
    return {
        "id": claim.id, "number": claim.number, "state": claim.state, "priority": claim.priority,
        "symptom": claim.symptom, "description": claim.description, "channel": claim.channel,
        "serial": next((c.serial for c in cases), None),
        "customer": {"id": customer.id, "name": customer.name} if customer else None,
        "assignee": (assignee.display_name or assignee.username) if assignee else None,
        "opened_at": claim.opened_at.isoformat(),
        "closed_at": claim.closed_at.isoformat() if claim.closed_at else None,
        "cases": [{"id": c.id, "serial": c.serial, "state": c.state, "expected_serial": c.expected_serial}
                  for c in cases],
        "replacements": [{"returned_serial": r.returned_serial, "replacement_serial": r.replacement_serial,
                          "created_at": r.created_at.isoformat()} for r in replacements],
        "timeline": timeline.claim_timeline(session, claim.id),
        "allowed_transitions": [str(s) for s in workflow.allowed_transitions(claim.state, role)] if role else [],
        "survey": surveys.survey_read(surveys.claim_survey(session, claim.id)),
        **claim_sla(session, claim),
    }


def case_read(session: Session, case_id: int) -> dict[str, Any]:
    """One unit case in the shape of GET /api/v1/cases/<id>; the caller has checked it exists."""
    row = session.execute(
        select(UnitCase, Unit.serial, Unit.product_id, Product.sku, Claim.number, Claim.state.label("claim_state"),
               Claim.priority, User.username, User.display_name)
        .join(Unit, Unit.id == UnitCase.unit_id).join(Product, Product.id == Unit.product_id)
        .join(Claim, Claim.id == UnitCase.claim_id).outerjoin(User, User.id == UnitCase.engineer_id)
        .where(UnitCase.id == case_id)).one()
    unit_case = row.UnitCase
    return {"id": unit_case.id, "claim": {"id": unit_case.claim_id, "number": row.number, "state": row.claim_state,
                                          "priority": row.priority},
            "serial": row.serial, "expected_serial": unit_case.expected_serial, "product": row.sku,
            "state": unit_case.state, "created_at": unit_case.created_at.isoformat(),
            "received_at": unit_case.received_at.isoformat() if unit_case.received_at else None,
            "return_due": unit_case.return_due.isoformat() if unit_case.return_due else None,
            "engineer": (row.display_name or row.username) if row.username else None,
            "taken_at": unit_case.taken_at.isoformat() if unit_case.taken_at else None,
            "verdict": unit_case.verdict,
            "procedure": procedures.procedure_read(procedures.current_procedure(session, row.product_id))}


QUEUE_STATES = (UnitCaseState.RECEIVED, UnitCaseState.IN_TEST)


def test_queue(session: Session, *, limit: int = 500) -> list[dict[str, Any]]:
    """The engineers' queue of received and in-test cases (not of cancelled or closed claims), in one query:
    advance-replaced cases first (the customer already has a working unit and the claim waits on the verdict), then
    claim priority (P1 first), then the oldest received."""
    # Ranked on the narrow rows first (case, claim, replacement link), then the details of the rows kept: joining
    # units, products and engineers to every queued case cost more than the ranking, and on PostgreSQL an EXISTS per
    # row priced the plan past the JIT threshold (20,000 open cases: 119 ms -> 40 ms there; bench/README.md).
    replaced = Replacement.id.is_not(None)
    # Cases received before the receiving time was kept come after the others, by creation.
    received_at = UnitCase.received_at
    ranked = (select(UnitCase.id, replaced.label("replaced"))
              .join(Claim, Claim.id == UnitCase.claim_id)
              .outerjoin(Replacement, and_(Replacement.claim_id == UnitCase.claim_id,
                                           Replacement.returned_unit_id == UnitCase.unit_id))
              .where(UnitCase.state.in_([str(s) for s in QUEUE_STATES]),
                     Claim.state.not_in([str(s) for s in workflow.INACTIVE_CLAIM_STATES]))
              .order_by(case((replaced, 0), else_=1), Claim.priority, received_at.is_(None), received_at,
                        UnitCase.created_at, UnitCase.id)
              .limit(limit).cte("ranked"))
    rows = session.execute(
        select(UnitCase.id, UnitCase.state, UnitCase.received_at, UnitCase.created_at, Unit.serial,
               Product.sku, Claim.id.label("claim_id"), Claim.number, Claim.priority, ranked.c.replaced,
               User.username, User.display_name)
        .join(ranked, ranked.c.id == UnitCase.id)
        .join(Unit, Unit.id == UnitCase.unit_id).join(Product, Product.id == Unit.product_id)
        .join(Claim, Claim.id == UnitCase.claim_id).outerjoin(User, User.id == UnitCase.engineer_id)
        .order_by(case((ranked.c.replaced, 0), else_=1), Claim.priority, received_at.is_(None), received_at,
                  UnitCase.created_at, UnitCase.id)).all()
    # A claim reopened and replaced again links its unit twice: still one queue row, in its place.
    unique = {r.id: r for r in rows}.values()
    return [{"id": r.id, "state": r.state, "serial": r.serial, "product": r.sku, "claim_id": r.claim_id,
             "claim": r.number, "priority": r.priority,
             "received_at": (r.received_at or r.created_at).isoformat(), "replaced": bool(r.replaced),
             "engineer": (r.display_name or r.username) if r.username else None} for r in unique]


def find_queue_case(session: Session, code: str) -> int | None:
    """The id of the queue case (received or in test, of a claim still open) of the unit a scan names (serial, GS1
    label), or None: the same cases the queue lists."""
    units = [u.id for u in trace_queries.list_scanned_units(session, code)]
    return session.scalar(
        select(UnitCase.id).join(Claim, Claim.id == UnitCase.claim_id)
        .where(UnitCase.unit_id.in_(units), UnitCase.state.in_([str(s) for s in QUEUE_STATES]),
               Claim.state.not_in([str(s) for s in workflow.INACTIVE_CLAIM_STATES]))
        .order_by(UnitCase.id.desc()).limit(1))


def list_procedures(session: Session, product_id: int) -> list[TestProcedure]:
    """Every procedure version of a product, newest first."""
    return list(session.scalars(select(TestProcedure).where(TestProcedure.product_id == product_id)
                                .order_by(TestProcedure.version.desc())))


def case_records(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The test records of a case, newest first, each with its steps, codes, procedure version, the record it
    corrects and the one that superseded it (both stay visible)."""
    later = aliased(TestRecord)
    rows = session.execute(
        select(TestRecord, TestProcedure.version, later.id.label("superseded_by"), User.username, User.display_name)
        .outerjoin(TestProcedure, TestProcedure.id == TestRecord.procedure_id)
        .outerjoin(later, later.supersedes_id == TestRecord.id)
        .outerjoin(User, User.id == TestRecord.engineer_id)
        .where(TestRecord.case_id == case_id).order_by(TestRecord.tested_at.desc(), TestRecord.id.desc())).all()
    steps: dict[int, list[TestStepResult]] = {}
    ids = [row.TestRecord.id for row in rows]
    for step in session.scalars(select(TestStepResult).where(TestStepResult.record_id.in_(ids))
                                .order_by(TestStepResult.record_id, TestStepResult.position)) if ids else ():
        steps.setdefault(step.record_id, []).append(step)
    return [{"id": r.TestRecord.id, "verdict": r.TestRecord.verdict, "notes": r.TestRecord.notes,
             "tested_at": r.TestRecord.tested_at.isoformat(), "engineer": r.display_name or r.username,
             "procedure_version": r.version, "supersedes": r.TestRecord.supersedes_id,
             "superseded_by": r.superseded_by,
             "codes": {"symptom": r.TestRecord.symptom, "mode": r.TestRecord.failure_mode,
                       "cause": r.TestRecord.root_cause, "location": r.TestRecord.location,
                       "action": r.TestRecord.action},
             "steps": [{"name": s.name, "kind": s.kind, "value": s.value, "low": s.low, "high": s.high,
                        "unit": s.unit, "passed": s.passed} for s in steps.get(r.TestRecord.id, [])]}
            for r in rows]


BILLED_COLUMNS = ("number", "customer", "customer_tax_id", "serial", "product", "amount", "billed_at", "verdict")


def billed_claims(session: Session, *, since: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Claims billed to the customer (from `since` on), oldest bill first, for the ERP to invoice: customer, unit,
    amount (text, as money is; None when the product had no price) and the verdict that billed it (None when the unit
    never came back)."""
    verdict = (select(UnitCase.verdict).where(UnitCase.claim_id == Claim.id).order_by(UnitCase.id.desc())
               .limit(1).scalar_subquery())
    stmt = (select(Claim.id, Claim.number, Claim.billed_amount, Claim.billed_at, Customer.name, Customer.tax_id,
                   Unit.serial, Product.sku, verdict.label("verdict"))
            .join(Unit, Unit.id == Claim.unit_id).join(Product, Product.id == Unit.product_id)
            .outerjoin(Customer, Customer.id == Claim.customer_id)
            .where(Claim.billed_at.is_not(None)).order_by(Claim.billed_at, Claim.id))
    if since is not None:
        stmt = stmt.where(Claim.billed_at >= since)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [{"id": r.id, "number": r.number, "customer": r.name, "customer_tax_id": r.tax_id, "serial": r.serial,
             "product": r.sku, "amount": str(r.billed_amount) if r.billed_amount is not None else None,
             "billed_at": r.billed_at.isoformat(), "verdict": r.verdict} for r in session.execute(stmt)]
