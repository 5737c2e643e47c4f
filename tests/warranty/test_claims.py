"""Registering claims at the desk and moving them through the claim state machine, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from serialtrace.accounts import service as accounts_service
from serialtrace.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from serialtrace.trace import queries as trace_queries
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase

TODAY = date(2025, 6, 2)


@pytest.fixture
def desk(session):
    """A warehouse worker at the desk."""
    return accounts_service.create_user(session, username="desk", role="warehouse")


@pytest.fixture
def shipped(session, make_batch):
    """Three units of one batch: two shipped to a customer on 2025-02-03, one still in stock."""
    batch, serials = make_batch(quantity=3)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:2],
                                  today=TODAY)
    return batch, serials, customer


def _counts(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Claim, UnitCase, ClaimEvent))


def test_register_makes_a_claim_with_an_expected_case_and_a_timeline_row(session, shipped, desk):
    _, serials, customer = shipped
    done = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk,
                                  description="dead on arrival", channel="phone", today=TODAY)
    claim = done.claim
    assert (claim.state, claim.customer_id, claim.channel, claim.author_id) == ("registered", customer.id, "phone",
                                                                                 desk.id)
    assert done.warnings == []
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    assert (case.state, case.expected_serial) == ("expected", serials[0])
    event = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)).one()
    assert (event.kind, event.from_state, event.to_state, event.author) == ("state_change", None, "registered",
                                                                              "desk")


def test_a_draft_is_kept_in_draft_until_the_desk_registers_it(session, shipped, desk):
    _, serials, _ = shipped
    claim = service.register_claim(session, serial=serials[0], symptom="leak", author=desk, today=TODAY,
                                   draft=True).claim
    assert claim.state == "draft"
    claim = service.transition_claim(session, claim_id=claim.id, to="registered", author=desk)
    steps = session.execute(select(ClaimEvent.from_state, ClaimEvent.to_state).where(ClaimEvent.claim_id == claim.id)
                            .order_by(ClaimEvent.id)).all()
    assert [tuple(s) for s in steps] == [(None, "draft"), ("draft", "registered")]


def _codes(done) -> list[str]:
    return [w["code"] for w in done.warnings]


def test_warns_of_an_open_claim(session, shipped, desk):
    _, serials, _ = shipped
    first = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY)
    second = service.register_claim(session, serial=serials[0], symptom="leak", author=desk, today=TODAY)
    assert _codes(second) == ["open_claim"]
    assert first.claim.number in second.warnings[0]["message"]


def test_warns_when_out_of_warranty_with_the_dossiers_reason(session, shipped, desk):
    _, serials, _ = shipped
    done = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk,
                                  today=date(2027, 6, 1))
    assert _codes(done) == ["out_of_warranty"]
    assert "expired" in done.warnings[0]["message"] or "2027-02-03" in done.warnings[0]["message"]


def test_warns_when_never_shipped(session, shipped, desk):
    _, serials, _ = shipped
    done = service.register_claim(session, serial=serials[2], symptom="no_power", author=desk, today=TODAY)
    assert _codes(done) == ["never_shipped", "out_of_warranty"]
    assert done.claim.customer_id is None


@pytest.mark.parametrize(("status", "code"), [("on_hold", "batch_on_hold"), ("recalled", "batch_recalled")])
def test_warns_of_a_held_or_recalled_batch(session, shipped, desk, status, code):
    batch, serials, _ = shipped
    trace_service.set_batch_status(session, batch=batch, status=status, reason="suspect capacitors")
    done = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY)
    assert _codes(done) == [code]
    assert batch.number in done.warnings[0]["message"]


def test_a_given_customer_wins_over_the_shipment(session, shipped, desk):
    _, serials, _ = shipped
    other = trace_service.get_or_create_customer(session, name="Teploset")
    done = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk,
                                  customer_id=other.id, today=TODAY)
    assert done.claim.customer_id == other.id


@pytest.mark.parametrize(("kw", "error", "field", "words"), [
    ({"serial": "NO-SUCH-SERIAL"}, NotFound, None, "NO-SUCH-SERIAL"),
    ({"symptom": "smells_funny"}, ValidationError, "symptom", "unknown symptom 'smells_funny'"),
    ({"channel": "pigeon"}, ValidationError, "channel", "unknown channel 'pigeon'"),
    ({"customer_id": 987654}, NotFound, "customer_id", "no customer with id 987654"),
], ids=["unknown-serial", "bad-symptom", "bad-channel", "unknown-customer"])
def test_bad_input_is_refused_and_changes_nothing(session, shipped, desk, kw, error, field, words):
    _, serials, _ = shipped
    before = _counts(session)
    args = {"serial": serials[0], "symptom": "no_power", **kw}
    with pytest.raises(error) as exc:
        service.register_claim(session, author=desk, today=TODAY, **args)
    assert words in str(exc.value.message)
    if field:
        assert exc.value.details["field"] == field
    assert _counts(session) == before


def test_numbers_continue_after_the_highest_existing_one(session, shipped, desk):
    _, serials, _ = shipped
    unit = trace_queries.get_unit(session, serials[1])
    # Claims the demo wrote straight into the table, before the counter row existed.
    session.execute(insert(Claim.__table__), [{"number": f"CL-{n:06d}", "unit_id": unit.id, "state": "closed",
                                               "symptom": "leak", "description": "", "priority": "P3", "cost": 0.0,
                                               "opened_at": datetime(2025, 3, 1, tzinfo=UTC), "channel": "desk"}
                                              for n in (1, 2, 41)])
    first = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY)
    second = service.register_claim(session, serial=serials[0], symptom="leak", author=desk, today=TODAY)
    assert (first.claim.number, second.claim.number) == ("CL-000042", "CL-000043")


def test_transitions_by_state_and_role_with_timeline_rows(session, shipped, desk):
    _, serials, _ = shipped
    coordinator = accounts_service.create_user(session, username="coord", role="coordinator")
    claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
    moved = service.transition_claim(session, claim_id=claim.id, to="triage", reason="look at it", author=coordinator)
    assert moved.state == "triage"
    rows = session.execute(select(ClaimEvent.from_state, ClaimEvent.to_state, ClaimEvent.reason, ClaimEvent.author)
                           .where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)).all()
    assert [tuple(r) for r in rows] == [(None, "registered", "", "desk"), ("registered", "triage", "look at it",
                                                                            "coord")]


@pytest.mark.parametrize(("role", "to", "error", "words"), [
    ("coordinator", "closed", InvalidTransition, "cannot move a claim from registered"),
    ("warehouse", "triage", PermissionDenied, "may not move a claim from registered"),
    ("engineer", "cancelled", PermissionDenied, "may not move a claim from registered"),
], ids=["state-409", "warehouse-403", "engineer-403"])
def test_refused_transitions_change_nothing(session, shipped, desk, role, to, error, words):
    _, serials, _ = shipped
    user = accounts_service.create_user(session, username=f"u-{role}", role=role)
    claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
    before = _counts(session)
    with pytest.raises(error) as exc:
        service.transition_claim(session, claim_id=claim.id, to=to, reason="try", author=user)
    assert words in str(exc.value.message)
    session.expire_all()
    assert session.get(Claim, claim.id).state == "registered"
    assert _counts(session) == before


def test_unknown_claim_is_not_found(session, desk):
    with pytest.raises(NotFound, match="no claim with id 999999"):
        service.transition_claim(session, claim_id=999999, to="triage", author=desk)


def test_claim_events_refuse_update(session, shipped, desk):
    _, serials, _ = shipped
    claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
    with pytest.raises(IntegrityError, match="claim_event is append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE claim_event SET reason = 'rewritten' WHERE claim_id = :id"),
                            {"id": claim.id})
    assert session.scalar(select(ClaimEvent.reason).where(ClaimEvent.claim_id == claim.id)) == ""
