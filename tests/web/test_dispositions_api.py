"""The disposition API: propose, decide, execute and list over HTTP, by role and state; two executions at once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Shipment, Unit, UnitEvent
from serialtrace.warranty import dispositions
from serialtrace.warranty.models import ClaimEvent, DispositionRecord, UnitCase
from serialtrace.web import create_app

from ..warranty.tested_case import make_tested


@pytest.fixture
def tested(session, make_batch, users):
    """A claim whose unit was tested; committed for the app."""
    made = make_tested(session, make_batch, users["warehouse"])
    session.commit()
    return made


def _state(session) -> tuple:
    return (tuple(session.scalar(select(func.count()).select_from(t)) for t in (UnitEvent, ClaimEvent, Shipment)),
            tuple(session.execute(select(Unit.status).order_by(Unit.id)).scalars()),
            tuple(session.execute(select(UnitCase.state).order_by(UnitCase.id)).scalars()),
            tuple(session.execute(select(DispositionRecord.state).order_by(DispositionRecord.id)).scalars()))


def test_propose_approve_execute_over_http(api, session, tested):
    case_id = tested.case.id
    answer = api("engineer").post(f"/api/v1/cases/{case_id}/dispositions", json={"kind": "scrap", "notes": "burnt"})
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert {k: body[k] for k in ("case_id", "kind", "state", "value", "needs_approval", "notes", "proposed_by")} == {
        "case_id": case_id, "kind": "scrap", "state": "proposed", "value": "120.00", "needs_approval": True,
        "notes": "burnt", "proposed_by": "engineer"}
    record = body["id"]
    refused = api("engineer").post(f"/api/v1/dispositions/{record}/execute")
    assert refused.status_code == 409 and "needs quality's approval" in refused.json["message"]
    decided = api("quality").post(f"/api/v1/dispositions/{record}/decision", json={"approve": True})
    assert (decided.status_code, decided.json["state"], decided.json["decided_by"]) == (200, "approved", "quality")
    done = api("engineer").post(f"/api/v1/dispositions/{record}/execute")
    assert (done.status_code, done.json["state"], done.json["executed_by"]) == (200, "executed", "engineer")
    assert session.scalar(select(Unit.status).where(Unit.serial == tested.serials[0])) == "scrapped"
    again = api("quality").post(f"/api/v1/dispositions/{record}/execute")
    assert again.status_code == 409 and again.json["error"] == "invalid_transition"
    listed = api("supervisor").get(f"/api/v1/cases/{case_id}/dispositions")
    assert [(d["id"], d["state"]) for d in listed.json["items"]] == [(record, "executed")]
    claim = api("warehouse").get(f"/api/v1/claims/{tested.claim.id}").json
    assert [e["action"] for e in claim["timeline"] if e["kind"] == "disposition"] == [
        "proposed", "approved", "executed"]


def test_a_value_above_the_setting_needs_approval(api, tested):
    answer = api("quality").post(f"/api/v1/cases/{tested.case.id}/dispositions",
                                 json={"kind": "restock_refurbished", "value": "500.01"})
    assert (answer.status_code, answer.json["needs_approval"]) == (201, True)


@pytest.mark.parametrize(("role", "url", "body"), [
    ("warehouse", "/api/v1/cases/{case}/dispositions", {"kind": "scrap"}),
    ("coordinator", "/api/v1/cases/{case}/dispositions", {"kind": "scrap"}),
    ("engineer", "/api/v1/dispositions/{record}/decision", {"approve": True}),
    ("warehouse", "/api/v1/dispositions/{record}/execute", None),
    ("production", "/api/v1/dispositions/{record}/execute", None),
])
def test_roles_that_may_not_get_403_and_nothing_changes(api, session, tested, role, url, body):
    record = dispositions.propose(session, case_id=tested.case.id, kind="hold_for_analysis", author=None)
    session.commit()
    before = _state(session)
    answer = api(role).post(url.format(case=tested.case.id, record=record.id), json=body)
    assert answer.status_code == 403, answer.json
    assert _state(session) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "burn"}, "kind"), ({"kind": "scrap", "value": -1}, "value"), ({}, "kind"),
    ({"kind": "scrap", "notes": "x" * 4001}, "notes"),
])
def test_bad_proposals_are_422_naming_the_field(api, session, tested, body, field):
    before = _state(session)
    answer = api("engineer").post(f"/api/v1/cases/{tested.case.id}/dispositions", json=body)
    assert answer.status_code == 422 and answer.json["details"]["field"] == field, answer.json
    assert _state(session) == before


def test_rejection_without_reason_is_422_with_reason_the_case_is_back_in_tested(api, session, tested):
    record = api("engineer").post(f"/api/v1/cases/{tested.case.id}/dispositions", json={"kind": "scrap"}).json["id"]
    before = _state(session)
    answer = api("quality").post(f"/api/v1/dispositions/{record}/decision", json={"approve": False})
    assert (answer.status_code, answer.json["details"]) == (422, {"field": "reason"})
    assert _state(session) == before
    answer = api("quality").post(f"/api/v1/dispositions/{record}/decision",
                                 json={"approve": False, "reason": "repairable"})
    assert (answer.status_code, answer.json["state"], answer.json["decision_reason"]) == (200, "rejected",
                                                                                          "repairable")
    assert api("engineer").get(f"/api/v1/cases/{tested.case.id}").json["state"] == "tested"


def test_a_case_not_tested_is_409_and_unknown_ids_404(api, session, tested):
    api("engineer").post(f"/api/v1/cases/{tested.case.id}/dispositions", json={"kind": "hold_for_analysis"})
    before = _state(session)
    answer = api("engineer").post(f"/api/v1/cases/{tested.case.id}/dispositions", json={"kind": "scrap"})
    assert answer.status_code == 409 and "disposition_pending" in answer.json["message"]
    assert api("engineer").post("/api/v1/dispositions/999999/execute").status_code == 404
    assert api("engineer").get("/api/v1/cases/999999/dispositions").status_code == 404
    assert _state(session) == before


def test_two_executions_at_once_one_wins_the_other_gets_409(fresh_db_url):
    rt = Runtime.from_env({"database_url": fresh_db_url, "secret_key": "dispose", "serial_key": "k"})
    with rt.transaction() as s:
        engineer = accounts_service.create_user(s, username="bench", role="engineer", password="bench-pass-1")
        token = accounts_service.create_token(s, name="bench-token", user=engineer)
        desk = accounts_service.create_user(s, username="desk", role="warehouse", password="desk-pass-1")
        trace_service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")

        def make_batch(quantity):
            return trace_service.register_batch(s, product="PR-100", quantity=quantity, number="2501A00",
                                                produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())

        tested = make_tested(s, make_batch, desk, price="10.00")
        record = dispositions.propose(s, case_id=tested.case.id, kind="restock_refurbished", author=engineer).id
    app = create_app(runtime=rt)
    start = threading.Barrier(2)
    out: list = [None, None]

    def run(i: int) -> None:
        client = app.test_client()
        start.wait()
        resp = client.post(f"/api/v1/dispositions/{record}/execute", headers={"Authorization": f"Bearer {token}"})
        out[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(status for status, _ in out) == [200, 409], out
    with rt.transaction() as s:
        unit = s.scalars(select(Unit).where(Unit.serial == tested.serials[0])).one()
        assert unit.status == "refurbished"
        assert s.scalar(select(func.count()).select_from(UnitEvent).where(
            UnitEvent.unit_id == unit.id, UnitEvent.kind == "disposed")) == 1
    rt.engine.dispose()
