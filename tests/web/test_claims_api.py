"""The claims API: register at the desk with warnings, read a claim, move it through its state machine."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.trace import service as trace_service
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase


@pytest.fixture
def serials(session, make_batch):
    """Two units: the first shipped to a customer, the second still in stock; committed for the app."""
    _, serials = make_batch(quantity=2)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[:1])
    session.commit()
    return serials


def _counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Claim, UnitCase, ClaimEvent))


def _register(api, serial, role="warehouse", **extra):
    return api(role).post("/api/v1/claims", json={"serial": serial, "symptom": "no_power", **extra})


def test_register_answers_201_with_the_claim_and_no_warnings(api, serials):
    answer = _register(api, serials[0], description="dead", channel="phone")
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["number"].startswith("CL-") and body["state"] == "registered"
    assert body["customer"]["name"] == "Vodokanal"
    assert [(c["serial"], c["state"]) for c in body["cases"]] == [(serials[0], "expected")]
    assert body["warnings"] == [] and body["replacements"] == []
    assert [(e["kind"], e["to"], e["author"]) for e in body["timeline"]] == [("state_change", "registered",
                                                                              "warehouse")]
    # The warehouse takes no step from registered: triage and cancelling are the office's.
    assert body["allowed_transitions"] == []
    read = api("coordinator").get(f"/api/v1/claims/{body['id']}")
    assert read.status_code == 200
    assert read.json["allowed_transitions"] == ["triage", "cancelled"]


def test_register_warns_of_an_open_claim_and_a_unit_never_shipped(api, serials):
    first = _register(api, serials[1]).json
    answer = _register(api, serials[1], role="coordinator")
    assert answer.status_code == 201
    codes = {w["code"]: w["message"] for w in answer.json["warnings"]}
    assert set(codes) == {"open_claim", "never_shipped", "out_of_warranty"}
    assert first["number"] in codes["open_claim"]
    assert codes["never_shipped"] == "the unit was never shipped"


def test_warnings_are_in_russian_for_a_russian_reader(app, tokens, serials):
    answer = app.test_client().post("/api/v1/claims", json={"serial": serials[1], "symptom": "no_power"},
                                    headers={"Authorization": f"Bearer {tokens['warehouse']}", "Accept-Language": "ru"})
    assert answer.status_code == 201
    assert "никогда не отгружалось" in {w["code"]: w["message"] for w in answer.json["warnings"]}["never_shipped"]


@pytest.mark.parametrize(("body", "status", "field", "words"), [
    ({"serial": "NO-SUCH-1", "symptom": "no_power"}, 404, None, "NO-SUCH-1"),
    ({"serial": "{serial}", "symptom": "smells_funny"}, 422, "symptom", "unknown symptom 'smells_funny'"),
    ({"serial": "{serial}", "symptom": "no_power", "channel": "pigeon"}, 422, "channel", "unknown channel"),
    ({"serial": "{serial}"}, 422, "symptom", "field symptom is required"),
], ids=["unknown-serial", "bad-symptom", "bad-channel", "no-symptom"])
def test_bad_registration_is_refused_and_changes_nothing(api, session, serials, body, status, field, words):
    before = _counts(session)
    body = {k: v.format(serial=serials[0]) for k, v in body.items()}
    answer = api("warehouse").post("/api/v1/claims", json=body)
    assert answer.status_code == status, answer.json
    assert words in answer.json["message"]
    if field:
        assert answer.json["details"]["field"] == field
    assert _counts(session) == before


@pytest.mark.parametrize("role", ["engineer", "quality", "production"])
def test_roles_outside_the_desk_may_not_register(api, session, serials, role):
    before = _counts(session)
    assert _register(api, serials[0], role=role).status_code == 403
    assert _counts(session) == before


def test_allowed_transition_answers_the_claim_with_a_timeline_row(api, serials):
    claim = _register(api, serials[0]).json
    answer = api("coordinator").post(f"/api/v1/claims/{claim['id']}/transitions",
                                     json={"to": "triage", "reason": "call the customer"})
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == "triage"
    assert [(e["from"], e["to"], e["reason"], e["author"]) for e in answer.json["timeline"]] == [
        (None, "registered", "", "warehouse"), ("registered", "triage", "call the customer", "coordinator")]
    # Handing out a replacement is its own action (POST .../replace), not a bare transition.
    assert answer.json["allowed_transitions"] == ["waiting_customer", "awaiting_return", "cancelled"]


@pytest.mark.parametrize(("role", "to", "status", "words"), [
    ("coordinator", "closed", 409, "cannot move a claim from registered"),
    ("warehouse", "triage", 403, "may not move a claim from registered"),
    ("engineer", "cancelled", 403, "may not move a claim from registered"),
    ("coordinator", "limbo", 422, "unknown claim state 'limbo'"),
], ids=["state-409", "warehouse-403", "engineer-403", "unknown-state-422"])
def test_refused_transition_changes_nothing(api, session, serials, role, to, status, words):
    claim = _register(api, serials[0]).json
    before = _counts(session)
    answer = api(role).post(f"/api/v1/claims/{claim['id']}/transitions", json={"to": to, "reason": "try"})
    assert answer.status_code == status, answer.json
    assert words in answer.json["message"]
    session.expire_all()
    assert session.get(Claim, claim["id"]).state == "registered"
    assert _counts(session) == before


def test_unknown_claim_is_404(api):
    answer = api("coordinator").get("/api/v1/claims/999999")
    assert answer.status_code == 404
    assert "no claim with id 999999" in answer.json["message"]
