"""The bench's outcomes over the API and on the case page: a corrected verdict bills or withdraws the bill (and the
billed export follows), a case not in test is a 422 naming the case, a form typed against another procedure
version is a 409, a unit's approval follows its price, and a replaced unit is never shipped back too."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product
from serialtrace.warranty import models, procedures, service
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase

from .conftest import csrf_from

TODAY = date(2025, 6, 2)
STEPS = [{"name": "Power on", "kind": "pass_fail"},
         {"name": "Supply current", "kind": "measure", "low": 10, "high": 20, "unit": "mA"}]
GOOD = [{"name": "Power on", "passed": True}, {"name": "Supply current", "value": 12.5}]


@pytest.fixture
def settings_overrides():
    """Units worth more than 100 need quality's approval (the product here is priced 250.00)."""
    return {"warranty_approval_value": 100}


@pytest.fixture
def replaced(session, users, make_batch):
    """(claim id, case id, product id): an advance-replaced claim on a product priced 250.00 with a procedure, its
    unit received and a second one still expected."""
    batch, serials = make_batch(quantity=4)
    product = session.get(Product, batch.product_id)
    product.price = 250
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:2],
                                  today=TODAY)
    procedures.publish_procedure(session, product_id=product.id, steps=STEPS, author=users["quality"])
    made = []
    for serial, stock in ((serials[0], serials[2]), (serials[1], serials[3])):
        claim = service.register_claim(session, serial=serial, symptom="no_power", author=users["warehouse"],
                                       today=TODAY).claim
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock, author=users["warehouse"],
                             today=TODAY, on_desk=serial == serials[0])
        made.append((claim.id, session.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one()))
    session.commit()
    return made[0] + (product.id,), made[1]


def _counts(session) -> tuple:
    session.expire_all()
    return (tuple(session.scalar(select(func.count()).select_from(t)) for t in (
        models.TestRecord, models.TestStepResult, ClaimEvent, models.DispositionRecord)),
        tuple(session.execute(select(UnitCase.state, UnitCase.verdict).order_by(UnitCase.id)).all()),
        tuple(session.execute(select(Claim.state, Claim.billed_amount, Claim.billed_at).order_by(Claim.id)).all()))


def _billed(api) -> list[tuple]:
    return [(i["amount"], i["verdict"]) for i in api("coordinator").get("/api/v1/claims/billed").get_json()["items"]]


def test_a_corrected_verdict_withdraws_the_bill_then_bills_again(api, replaced):
    (_, case_id, _), _ = replaced
    first = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={"verdict": "not_covered", "steps": GOOD})
    assert first.status_code == 201 and first.get_json()["claim"]["state"] == "billed"
    assert _billed(api) == [("250.00", "not_covered")]
    record = first.get_json()["record"]["id"]
    second = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={
        "verdict": "confirmed_defect", "steps": GOOD, "supersedes": record})
    assert second.status_code == 201, second.get_json()
    assert {k: second.get_json()["claim"][k] for k in ("state", "billed_amount", "billed_at")} == {
        "state": "settled", "billed_amount": None, "billed_at": None}
    assert _billed(api) == []
    third = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={
        "verdict": "not_covered", "steps": GOOD, "supersedes": second.get_json()["record"]["id"]})
    assert third.status_code == 201 and third.get_json()["claim"]["state"] == "billed"
    assert _billed(api) == [("250.00", "not_covered")]


def test_a_correction_that_would_change_a_resolved_claims_bill_is_409(api, session, replaced):
    (claim_id, case_id, _), _ = replaced
    record = api("engineer").post(f"/api/v1/cases/{case_id}/tests",
                                  json={"verdict": "not_covered", "steps": GOOD}).get_json()["record"]["id"]
    assert api("coordinator").post(f"/api/v1/claims/{claim_id}/transitions",
                                   json={"to": "resolved"}).status_code == 200
    before = _counts(session)
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={
        "verdict": "confirmed_defect", "steps": GOOD, "supersedes": record})
    assert resp.status_code == 409 and "reopen the claim first" in resp.get_json()["message"]
    assert resp.get_json()["details"]["field"] == "verdict" and _counts(session) == before


def test_nobody_bills_a_settled_claim_by_hand(api, session, replaced):
    (claim_id, case_id, _), _ = replaced
    api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={"verdict": "confirmed_defect", "steps": GOOD})
    before = _counts(session)
    for role in ("coordinator", "admin"):
        resp = api(role).post(f"/api/v1/claims/{claim_id}/transitions", json={"to": "billed"})
        assert resp.status_code == 409 and "by correcting the test verdict" in resp.get_json()["message"]
    assert _counts(session) == before


def test_a_test_of_a_case_still_expected_is_422_naming_the_case(api, session, replaced):
    _, (_, expected) = replaced
    before = _counts(session)
    resp = api("engineer").post(f"/api/v1/cases/{expected}/tests", json={"verdict": "confirmed_defect",
                                                                       "steps": GOOD})
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "case"
    assert f"case {expected} of claim" in resp.get_json()["message"] and "is expected" in resp.get_json()["message"]
    assert _counts(session) == before


def test_a_test_typed_against_an_older_procedure_is_409(api, session, users, replaced):
    (_, case_id, product_id), _ = replaced
    procedures.publish_procedure(session, product_id=product_id, steps=list(reversed(STEPS)),
                                 author=users["quality"])
    session.commit()
    before = _counts(session)
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={
        "verdict": "confirmed_defect", "steps": GOOD, "procedure_version": 1})
    assert resp.status_code == 409 and resp.get_json()["details"] == {"field": "procedure_version", "current": 2}
    assert _counts(session) == before
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={
        "verdict": "confirmed_defect", "steps": GOOD, "procedure_version": 2})
    assert resp.status_code == 201


def test_the_case_page_refuses_steps_typed_against_an_older_procedure(login, session, users, replaced):
    (_, case_id, product_id), _ = replaced
    client = login("engineer")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'name="procedure_version" value="1"' in page
    # Quality publishes a version with the steps the other way round while the engineer types.
    procedures.publish_procedure(session, product_id=product_id, steps=list(reversed(STEPS)),
                                 author=users["quality"])
    session.commit()
    before = _counts(session)
    resp = client.post(f"/cases/{case_id}/tests", data={
        "csrf_token": csrf_from(page), "procedure_version": "1", "steps[0].passed": "pass", "steps[1].value": "12.5",
        "verdict": "confirmed_defect", "notes": "kept"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "the test procedure changed while the form was open" in html
    assert 'name="procedure_version" value="2"' in html and "kept</textarea>" in html
    assert _counts(session) == before


def test_a_proposal_valued_below_the_price_still_needs_approval(api, replaced):
    (_, case_id, _), _ = replaced
    api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={"verdict": "confirmed_defect", "steps": GOOD})
    resp = api("engineer").post(f"/api/v1/cases/{case_id}/dispositions", json={
        "kind": "restock_refurbished", "value": "1.00"})
    assert resp.status_code == 201
    assert (resp.get_json()["value"], resp.get_json()["needs_approval"]) == ("1.00", True)


def test_a_replaced_unit_is_not_shipped_back_too(api, session, replaced):
    (_, case_id, _), _ = replaced
    api("engineer").post(f"/api/v1/cases/{case_id}/tests", json={"verdict": "confirmed_defect", "steps": GOOD})
    before = _counts(session)
    for kind in ("repair_return", "return_as_is"):
        resp = api("engineer").post(f"/api/v1/cases/{case_id}/dispositions", json={"kind": kind})
        assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "kind"
        assert "already got a replacement for it" in resp.get_json()["message"]
    assert _counts(session) == before
