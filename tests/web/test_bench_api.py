"""The test bench over the API: failure codes, procedures, taking a case, test records and their verdicts, return
deadlines and billed claims for the ERP."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product
from serialtrace.warranty import models, procedures, service
from serialtrace.warranty.models import Claim, ClaimEvent, FailureCode, UnitCase
from serialtrace.web import create_app

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
    assert {"code": "esd", "name": "ESD damage", "active": False, "stored_name": "ESD damage"} in everything
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


@pytest.fixture
def bench_claim(session, users, make_batch):
    """An advance-replaced claim whose unit was received at the desk, on a priced product with a procedure; and a
    second claim still waiting for its unit."""
    batch, serials = make_batch(quantity=4)
    product = session.get(Product, batch.product_id)
    product.price = Decimal("250.00")
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:2],
                                  today=TODAY)
    procedures.publish_procedure(session, product_id=product.id, steps=STEPS, author=users["quality"])
    desk = users["warehouse"]
    made = []
    for serial, stock in ((serials[0], serials[2]), (serials[1], serials[3])):
        claim = service.register_claim(session, serial=serial, symptom="no_power", author=desk, today=TODAY).claim
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock, author=desk, today=TODAY,
                             on_desk=serial == serials[0])
        made.append((claim.id, session.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one()))
    session.commit()
    return made


TEST = {"verdict": "not_covered", "steps": [{"name": "Power on", "passed": True},
                                            {"name": "Supply current", "value": 12.5}],
        "failure": {"mode": "liquid_ingress", "cause": "misuse", "location": "main_board", "action": "none"},
        "notes": "water inside"}


def _counts(session) -> tuple:
    return (tuple(session.scalar(select(func.count()).select_from(t)) for t in (
        models.TestRecord, models.TestStepResult, ClaimEvent)),
        tuple(session.execute(select(UnitCase.state, UnitCase.engineer_id).order_by(UnitCase.id)).all()),
        tuple(session.execute(select(Claim.state, Claim.billed_amount).order_by(Claim.id)).all()))


def test_take_then_record_a_test_bills_the_claim(api, bench_claim, users):
    (claim_id, case_id), _ = bench_claim
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/take")
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["state"], body["engineer"]) == ("in_test", "engineer")
    assert body["procedure"]["version"] == 1 and [s["name"] for s in body["procedure"]["steps"]] == [
        "Power on", "Supply current"]
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json=TEST)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["claim"]["state"] == "billed" and body["claim"]["billed_amount"] == "250.00"
    assert body["claim"]["billed_at"] is not None and body["warnings"] == []
    assert (body["case"]["state"], body["case"]["verdict"]) == ("tested", "not_covered")
    record = body["record"]
    assert (record["verdict"], record["codes"]["mode"], record["superseded_by"], record["engineer"]) == (
        "not_covered", "liquid_ingress", None, "engineer")
    assert [(s["name"], s["passed"]) for s in record["steps"]] == [("Power on", True), ("Supply current", True)]
    assert api("warehouse").get(f"/api/v1/claims/{claim_id}").get_json()["state"] == "billed"


def test_a_received_case_is_taken_into_test_by_the_test_itself(api, bench_claim):
    (_, case_id), _ = bench_claim
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={**TEST, "verdict": "confirmed_defect"})
    assert resp.status_code == 201 and resp.get_json()["claim"]["state"] == "settled"
    assert resp.get_json()["claim"]["billed_amount"] is None


@pytest.mark.parametrize("settings_overrides", [{"warranty_bill_no_fault": False}])
def test_no_fault_found_settles_when_the_policy_says_so(api, bench_claim):
    (_, case_id), _ = bench_claim
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={**TEST, "verdict": "no_fault_found"})
    assert resp.status_code == 201 and resp.get_json()["claim"]["state"] == "settled"


def test_no_fault_found_bills_by_default(api, bench_claim):
    (_, case_id), _ = bench_claim
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={**TEST, "verdict": "no_fault_found"})
    assert resp.status_code == 201 and resp.get_json()["claim"]["state"] == "billed"


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"verdict": "meh"}, 422, "verdict"),
    ({"steps": [{"name": "Power on", "passed": True}, {"name": "Supply current", "value": 1},
                {"name": "Smoke", "passed": True}]}, 422, "steps[2].name"),
    ({"steps": [{"name": "Power on", "passed": True, "value": 1}, {"name": "Supply current", "value": 1}]}, 422,
     "steps[0].value"),
    ({"failure": {"mode": "gremlins"}}, 422, "failure.mode"),
    ({"supersedes": 999999}, 409, None),
], ids=["verdict", "unknown-step", "value-on-pass-fail", "failure-code", "supersedes-untested"])
def test_a_bad_test_is_refused_naming_the_field_and_changes_nothing(api, session, bench_claim, change, status,
                                                                   field):
    (_, case_id), _ = bench_claim
    before = _counts(session)
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={**TEST, **change})
    assert resp.status_code == status, resp.get_json()
    if field:
        assert resp.get_json()["details"]["field"] == field
    assert _counts(session) == before


def test_a_test_of_a_case_not_in_test_is_a_422_naming_the_case_and_changes_nothing(api, session, bench_claim):
    _, (_, waiting_case) = bench_claim
    before = _counts(session)
    resp = api("engineer").post(f"/api/v1/cases/{waiting_case}/tests", json=TEST)
    assert resp.status_code == 422 and "expected" in resp.get_json()["message"]
    assert resp.get_json()["details"]["field"] == "case"
    assert api("engineer").post(f"/api/v1/cases/{waiting_case}/take").status_code == 409
    assert _counts(session) == before


@pytest.mark.parametrize("role", ["warehouse", "coordinator", "quality", "supervisor", "production"])
def test_roles_off_the_bench_may_not_take_or_test(api, session, bench_claim, role):
    (_, case_id), _ = bench_claim
    before = _counts(session)
    assert api(role).post(f"/api/v1/cases/{case_id}/take").status_code == 403
    assert api(role).post(f"/api/v1/cases/{case_id}/tests", json=TEST).status_code == 403
    assert _counts(session) == before


def test_a_correction_supersedes_and_both_are_listed(api, session, bench_claim):
    (_, case_id), (_, other_case) = bench_claim
    first = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json=TEST).get_json()["record"]["id"]
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests",
                                json={**TEST, "verdict": "transport_damage", "supersedes": first})
    assert resp.status_code == 201
    second = resp.get_json()["record"]["id"]
    assert resp.get_json()["case"]["verdict"] == "transport_damage"
    items = api("warehouse").get(f"/api/v1/cases/{case_id}/tests").get_json()["items"]
    assert [(i["id"], i["supersedes"], i["superseded_by"]) for i in items] == [(second, first, None),
                                                                               (first, None, second)]
    before = _counts(session)
    resp = api("engineer").post(f"/api/v1/cases/{other_case}/tests", json={**TEST, "supersedes": first})
    assert resp.status_code == 409 and _counts(session) == before
    assert api("engineer").get("/api/v1/cases/999999/tests").status_code == 404


def test_two_engineers_take_one_case_at_once_one_wins(fresh_db_url):
    rt = Runtime.from_env({"database_url": fresh_db_url, "secret_key": "take", "serial_key": "k"})
    with rt.transaction() as s:
        tokens = {}
        for name in ("anna", "boris"):
            user = accounts_service.create_user(s, username=name, role="engineer", password="bench-pass-1")
            tokens[name] = accounts_service.create_token(s, name=f"{name}-token", user=user)
        desk = accounts_service.create_user(s, username="desk", role="warehouse", password="desk-pass-1")
        trace_service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")
        _, serials = trace_service.register_batch(s, product="PR-100", quantity=2, number="2501A00",
                                                  produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
        customer = trace_service.get_or_create_customer(s, name="ACME", tax_id="5401234567")
        trace_service.create_shipment(s, customer=customer, shipped_on=TODAY, serials=serials[:1], today=TODAY)
        claim = service.register_claim(s, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
        service.replace_unit(s, claim_id=claim.id, replacement_serial=serials[1], author=desk, today=TODAY,
                             on_desk=True)
        case_id = s.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one()
    app = create_app(runtime=rt)
    start = threading.Barrier(2)
    out: dict = {}

    def run(name: str) -> None:
        client = app.test_client()
        start.wait()
        resp = client.post(f"/api/v1/cases/{case_id}/take", headers={"Authorization": f"Bearer {tokens[name]}"})
        out[name] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=run, args=(name,)) for name in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(status for status, _ in out.values()) == [200, 409], out
    winner = next(name for name, (status, _) in out.items() if status == 200)
    loser = next(body for status, body in out.values() if status == 409)
    assert loser["message"] == f"case {case_id} is already in test with {winner}"
    with rt.transaction() as s:
        case = s.get(UnitCase, case_id)
        assert case.state == "in_test"
        assert s.scalar(select(func.count()).select_from(ClaimEvent).where(ClaimEvent.to_state == "in_test")) == 1
    rt.engine.dispose()


def test_expire_returns_over_the_api(api, session, bench_claim, runtime):
    _, (waiting_claim, waiting_case) = bench_claim
    session.execute(UnitCase.__table__.update().where(UnitCase.id == waiting_case)
                    .values(return_due=date.today() - timedelta(days=1)))
    session.commit()
    for role in ("warehouse", "engineer", "quality", "production"):
        assert api(role).post("/api/v1/claims/expire-returns", json={}).status_code == 403
    resp = api("coordinator").post("/api/v1/claims/expire-returns", json={"today": "2999-01-01"})
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "today"
    resp = api("coordinator").post("/api/v1/claims/expire-returns",
                                   json={"today": (date.today() - timedelta(days=1)).isoformat()})
    assert resp.status_code == 200 and resp.get_json() == {"moved": []}
    resp = api("coordinator").post("/api/v1/claims/expire-returns", json={})
    assert resp.status_code == 200
    moved = resp.get_json()["moved"]
    assert [(m["case_id"], m["claim"]["id"], m["claim"]["state"], m["claim"]["billed_amount"]) for m in moved] == [
        (waiting_case, waiting_claim, "billed", "250.00")]
    assert api("supervisor").post("/api/v1/claims/expire-returns", json={}).get_json() == {"moved": []}


def test_billed_claims_for_the_erp_as_json_and_csv(api, session, bench_claim):
    (claim_id, case_id), _ = bench_claim
    api("engineer").post(f"/api/v1/cases/{case_id}/tests", json=TEST)
    number = session.scalar(select(Claim.number).where(Claim.id == claim_id))
    for role in ("warehouse", "engineer", "production"):
        assert api(role).get("/api/v1/claims/billed").status_code == 403
        assert api(role).get("/api/v1/claims/billed.csv").status_code == 403
    items = api("quality").get("/api/v1/claims/billed").get_json()["items"]
    assert [(i["number"], i["customer"], i["amount"], i["verdict"]) for i in items] == [
        (number, "Vodokanal", "250.00", "not_covered")]
    resp = api("coordinator").get("/api/v1/claims/billed.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="billed-claims.csv"' in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["number"], r["customer"], r["product"], r["amount"], r["verdict"]) for r in rows] == [
        (number, "Vodokanal", "PR-100", "250.00", "not_covered")]
    assert list(rows[0]) == ["number", "customer", "customer_tax_id", "serial", "product", "amount", "billed_at",
                             "verdict"]
    assert api("supervisor").get("/api/v1/claims/billed?since=2999-01-01").get_json() == {"items": []}
    resp = api("supervisor").get("/api/v1/claims/billed?since=yesterday")
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "since"
