"""The test bench over the API: failure codes, procedures, taking a case, test records and their verdicts, return
deadlines and billed claims for the ERP."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from serialtrace.trace import service as trace_service
from serialtrace.warranty import models, service
from serialtrace.warranty.models import Claim, ClaimEvent, FailureCode, UnitCase

TODAY = date(2025, 6, 2)
STEPS = [{"name": "Power on", "kind": "pass_fail"},
         {"name": "Supply current", "kind": "measure", "low": 10, "high": 20, "unit": "mA"}]


def _patch(app, tokens, role, url, **kw):
    return app.test_client().patch(url, headers={"Authorization": f"Bearer {tokens[role]}"}, **kw)


def _codes(session) -> list[tuple]:
    return list(session.execute(select(FailureCode.list, FailureCode.code, FailureCode.name, FailureCode.active)
                                .order_by(FailureCode.id)).all())


def test_failure_codes_answer_the_five_lists_for_every_role(api, users):
    for role in users:
        resp = api(role).get("/api/v1/failure-codes")
        assert resp.status_code == 200, role
    body = resp.get_json()
    assert list(body) == ["symptom", "mode", "cause", "location", "action"]
    assert body["symptom"][0] == {"code": "no_power", "name": "Does not switch on"}
    assert set(body["mode"][0]) == {"code", "name"}


def test_quality_adds_renames_retires_and_reactivates_a_code(app, api, tokens, session):
    resp = api("quality").post("/api/v1/failure-codes", json={"list": "cause", "code": "esd", "name": "ESD"})
    assert resp.status_code == 201 and resp.get_json() == {"list": "cause", "code": "esd", "name": "ESD",
                                                           "active": True}
    resp = _patch(app, tokens, "quality", "/api/v1/failure-codes/cause/esd", json={"name": "ESD damage",
                                                                                   "active": False})
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    listed = api("engineer").get("/api/v1/failure-codes").get_json()["cause"]
    assert "esd" not in [c["code"] for c in listed]
    everything = api("engineer").get("/api/v1/failure-codes?all=true").get_json()["cause"]
    assert {"code": "esd", "name": "ESD damage", "active": False} in everything
    resp = _patch(app, tokens, "admin", "/api/v1/failure-codes/cause/esd", json={"active": True})
    assert resp.status_code == 200 and resp.get_json()["active"] is True


@pytest.mark.parametrize("role", ["warehouse", "coordinator", "engineer", "supervisor", "production"])
def test_other_roles_may_not_change_codes_and_nothing_changes(app, api, tokens, session, role):
    before = _codes(session)
    assert api(role).post("/api/v1/failure-codes", json={"list": "cause", "code": "esd",
                                                         "name": "ESD"}).status_code == 403
    assert _patch(app, tokens, role, "/api/v1/failure-codes/cause/design", json={"active": False}).status_code == 403
    assert api(role).post("/api/v1/failure-codes/import", data="list,code,name\ncause,esd,ESD\n",
                          content_type="text/csv").status_code == 403
    assert _codes(session) == before


def test_code_refusals_name_the_field(app, api, tokens):
    resp = api("quality").post("/api/v1/failure-codes", json={"list": "cause", "code": "design", "name": "x"})
    assert resp.status_code == 409 and resp.get_json()["details"]["field"] == "code"
    resp = api("quality").post("/api/v1/failure-codes", json={"list": "colour", "code": "red", "name": "x"})
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "list"
    assert _patch(app, tokens, "quality", "/api/v1/failure-codes/cause/nope", json={"name": "x"}).status_code == 404
    resp = _patch(app, tokens, "quality", "/api/v1/failure-codes/colour/red", json={"name": "x"})
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "list"


def test_import_as_a_body_or_an_upload(api, session):
    resp = api("quality").post("/api/v1/failure-codes/import", data="list,code,name\ncause,esd,ESD\n",
                               content_type="text/csv")
    assert resp.status_code == 200 and resp.get_json() == {"added": 1, "updated": 0, "unchanged": 0}
    resp = api("admin").post("/api/v1/failure-codes/import", data={
        "file": (io.BytesIO(b"list,code,name,active\ncause,esd,ESD damage,false\n"), "codes.csv")})
    assert resp.status_code == 200 and resp.get_json() == {"added": 0, "updated": 1, "unchanged": 0}
    assert ("cause", "esd", "ESD damage", False) in _codes(session)


def test_a_bad_import_is_refused_whole_naming_line_and_column(api, session):
    before = _codes(session)
    resp = api("quality").post("/api/v1/failure-codes/import", content_type="text/csv",
                               data="list,code,name\ncause,esd,ESD\ncause,Not A Code,x\n")
    body = resp.get_json()
    assert resp.status_code == 422 and body["details"]["line"] == 3 and body["details"]["column"] == "code"
    assert body["message"].startswith("line 3, column code:")
    assert _codes(session) == before
    resp = api("quality").post("/api/v1/failure-codes/import", json={"list": "cause"})
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "file"


def test_procedures_are_published_by_quality_and_read_by_all(api, product, session):
    session.commit()
    assert api("engineer").get("/api/v1/products/PR-100/procedure").get_json() == {"product": "PR-100",
                                                                                  "procedure": None}
    assert api("engineer").post("/api/v1/products/PR-100/procedure", json={"steps": STEPS}).status_code == 403
    resp = api("quality").post("/api/v1/products/PR-100/procedure", json={"steps": STEPS})
    assert resp.status_code == 201
    assert resp.get_json()["procedure"] == {"version": 1, "steps": [
        {"name": "Power on", "kind": "pass_fail", "low": None, "high": None, "unit": None},
        {"name": "Supply current", "kind": "measure", "low": 10.0, "high": 20.0, "unit": "mA"}]}
    resp = api("admin").post("/api/v1/products/PR-100/procedure", json={"steps": STEPS[:1]})
    assert resp.get_json()["procedure"]["version"] == 2
    assert api("warehouse").get("/api/v1/products/PR-100/procedure").get_json()["procedure"]["version"] == 2
    resp = api("quality").post("/api/v1/products/PR-100/procedure", json={"steps": [
        {"name": "Leak", "kind": "measure", "unit": "bar", "low": 3, "high": 1}]})
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "steps[0].high"
    assert session.scalar(select(func.count()).select_from(models.TestProcedure)) == 2
    assert api("quality").get("/api/v1/products/NOPE/procedure").status_code == 404
