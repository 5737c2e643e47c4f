"""What a test record does to its claim beyond the first verdict: a correction that changes whether the customer is
billed bills a settled claim or withdraws a billed one's bill (refused once the claim is resolved), a case not in
the bench's hands is a 422 naming the case, a form typed against another procedure version is a 409, and the
return deadline pass never runs for a day after today. Every refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict, ValidationError
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.warranty import bench, models, procedures, queries
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
