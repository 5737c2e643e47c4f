"""Claim and case rules: steps only an action takes, return deadlines that run only while the claim waits for the
unit, a cancelled claim's case taking no more work, "on desk" for a unit already in, a reopened claim replaced
again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.accounts.enums import Role
from serialtrace.errors import Conflict, InvalidTransition, PermissionDenied
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.warranty import bench, queries, service
from serialtrace.warranty.enums import ClaimState
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase
from serialtrace.warranty.workflow import SYSTEM_STEPS, allowed_transitions, ensure_transition, may

from .bench_setup import TODAY, good_steps, make_bench

C = ClaimState


@pytest.fixture
def desk(session, make_batch):
    """A priced product with a procedure and shipped units to claim."""
    return make_bench(session, make_batch, claims=5)


def _snapshot(session) -> tuple:
    """Everything a refused action must leave as it was."""
    return (tuple(session.execute(select(Claim.id, Claim.state, Claim.billed_at, Claim.billed_amount)
                                  .order_by(Claim.id)).all()),
            tuple(session.execute(select(UnitCase.id, UnitCase.state, UnitCase.return_due, UnitCase.received_at)
                                  .order_by(UnitCase.id)).all()),
            tuple(session.execute(select(Unit.id, Unit.status).order_by(Unit.id)).all()),
            session.scalar(select(func.count()).select_from(ClaimEvent)),
            session.scalar(select(func.count()).select_from(UnitEvent)))


# Steps only an action takes -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("step", "role"), [(step, role) for step in SYSTEM_STEPS for role in Role])
def test_a_system_step_is_refused_to_every_role_naming_the_action_that_takes_it(step, role):
    current, target = step
    with pytest.raises(InvalidTransition) as exc:
        ensure_transition(current, target, role=role)
    assert str(exc.value) == f"a claim moves from {current} to {target} only {SYSTEM_STEPS[step]}"
    assert exc.value.status_code == 409 and exc.value.details["system"] is True
    assert not may(current, target, role) and target not in allowed_transitions(current, role)
    # The system (the action itself) takes it.
    ensure_transition(current, target)
    assert may(current, target, None)


def test_billing_or_settling_by_hand_is_refused_and_changes_nothing(session, desk):
    claim, _ = desk.claim()
    assert claim.state == "pending_verification"
    before = _snapshot(session)
    for role, to, words in (("coordinator", "billed", "by the test verdict or the passed return deadline"),
                            ("engineer", "settled", "by the test verdict"), ("admin", "billed", "test verdict")):
        with pytest.raises(InvalidTransition, match=words):
            service.transition_claim(session, claim_id=claim.id, to=to, author=desk.people[role])
    assert _snapshot(session) == before


def test_inspection_starts_only_with_the_receiving_scan(session, desk):
    claim, case = desk.claim(advance=False, receive=False)
    before = _snapshot(session)
    for role in ("warehouse", "supervisor", "admin"):
        with pytest.raises(InvalidTransition, match="only by the receiving scan of the returned unit"):
            service.transition_claim(session, claim_id=claim.id, to="in_inspection", author=desk.people[role])
    assert _snapshot(session) == before
    service.receive_case(session, case_id=case.id, serial=case.expected_serial, author=desk.people["warehouse"])
    session.refresh(claim)
    assert claim.state == "in_inspection"


def test_a_replacement_is_handed_out_only_by_the_replace_action(session, desk):
    claim = service.register_claim(session, serial=desk.serials[0], symptom="no_power", author=None,
                                   today=TODAY).claim
    service.transition_claim(session, claim_id=claim.id, to="triage", author=desk.people["coordinator"])
    before = _snapshot(session)
    with pytest.raises(InvalidTransition, match="only by handing out a replacement"):
        service.transition_claim(session, claim_id=claim.id, to="replacement_shipped", author=desk.people["warehouse"])
    with pytest.raises(PermissionDenied, match="^the engineer role may not move a claim from triage to "
                                               "replacement_shipped"):
        service.replace_unit(session, claim_id=claim.id, replacement_serial=desk.serials[1],
                             author=desk.people["engineer"], today=TODAY)
    assert _snapshot(session) == before
    done = service.replace_unit(session, claim_id=claim.id, replacement_serial=desk.serials[1],
                                author=desk.people["warehouse"], today=TODAY)
    assert done.state == "replacement_shipped"


def test_receiving_the_replaced_unit_makes_its_verification_pending(session, desk):
    claim, case = desk.claim(receive=False)
    assert claim.state == "replacement_shipped"
    service.receive_case(session, case_id=case.id, serial=case.expected_serial, author=desk.people["warehouse"])
    session.refresh(claim)
    last = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)
                           .order_by(ClaimEvent.id.desc())).first()
    assert (claim.state, last.from_state, last.to_state, last.author) == (
        "pending_verification", "replacement_shipped", "pending_verification", "system")


# Return deadlines -----------------------------------------------------------------------------------------------

def test_the_deadline_passes_only_for_claims_waiting_for_the_unit(session, desk):
    office, boss = desk.people["coordinator"], desk.people["supervisor"]
    service.register_claim(session, serial=desk.serials[0], symptom="no_power", author=None, today=TODAY)
    waiting = service.register_claim(session, serial=desk.serials[2], symptom="no_power", author=None,
                                     today=TODAY).claim
    for to in ("triage", "waiting_customer"):
        service.transition_claim(session, claim_id=waiting.id, to=to, author=office)
    cancelled = service.register_claim(session, serial=desk.serials[4], symptom="no_power", author=None,
                                       today=TODAY).claim
    for to in ("triage", "awaiting_return"):
        service.transition_claim(session, claim_id=cancelled.id, to=to, author=office, today=TODAY)
    service.transition_claim(session, claim_id=cancelled.id, to="cancelled", author=boss)
    # Deadlines written at registration (as they once were) must not count either.
    session.execute(UnitCase.__table__.update().values(return_due=TODAY))
    before = _snapshot(session)
    assert bench.expire_returns(session, today=TODAY + timedelta(days=60)) == []
    assert _snapshot(session) == before
    desk.used = 6
    awaiting, case = desk.claim(advance=False, receive=False)
    moved = bench.expire_returns(session, today=TODAY + timedelta(days=15))
    assert [(m.case.id, m.case.state, m.claim.state) for m in moved] == [(case.id, "not_returned",
                                                                          "awaiting_return")]


# A cancelled claim ----------------------------------------------------------------------------------------------

def test_a_cancelled_claims_case_cannot_be_received(session, desk):
    claim, case = desk.claim(advance=False, receive=False)
    service.transition_claim(session, claim_id=claim.id, to="cancelled", author=desk.people["supervisor"])
    before = _snapshot(session)
    with pytest.raises(InvalidTransition, match=f"^claim {claim.number} is cancelled; its case {case.id} takes no "
                                                "more receiving, testing or deadlines$") as exc:
        service.receive_case(session, case_id=case.id, serial=case.expected_serial, author=desk.people["warehouse"])
    assert exc.value.details["claim_state"] == "cancelled"
    assert bench.expire_returns(session, today=TODAY + timedelta(days=60)) == []
    assert _snapshot(session) == before


def test_a_cancelled_claims_received_case_leaves_the_queue_and_cannot_be_tested(session, desk):
    claim = service.register_claim(session, serial=desk.serials[0], symptom="no_power", author=None,
                                   today=TODAY).claim
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    # The customer brought the unit in while the claim was still being triaged, then withdrew the complaint.
    service.receive_case(session, case_id=case.id, serial=case.expected_serial, author=desk.people["warehouse"])
    assert [row["id"] for row in queries.test_queue(session)] == [case.id]
    assert queries.find_queue_case(session, case.expected_serial) == case.id
    service.transition_claim(session, claim_id=claim.id, to="cancelled", author=desk.people["coordinator"])
    assert queries.test_queue(session) == []
    assert queries.find_queue_case(session, case.expected_serial) is None
    before = _snapshot(session)
    engineer = desk.people["engineer"]
    with pytest.raises(InvalidTransition, match="is cancelled"):
        bench.take_case(session, case_id=case.id, author=engineer)
    with pytest.raises(InvalidTransition, match="is cancelled"):
        bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(), author=engineer)
    assert _snapshot(session) == before


# "On desk" for a unit already in ---------------------------------------------------------------------------------

def test_on_desk_for_a_case_already_received_changes_nothing_of_it(session, desk):
    claim = service.register_claim(session, serial=desk.serials[0], symptom="no_power", author=None,
                                   today=TODAY).claim
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    service.receive_case(session, case_id=case.id, serial=case.expected_serial, author=desk.people["warehouse"])
    received_at = case.received_at
    returned_events = select(func.count()).select_from(UnitEvent).where(UnitEvent.unit_id == case.unit_id,
                                                                        UnitEvent.kind == "returned")
    assert session.scalar(returned_events) == 1
    done = service.replace_unit(session, claim_id=claim.id, replacement_serial=desk.serials[1],
                                author=desk.people["warehouse"], on_desk=True, today=TODAY)
    session.refresh(case)
    assert (done.state, case.state, case.received_at) == ("pending_verification", "received", received_at)
    assert session.scalar(returned_events) == 1


# A reopened claim replaced again --------------------------------------------------------------------------------

def _reopened_after_not_returned(session, desk) -> tuple[Claim, UnitCase]:
    """An advance-replaced claim whose unit never came back (billed), resolved and reopened by the supervisor."""
    claim, case = desk.claim(receive=False)
    bench.expire_returns(session, today=TODAY + timedelta(days=15))
    service.transition_claim(session, claim_id=claim.id, to="resolved", author=desk.people["coordinator"])
    service.transition_claim(session, claim_id=claim.id, to="triage", author=desk.people["supervisor"])
    session.refresh(case)
    assert case.state == "not_returned"
    return claim, case


def test_a_reopened_claim_replaced_again_expects_its_unit_in_a_new_case(session, desk):
    claim, old = _reopened_after_not_returned(session, desk)
    later = TODAY + timedelta(days=20)
    done = service.replace_unit(session, claim_id=claim.id, replacement_serial=desk.serials[3],
                                author=desk.people["warehouse"], today=later, return_days=7)
    cases = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id).order_by(UnitCase.id)).all()
    assert [(c.id == old.id, c.state, c.return_due) for c in cases] == [
        (True, "not_returned", TODAY + timedelta(days=14)), (False, "expected", later + timedelta(days=7))]
    assert done.state == "replacement_shipped"
    service.receive_case(session, case_id=cases[1].id, serial=old.expected_serial, author=desk.people["warehouse"])
    session.refresh(claim)
    assert (claim.state, cases[1].state) == ("pending_verification", "received")


def test_a_reopened_claim_whose_unit_is_no_longer_the_customers_is_refused_a_second_replacement(session, desk):
    claim, old = _reopened_after_not_returned(session, desk)
    # Disposed of since: scrapped here, not with the customer any more.
    old.state = "disposed"
    session.get(Unit, old.unit_id).status = "scrapped"
    session.flush()
    before = _snapshot(session)
    with pytest.raises(Conflict, match=f"unit {old.expected_serial} of claim {claim.number} is scrapped, not with "
                                       "the customer"):
        service.replace_unit(session, claim_id=claim.id, replacement_serial=desk.serials[3],
                             author=desk.people["warehouse"], today=TODAY)
    with pytest.raises(Conflict, match="is scrapped"):
        service.transition_claim(session, claim_id=claim.id, to="awaiting_return", author=desk.people["coordinator"])
    assert _snapshot(session) == before
