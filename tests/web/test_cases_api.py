"""GET /api/v1/cases/<id>, POST /api/v1/cases/<id>/receive and the engineers' ranked GET /api/v1/test-queue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from serialtrace.columns import utcnow
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase


@pytest.fixture
def claims(session, make_batch):
    """Four claims on shipped units (case ids in claim order) and two units in stock; committed for the app."""
    _, serials = make_batch(quantity=6)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[:4])
    cases = []
    for serial in serials[:4]:
        claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                                today=date.today()).claim
        cases.append(session.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one())
    session.commit()
    return cases, serials


def _counts(session) -> tuple:
    return (session.scalar(select(func.count()).select_from(UnitEvent)),
            session.scalar(select(func.count()).select_from(ClaimEvent)),
            tuple(session.execute(select(Unit.status).order_by(Unit.id)).scalars()),
            tuple(session.execute(select(UnitCase.state).order_by(UnitCase.id)).scalars()))


def test_get_case_answers_the_case_with_a_null_procedure(api, claims):
    cases, serials = claims
    body = api("engineer").get(f"/api/v1/cases/{cases[0]}").json
    assert (body["id"], body["serial"], body["expected_serial"], body["state"], body["procedure"]) == (
        cases[0], serials[0], serials[0], "expected", None)
    assert body["claim"]["number"].startswith("CL-") and body["received_at"] is None
    assert api("engineer").get("/api/v1/cases/999999").status_code == 404


def test_receive_the_expected_serial(api, session, claims):
    cases, serials = claims
    answer = api("warehouse").post(f"/api/v1/cases/{cases[0]}/receive", json={"serial": serials[0]})
    assert answer.status_code == 200, answer.json
    assert (answer.json["state"], answer.json["message"]) == ("received", None)
    assert answer.json["received_at"] is not None
    assert session.scalar(select(Unit.status).where(Unit.serial == serials[0])) == "returned"


def test_receive_a_wrong_serial_says_so_and_changes_nothing_else(api, session, claims):
    cases, serials = claims
    before = _counts(session)
    answer = api("warehouse").post(f"/api/v1/cases/{cases[0]}/receive", json={"serial": serials[5]})
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == "wrong_unit"
    assert serials[5] in answer.json["message"] and serials[0] in answer.json["message"]
    after = _counts(session)
    assert (after[0], after[2]) == (before[0], before[2]) and after[1] == before[1] + 1
    assert after[3] == ("wrong_unit",) + before[3][1:]


@pytest.mark.parametrize(("role", "status", "error"), [("engineer", 403, "forbidden"),
                                                      ("quality", 403, "forbidden"),
                                                      ("coordinator", 403, "forbidden")])
def test_receive_by_a_role_that_may_not_is_refused(api, session, claims, role, status, error):
    cases, serials = claims
    before = _counts(session)
    answer = api(role).post(f"/api/v1/cases/{cases[0]}/receive", json={"serial": serials[0]})
    assert (answer.status_code, answer.json["error"]) == (status, error)
    assert _counts(session) == before


def test_receive_twice_is_409_naming_the_state_and_unknown_case_404(api, session, claims):
    cases, serials = claims
    api("warehouse").post(f"/api/v1/cases/{cases[0]}/receive", json={"serial": serials[0]})
    before = _counts(session)
    answer = api("warehouse").post(f"/api/v1/cases/{cases[0]}/receive", json={"serial": serials[0]})
    assert answer.status_code == 409 and "is received" in answer.json["message"]
    assert answer.json["details"]["state"] == "received"
    missing = api("warehouse").post("/api/v1/cases/999999/receive", json={"serial": serials[0]})
    assert missing.status_code == 404 and "999999" in missing.json["message"]
    empty = api("warehouse").post(f"/api/v1/cases/{cases[1]}/receive", json={"serial": " "})
    assert empty.status_code == 422 and empty.json["details"] == {"field": "serial"}
    assert _counts(session) == before


def test_the_queue_ranks_replaced_then_priority_then_age(api, session, claims):
    cases, serials = claims
    # Received oldest first: 0, 1, 2; case 3 replaced at the desk (received last); case 2 is P1.
    for i in range(3):
        assert api("warehouse").post(f"/api/v1/cases/{cases[i]}/receive",
                                     json={"serial": serials[i]}).status_code == 200
        session.execute(update(UnitCase).where(UnitCase.id == cases[i])
                        .values(received_at=utcnow() - timedelta(days=10 - i)))
    claim_of = dict(session.execute(select(UnitCase.id, UnitCase.claim_id)).all())
    session.execute(update(Claim).where(Claim.id == claim_of[cases[2]]).values(priority="P1"))
    session.commit()
    assert api("warehouse").post(f"/api/v1/claims/{claim_of[cases[3]]}/replace",
                                 json={"replacement_serial": serials[4], "on_desk": True}).status_code == 201
    answer = api("engineer").get("/api/v1/test-queue")
    assert answer.status_code == 200, answer.json
    items = answer.json["items"]
    assert [i["id"] for i in items] == [cases[3], cases[2], cases[0], cases[1]]
    assert [i["replaced"] for i in items] == [True, False, False, False]
    assert [i["priority"] for i in items] == ["P3", "P1", "P3", "P3"]
    assert items[0]["serial"] == serials[3] and items[0]["claim"].startswith("CL-") and items[0]["product"]
    assert api("warehouse").get("/api/v1/test-queue").status_code == 403
