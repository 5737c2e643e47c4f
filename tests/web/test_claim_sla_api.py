"""A claim's stage, owner and clocks in its JSON; reassigning it and changing its priority through the API, each
refusal naming its field (or 403 for the role) and changing nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.columns import at_moment
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service
from serialtrace.warranty.models import Claim, ClaimEvent, SlaClock, StageTask, Team

# Monday 2 June 2025, 10:00 UTC: the seeded standard calendar works Monday to Friday, 09:00-18:00 UTC.
MON = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
HOUR = 3600.0


@pytest.fixture
def claim_id(session, make_batch, users):
    """A claim registered on Monday 10:00 (triage, P3, nobody owns it), an active team supervised by the supervisor,
    an inactive team and an inactive user."""
    _, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=date(2025, 6, 2))
    session.add_all([Team(name="Returns", supervisor_id=users["supervisor"].id), Team(name="Old desk", active=False)])
    accounts_service.create_user(session, username="gone", role="engineer")
    accounts_service.deactivate_user(session, "gone")
    with at_moment(MON):
        claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=users["warehouse"],
                                       today=date(2025, 6, 2)).claim
    session.commit()
    return claim.id


def _snapshot(session, claim_id: int) -> tuple:
    """Everything a reassignment or priority change writes."""
    session.expire_all()
    claim = session.get(Claim, claim_id)
    return (claim.assignee_id, claim.team_id, claim.priority, claim.impact, claim.urgency,
            session.scalar(select(func.count()).select_from(ClaimEvent)),
            tuple(session.execute(select(StageTask.assignee_id, StageTask.team_id, StageTask.priority)).all()),
            tuple(session.execute(select(SlaClock.target_seconds, SlaClock.elapsed_seconds)).all()))


def test_the_claim_json_has_its_stage_clocks_and_statutory_deadline(api, claim_id):
    with at_moment(MON + timedelta(hours=2)):
        body = api("engineer").get(f"/api/v1/claims/{claim_id}").json
    assert body["stage"]["stage"] == "triage" and body["stage"]["assignee"] is None
    assert body["stage"]["priority"] == "P3" and body["stage"]["due_at"] == "2025-06-03T10:00:00+00:00"
    assert (body["impact"], body["urgency"], body["cycle"], body["team"]) == (2, 2, 1, None)
    resolution, triage = body["clocks"]
    # P3: the resolution clock 90 business hours, triage 9; two hours spent on each.
    assert (resolution["kind"], resolution["stage"], resolution["state"]) == ("resolution", None, "running")
    assert (resolution["target_seconds"], resolution["elapsed_seconds"]) == (90 * HOUR, 2 * HOUR)
    assert (triage["kind"], triage["stage"], triage["elapsed_seconds"]) == ("stage", "triage", 2 * HOUR)
    assert (triage["remaining_seconds"], triage["breached"], triage["percent"]) == (7 * HOUR, False, 22.2)
    assert triage["due_at"] == "2025-06-03T10:00:00+00:00"
    assert body["statutory"] == {"due_at": (MON + timedelta(days=45)).isoformat(),
                                 "remaining_seconds": (timedelta(days=45) - timedelta(hours=2)).total_seconds(),
                                 "breached": False}
    # Existing fields stay.
    for key in ("id", "number", "state", "priority", "customer", "assignee", "cases", "replacements", "timeline",
                "allowed_transitions"):
        assert key in body


def test_an_overdue_claim_is_breached_on_both_clocks(api, claim_id):
    with at_moment(MON + timedelta(days=46)):
        body = api("engineer").get(f"/api/v1/claims/{claim_id}").json
    assert all(c["breached"] for c in body["clocks"])
    assert body["statutory"]["breached"] is True and body["statutory"]["remaining_seconds"] < 0


def test_a_supervisor_reassigns_the_claim_and_its_clocks_run_on(api, session, claim_id):
    with at_moment(MON + timedelta(hours=1)):
        before = api("engineer").get(f"/api/v1/claims/{claim_id}").json["clocks"]
        answer = api("supervisor").post(f"/api/v1/claims/{claim_id}/reassign",
                                        json={"username": "engineer", "team": "Returns", "reason": "bench look"})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["stage"]["assignee"], body["stage"]["team"], body["team"], body["assignee"]) == (
        "engineer", "Returns", "Returns", "engineer")
    assert body["clocks"] == before
    row = body["timeline"][-1]
    assert (row["kind"], row["author"], row["reason"]) == ("assignment", "supervisor",
                                                           "- → engineer (Returns): bench look")
    # The new owner may hand it on; the team alone leaves nobody in particular.
    answer = api("engineer").post(f"/api/v1/claims/{claim_id}/reassign", json={"team": "Returns", "reason": "busy"})
    assert answer.status_code == 200, answer.json
    assert (answer.json["stage"]["assignee"], answer.json["stage"]["team"]) == (None, "Returns")


@pytest.mark.parametrize(("role", "body", "status", "field"), [
    ("supervisor", {"username": "engineer"}, 422, "reason"),
    ("supervisor", {"username": "engineer", "reason": "  "}, 422, "reason"),
    ("supervisor", {"username": "engineer", "reason": "a\x00b"}, 422, "reason"),
    ("supervisor", {"username": "gone", "reason": "x"}, 422, "username"),
    ("supervisor", {"username": "nobody", "reason": "x"}, 404, "username"),
    ("supervisor", {"team": "Nowhere", "reason": "x"}, 404, "team"),
    ("supervisor", {"team": "Old desk", "reason": "x"}, 422, "team"),
    ("supervisor", {"reason": "x"}, 422, "username"),
    ("supervisor", {"username": "engi\x00neer", "reason": "x"}, 422, "username"),
    ("coordinator", {"username": "coordinator", "reason": "mine"}, 403, None),
    ("production", {"username": "engineer", "reason": "x"}, 403, None),
], ids=["no-reason", "blank-reason", "nul-reason", "inactive-user", "unknown-user", "unknown-team", "inactive-team",
        "nobody", "nul-user", "not-the-owner", "production"])
def test_a_refused_reassignment_names_its_field_and_changes_nothing(api, session, claim_id, role, body, status,
                                                                     field):
    before = _snapshot(session, claim_id)
    answer = api(role).post(f"/api/v1/claims/{claim_id}/reassign", json=body)
    assert answer.status_code == status, answer.json
    if field:
        assert answer.json["details"]["field"] == field, answer.json
    assert _snapshot(session, claim_id) == before


def test_the_office_changes_the_priority_and_the_clocks_keep_their_time(api, session, claim_id):
    with at_moment(MON + timedelta(hours=3)):
        answer = api("coordinator").post(f"/api/v1/claims/{claim_id}/priority",
                                         json={"impact": 1, "urgency": 1, "reason": "hospital customer"})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["priority"], body["impact"], body["urgency"], body["stage"]["priority"]) == ("P1", 1, 1, "P1")
    triage = body["clocks"][1]
    # P1 triage is 2 business hours; three were spent: breached, and it stays.
    assert (triage["target_seconds"], triage["elapsed_seconds"], triage["breached"]) == (2 * HOUR, 3 * HOUR, True)
    assert body["timeline"][-1]["kind"] == "priority"
    assert body["timeline"][-1]["reason"] == "P3 → P1: hospital customer"
    with at_moment(MON + timedelta(hours=4)):
        answer = api("supervisor").post(f"/api/v1/claims/{claim_id}/priority", json={"priority": "P4", "reason": "ok"})
    assert answer.status_code == 200, answer.json
    assert answer.json["priority"] == "P4" and answer.json["clocks"][1]["breached"] is True


@pytest.mark.parametrize(("role", "body", "status", "field"), [
    ("coordinator", {"priority": "P1"}, 422, "reason"),
    ("coordinator", {"priority": "P1", "reason": " "}, 422, "reason"),
    ("coordinator", {"priority": "P1", "reason": "\x00"}, 422, "reason"),
    ("coordinator", {"priority": "P9", "reason": "x"}, 422, "priority"),
    ("coordinator", {"impact": 4, "urgency": 1, "reason": "x"}, 422, "impact"),
    ("coordinator", {"impact": "1", "urgency": 1, "reason": "x"}, 422, "impact"),
    ("coordinator", {"impact": 1, "urgency": 0, "reason": "x"}, 422, "urgency"),
    ("coordinator", {"reason": "x"}, 422, "impact"),
    ("engineer", {"priority": "P1", "reason": "x"}, 403, None),
    ("warehouse", {"priority": "P1", "reason": "x"}, 403, None),
    ("quality", {"priority": "P1", "reason": "x"}, 403, None),
], ids=["no-reason", "blank-reason", "nul-reason", "unknown-priority", "impact-4", "impact-text", "urgency-0",
        "nothing", "engineer", "warehouse", "quality"])
def test_a_refused_priority_change_names_its_field_and_changes_nothing(api, session, claim_id, role, body, status,
                                                                       field):
    before = _snapshot(session, claim_id)
    answer = api(role).post(f"/api/v1/claims/{claim_id}/priority", json=body)
    assert answer.status_code == status, answer.json
    if field:
        assert answer.json["details"]["field"] == field, answer.json
    assert _snapshot(session, claim_id) == before


def test_an_unknown_claim_is_404(api):
    assert api("supervisor").post("/api/v1/claims/999999/reassign",
                                  json={"username": "engineer", "reason": "x"}).status_code == 404
    assert api("supervisor").post("/api/v1/claims/999999/priority",
                                  json={"priority": "P1", "reason": "x"}).status_code == 404


def test_the_document_describes_both_operations_and_the_claim_read(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for path, body, required in (("/claims/{id}/reassign", "ClaimReassign", ["reason"]),
                                 ("/claims/{id}/priority", "ClaimPriority", ["reason"])):
        op = doc["paths"][path]["post"]
        assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(body)
        assert schemas[body]["required"] == required
        assert {"200", "403", "404", "422"} <= set(op["responses"])
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("ClaimRead")
    assert {"stage", "team", "impact", "urgency", "cycle", "clocks", "statutory"} <= set(
        schemas["ClaimRead"]["properties"])
    assert schemas["ClaimPriority"]["properties"]["impact"]["anyOf"][0]["maximum"] == 3
