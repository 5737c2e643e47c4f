"""The claim rules over HTTP: steps only an action takes, a cancelled claim's case, "on desk" for a unit already in,
the return deadline of a claim sent in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase


@pytest.fixture
def claim(session, make_batch, users):
    """A registered claim on a unit shipped to a customer, and two units in stock; committed for the app."""
    _, serials = make_batch(quantity=3)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[:1])
    found = warranty_service.register_claim(session, serial=serials[0], symptom="no_power", author=None,
                                            today=date.today()).claim
    case_id = session.scalar(select(UnitCase.id).where(UnitCase.claim_id == found.id))
    session.commit()
    return {"id": found.id, "case_id": case_id, "serials": serials}


def _snapshot(session) -> tuple:
    session.expire_all()
    return (tuple(session.execute(select(Claim.state, Claim.billed_at)).all()),
            tuple(session.execute(select(UnitCase.state, UnitCase.return_due)).all()),
            tuple(session.execute(select(Unit.status).order_by(Unit.id)).scalars()),
            session.scalar(select(func.count()).select_from(ClaimEvent)),
            session.scalar(select(func.count()).select_from(UnitEvent)))


def _move(session, claim_id: int, *steps: str) -> None:
    for step in steps:
        warranty_service.transition_claim(session, claim_id=claim_id, to=step, author=None)
    session.commit()


def test_billing_by_hand_is_a_409_naming_the_verdict_and_is_not_offered(api, session, claim):
    _move(session, claim["id"], "triage", "replacement_shipped", "pending_verification")
    read = api("coordinator").get(f"/api/v1/claims/{claim['id']}").json
    assert read["allowed_transitions"] == []
    before = _snapshot(session)
    for role, to in (("coordinator", "billed"), ("engineer", "settled"), ("admin", "billed")):
        answer = api(role).post(f"/api/v1/claims/{claim['id']}/transitions", json={"to": to})
        assert answer.status_code == 409, (role, answer.json)
        assert answer.json["message"].startswith(f"a claim moves from pending_verification to {to} only by the "
                                                 "test verdict")
    assert _snapshot(session) == before


def test_inspection_by_hand_is_a_409_naming_the_receiving_scan(api, session, claim):
    _move(session, claim["id"], "triage", "awaiting_return")
    before = _snapshot(session)
    answer = api("warehouse").post(f"/api/v1/claims/{claim['id']}/transitions", json={"to": "in_inspection"})
    assert answer.status_code == 409
    assert "only by the receiving scan of the returned unit" in answer.json["message"]
    assert _snapshot(session) == before


def test_sending_the_unit_in_starts_its_return_deadline(api, session, claim, runtime):
    _move(session, claim["id"], "triage")
    assert api("coordinator").get(f"/api/v1/cases/{claim['case_id']}").json["return_due"] is None
    answer = api("coordinator").post(f"/api/v1/claims/{claim['id']}/transitions", json={"to": "awaiting_return"})
    assert answer.status_code == 200, answer.json
    due = date.fromisoformat(api("coordinator").get(f"/api/v1/cases/{claim['case_id']}").json["return_due"])
    assert due - timedelta(days=runtime.settings.warranty_return_days) in (
        date.today() - timedelta(days=1), date.today(), date.today() + timedelta(days=1))


def test_a_cancelled_claims_case_is_not_received(api, session, claim):
    _move(session, claim["id"], "cancelled")
    before = _snapshot(session)
    answer = api("warehouse").post(f"/api/v1/cases/{claim['case_id']}/receive",
                                   json={"serial": claim["serials"][0]})
    assert answer.status_code == 409
    assert answer.json["message"].endswith(f"is cancelled; its case {claim['case_id']} takes no more receiving, "
                                           "testing or deadlines")
    assert _snapshot(session) == before


def test_on_desk_for_a_unit_already_received_ships_the_replacement(api, session, claim):
    assert api("warehouse").post(f"/api/v1/cases/{claim['case_id']}/receive",
                                 json={"serial": claim["serials"][0]}).status_code == 200
    answer = api("warehouse").post(f"/api/v1/claims/{claim['id']}/replace",
                                   json={"replacement_serial": claim["serials"][1], "on_desk": True})
    assert answer.status_code == 201, answer.json
    assert (answer.json["state"], [c["state"] for c in answer.json["cases"]]) == ("pending_verification",
                                                                                  ["received"])
