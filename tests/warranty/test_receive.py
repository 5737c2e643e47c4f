"""Receiving a returned unit: the expected serial, a wrong one, a case in the wrong state or a role that may not."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.errors import InvalidTransition, NotFound, PermissionDenied
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.warranty import queries, service
from serialtrace.warranty.models import ClaimEvent, UnitCase

TODAY = date(2025, 6, 2)


@pytest.fixture
def desk(session):
    return accounts_service.create_user(session, username="desk", role="warehouse")


@pytest.fixture
def claim(session, make_batch, desk):
    """A claim on a shipped unit, its case expected; returns (claim, serials of the batch)."""
    _, serials = make_batch(quantity=3)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:2],
                                  today=TODAY)
    return service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim, \
        serials


def _case(session, claim):
    return session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()


def _state(session) -> tuple:
    return (session.scalar(select(func.count()).select_from(UnitEvent)),
            session.scalar(select(func.count()).select_from(ClaimEvent)),
            tuple(session.execute(select(Unit.serial, Unit.status).order_by(Unit.id)).all()),
            tuple(session.execute(select(UnitCase.state, UnitCase.received_at)).all()))


def test_the_expected_serial_receives_the_case_and_returns_the_unit(session, claim, desk):
    claim, serials = claim
    case = _case(session, claim)
    done = service.receive_case(session, case_id=case.id, serial=f" {serials[0]} ", author=desk)
    assert (done.case.state, done.message) == ("received", None)
    assert done.case.received_at is not None
    unit = session.scalars(select(Unit).where(Unit.serial == serials[0])).one()
    assert unit.status == "returned"
    assert session.scalars(select(UnitEvent.kind).where(UnitEvent.unit_id == unit.id)
                           .order_by(UnitEvent.id.desc())).first() == "returned"
    timeline = queries.claim_read(session, claim, role="warehouse")["timeline"]
    assert (timeline[-1]["kind"], timeline[-1]["from"], timeline[-1]["to"], timeline[-1]["author"]) == (
        "case_state", "expected", "received", "desk")
    assert queries.case_read(session, case.id)["state"] == "received"


def test_a_different_serial_marks_the_case_wrong_unit_and_says_so(session, claim, desk):
    claim, serials = claim
    case = _case(session, claim)
    before = _state(session)
    done = service.receive_case(session, case_id=case.id, serial=serials[1], author=desk)
    assert done.case.state == "wrong_unit"
    assert str(done.message) == (f"unit {serials[1]} is not the expected unit {serials[0]} of claim {claim.number}; "
                                 "the case is marked wrong unit")
    after = _state(session)
    # Only the case's state and its timeline row: no unit moved, no unit event.
    assert (after[0], after[2]) == (before[0], before[2])
    assert after[1] == before[1] + 1 and after[3] == (("wrong_unit", None),)
    # Another wrong unit keeps it so and says so again; the expected unit may still arrive afterwards.
    again = service.receive_case(session, case_id=case.id, serial=serials[2], author=desk)
    assert again.case.state == "wrong_unit" and serials[2] in str(again.message)
    assert _state(session) == after
    assert service.receive_case(session, case_id=case.id, serial=serials[0], author=desk).case.state == "received"


def test_a_case_not_expected_is_refused_naming_its_state(session, claim, desk):
    claim, serials = claim
    case = _case(session, claim)
    service.receive_case(session, case_id=case.id, serial=serials[0], author=desk)
    before = _state(session)
    with pytest.raises(InvalidTransition) as caught:
        service.receive_case(session, case_id=case.id, serial=serials[0], author=desk)
    assert str(caught.value) == f"case {case.id} of claim {claim.number} is received; only an expected case can be " \
        "received"
    assert caught.value.details["state"] == "received"
    assert _state(session) == before


@pytest.mark.parametrize("role", ["engineer", "quality", "production", "coordinator"])
def test_a_role_that_may_not_receive_is_refused(session, claim, role):
    claim, serials = claim
    user = accounts_service.create_user(session, username=f"u-{role}", role=role)
    before = _state(session)
    with pytest.raises(PermissionDenied, match=f"{role}"):
        service.receive_case(session, case_id=_case(session, claim).id, serial=serials[0], author=user)
    assert _state(session) == before


@pytest.mark.parametrize("case_id", [999_999, 0, 2**40])
def test_an_unknown_case_is_not_found(session, desk, case_id):
    with pytest.raises(NotFound, match=f"no unit case with id {case_id}"):
        service.receive_case(session, case_id=case_id, serial="X", author=desk)
