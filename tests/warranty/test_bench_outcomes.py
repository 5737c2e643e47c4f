"""What a test record does to its claim beyond the first verdict: a correction that changes whether the customer is
billed bills a settled claim or withdraws a billed one's bill (refused once the claim is resolved), a case not in
the bench's hands is a 422 naming the case, a form typed against another procedure version is a 409, and the
return deadline pass never runs for a day after today. Every refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict, InvalidTransition, ValidationError
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.warranty import bench, models, procedures, queries, service
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase

from .bench_setup import STEPS, TODAY, good_steps, make_bench


@pytest.fixture
def desk(session, make_batch):
    """A priced product (120.00) with a procedure and shipped units to claim."""
    return make_bench(session, make_batch)


def _snapshot(session) -> tuple:
    """Everything a refused bench action must leave as it was."""
    counts = tuple(session.scalar(select(func.count()).select_from(t)) for t in (
        models.TestRecord, models.TestStepResult, UnitEvent, ClaimEvent))
    return (counts, tuple(session.execute(select(UnitCase.state, UnitCase.verdict).order_by(UnitCase.id)).all()),
            tuple(session.execute(select(Claim.state, Claim.billed_amount, Claim.billed_at).order_by(Claim.id)).all()),
            tuple(session.execute(select(Unit.status).order_by(Unit.id)).scalars()))


def _test(desk, case, verdict, **kw):
    return bench.record_test(desk.session, case_id=case.id, verdict=verdict, steps=good_steps(),
                             author=desk.people["engineer"], **kw)


def _billed_numbers(session) -> list[tuple]:
    return [(r["number"], r["amount"], r["verdict"]) for r in queries.billed_claims(session)]


def test_correcting_a_billing_verdict_withdraws_the_bill_and_the_export_drops_it(session, desk):
    claim, case = desk.claim()
    first = _test(desk, case, "not_covered")
    assert (first.claim.state, first.claim.billed_amount) == ("billed", Decimal("120.00"))
    assert _billed_numbers(session) == [(claim.number, "120.00", "not_covered")]
    second = _test(desk, case, "confirmed_defect", supersedes=first.record.id)
    assert (second.claim.state, second.claim.billed_amount, second.claim.billed_at) == ("settled", None, None)
    assert _billed_numbers(session) == []
    last = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)
                           .order_by(ClaimEvent.id.desc())).first()
    assert (last.from_state, last.to_state, last.reason, last.author) == (
        "billed", "settled", "billing withdrawn: verdict corrected", "system")


def test_correcting_a_settling_verdict_bills_the_claim_with_the_new_verdict(session, desk):
    claim, case = desk.claim()
    first = _test(desk, case, "confirmed_defect")
    assert first.claim.state == "settled"
    second = _test(desk, case, "not_covered", supersedes=first.record.id)
    assert (second.claim.state, second.claim.billed_amount) == ("billed", Decimal("120.00"))
    assert second.claim.billed_at is not None
    assert _billed_numbers(session) == [(claim.number, "120.00", "not_covered")]


@pytest.mark.parametrize(("first", "corrected", "bill_no_fault", "state"), [
    ("confirmed_defect", "transport_damage", True, "settled"),
    ("not_covered", "no_fault_found", True, "billed"),
    ("no_fault_found", "confirmed_defect", False, "settled"),
])
def test_a_correction_that_keeps_the_outcome_keeps_the_claim(session, desk, first, corrected, bill_no_fault, state):
    _, case = desk.claim()
    done = _test(desk, case, first, bill_no_fault=bill_no_fault)
    billed = (done.claim.billed_amount, done.claim.billed_at)
    again = _test(desk, case, corrected, supersedes=done.record.id, bill_no_fault=bill_no_fault)
    assert (again.claim.state, (again.claim.billed_amount, again.claim.billed_at)) == (state, billed)


def test_a_correction_that_would_change_a_resolved_claims_bill_is_refused(session, desk):
    claim, case = desk.claim()
    first = _test(desk, case, "not_covered")
    service.transition_claim(session, claim_id=claim.id, to="resolved", author=desk.people["coordinator"])
    before = _snapshot(session)
    with pytest.raises(Conflict, match="reopen the claim first") as err:
        _test(desk, case, "confirmed_defect", supersedes=first.record.id)
    assert err.value.details == {"field": "verdict", "claim_state": "resolved"}
    assert f"claim {claim.number} is resolved" in str(err.value)
    assert _snapshot(session) == before
    # A correction that leaves the bill as it is still goes through.
    assert _test(desk, case, "not_covered", supersedes=first.record.id, notes="seal broken").claim.state == "resolved"


def test_the_standard_path_verdict_bills_nobody_so_a_correction_moves_nothing(session, desk):
    _, case = desk.claim(advance=False)
    first = _test(desk, case, "confirmed_defect")
    assert first.claim.state == "decided"
    second = _test(desk, case, "not_covered", supersedes=first.record.id)
    assert (second.claim.state, second.claim.billed_at) == ("decided", None)


def test_nobody_moves_a_claim_between_settled_and_billed_by_hand(session, desk):
    claim, case = desk.claim()
    _test(desk, case, "confirmed_defect")
    before = _snapshot(session)
    for role in ("coordinator", "supervisor", "admin"):
        with pytest.raises(InvalidTransition, match="by correcting the test verdict"):
            service.transition_claim(session, claim_id=claim.id, to="billed", author=desk.people[role])
    assert _snapshot(session) == before


def test_a_test_of_a_case_not_received_is_422_naming_the_case(session, desk):
    _, expected = desk.claim(receive=False)
    before = _snapshot(session)
    with pytest.raises(ValidationError, match="is expected; a test is recorded for a received or in-test case") as err:
        _test(desk, expected, "confirmed_defect")
    assert err.value.details["field"] == "case" and _snapshot(session) == before


def test_steps_typed_against_another_procedure_version_are_refused(session, desk):
    _, case = desk.claim()
    procedures.publish_procedure(session, product_id=desk.product.id, steps=list(reversed(STEPS)),
                                 author=desk.people["quality"])
    before = _snapshot(session)
    for given in (1, 0, 7):
        with pytest.raises(Conflict, match="the test procedure changed while the form was open") as err:
            _test(desk, case, "confirmed_defect", procedure_version=given)
        assert err.value.details == {"field": "procedure_version", "current": 2}
    assert _snapshot(session) == before
    assert _test(desk, case, "confirmed_defect", procedure_version=2).case.state == "tested"


def test_no_procedure_is_version_0(session, make_batch):
    desk = make_bench(session, make_batch, procedure=False)
    _, case = desk.claim()
    with pytest.raises(Conflict) as err:
        bench.record_test(session, case_id=case.id, verdict="confirmed_defect", author=desk.people["engineer"],
                          procedure_version=1)
    assert err.value.details == {"field": "procedure_version", "current": 0}
    done = bench.record_test(session, case_id=case.id, verdict="confirmed_defect", author=desk.people["engineer"],
                             procedure_version=0)
    assert done.case.state == "tested"


def test_the_deadline_pass_refuses_a_day_after_today(session, desk):
    _, case = desk.claim(receive=False)
    late = case.return_due + timedelta(days=1)
    before = _snapshot(session)
    with pytest.raises(ValidationError, match=f"today {late} is after today \\({late - timedelta(days=1)}\\)") as err:
        bench.expire_returns(session, today=late, business_day=late - timedelta(days=1),
                             author=desk.people["coordinator"])
    assert err.value.details == {"field": "today"} and _snapshot(session) == before
    assert TODAY < late
    moved = bench.expire_returns(session, today=late, business_day=late, author=desk.people["coordinator"])
    assert [m.case.id for m in moved] == [case.id]
