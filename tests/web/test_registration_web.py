"""Independent registration over the web: the API's 409 own_customer and its confirmation, the station form's confirm
flow, the admin's account managers, and the daily registration report page, CSV and API with their roles."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Customer
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase

from .conftest import csrf_from


@pytest.fixture
def desk(session, make_batch, users):
    """Three units shipped to Vodokanal, whose account manager is the coordinator; committed for the app."""
    _, serials = make_batch(quantity=3)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials)
    trace_service.set_account_manager(session, customer, username="coordinator")
    session.commit()
    return {"serials": serials, "customer_id": customer.id}


def _counts(session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Claim, UnitCase, ClaimEvent))


def _post(client, page_url: str, url: str, data: dict):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_the_api_refuses_the_account_manager_with_409_saying_what_to_resend(api, session, desk):
    before = _counts(session)
    answer = api("coordinator").post("/api/v1/claims", json={"serial": desk["serials"][0], "symptom": "no_power"})
    assert answer.status_code == 409, answer.json
    assert answer.json["error"] == "own_customer" and "account manager of Vodokanal" in answer.json["message"]
    assert answer.json["details"]["resend"] == {"confirm_own_customer": True}
    assert _counts(session) == before


def test_the_api_registers_a_confirmed_one_flagged_with_its_timeline_row(api, session, desk):
    answer = api("coordinator").post("/api/v1/claims", json={"serial": desk["serials"][0], "symptom": "no_power",
                                                             "confirm_own_customer": True})
    assert answer.status_code == 201, answer.json
    assert [(e["kind"], e["author"]) for e in answer.json["timeline"]] == [("state_change", "coordinator"),
                                                                           ("confirmation", "coordinator")]
    session.expire_all()
    assert session.get(Claim, answer.json["id"]).own_customer_confirmed is True
    # Anyone else registers without being asked.
    other = api("warehouse").post("/api/v1/claims", json={"serial": desk["serials"][1], "symptom": "no_power"})
    assert other.status_code == 201 and "own_customer" not in {w["code"] for w in other.json["warnings"]}


def test_the_station_form_warns_then_asks_for_the_confirmation(login, session, desk):
    client = login("coordinator")
    serial = desk["serials"][0]
    url = f"/station/complaint?serial={serial}"
    form = client.get(url).get_data(as_text=True)
    assert 'id="own-customer-warning"' in form and 'name="confirm_own_customer"' in form
    before = _counts(session)
    refused = _post(client, url, "/station/complaint", {"serial": serial, "symptom": "leak", "channel": "phone",
                                                         "description": "drips"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "account manager of Vodokanal" in page
    # The fields are kept and the confirmation takes the focus, so Space then Alt+G sends it again.
    assert "drips" in page and 'id="confirm-own-customer" aria-invalid="true" aria-describedby="form-error" autofocus' \
        in page
    assert _counts(session) == before
    done = _post(client, url, "/station/complaint", {"serial": serial, "symptom": "leak", "channel": "phone",
                                                      "description": "drips", "confirm_own_customer": "1"})
    assert done.status_code == 302
    number = done.headers["Location"].rsplit("/", 1)[1]
    session.expire_all()
    claim = session.scalars(select(Claim).where(Claim.number == number)).one()
    assert claim.own_customer_confirmed and claim.channel == "phone"
    # Someone who does not manage the customer sees no warning.
    other = login("warehouse").get(f"/station/complaint?serial={desk['serials'][1]}").get_data(as_text=True)
    assert 'id="own-customer-warning"' not in other and 'name="confirm_own_customer"' not in other


def _draft(session, serial: str) -> Claim:
    from serialtrace.accounts.models import User
    from serialtrace.warranty import service

    warehouse = session.scalars(select(User).where(User.username == "warehouse")).one()
    claim = service.register_claim(session, serial=serial, symptom="no_power", author=warehouse,
                                   today=date.today(), draft=True).claim
    session.commit()
    return claim


def test_the_api_asks_the_account_manager_to_confirm_registering_a_draft(api, session, desk):
    draft = _draft(session, desk["serials"][0])
    url = f"/api/v1/claims/{draft.id}/transitions"
    before = _counts(session)
    refused = api("coordinator").post(url, json={"to": "registered"})
    assert refused.status_code == 409 and refused.json["error"] == "own_customer", refused.json
    assert refused.json["details"]["resend"] == {"confirm_own_customer": True}
    assert _counts(session) == before
    done = api("coordinator").post(url, json={"to": "registered", "confirm_own_customer": True})
    assert done.status_code == 200, done.json
    assert [(e["kind"], e["author"]) for e in done.json["timeline"]] == [
        ("state_change", "warehouse"), ("state_change", "coordinator"), ("confirmation", "coordinator")]
    session.expire_all()
    claim = session.get(Claim, draft.id)
    manager = session.get(Customer, desk["customer_id"]).account_manager_id
    assert claim.own_customer_confirmed and claim.author_id == manager


def test_the_claim_page_warns_then_asks_for_the_confirmation(login, session, desk):
    draft = _draft(session, desk["serials"][0])
    client = login("coordinator")
    url = f"/claims/{draft.number}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="own-customer-warning"' in page and 'name="confirm_own_customer"' in page
    before = _counts(session)
    refused = _post(client, url, f"{url}/transition", {"to": "registered", "reason": "phoned in"})
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "account manager of Vodokanal" in text and "phoned in" in text
    assert 'id="confirm-own-customer" aria-invalid="true" aria-describedby="form-error" autofocus' in text
    assert _counts(session) == before
    done = _post(client, url, f"{url}/transition", {"to": "registered", "confirm_own_customer": "1"})
    assert done.status_code == 302
    session.expire_all()
    claim = session.get(Claim, draft.id)
    assert claim.state == "registered" and claim.own_customer_confirmed
    registered = client.get(url).get_data(as_text=True)
    assert 'name="confirm_own_customer"' not in registered and "· coordinator" in registered
    # Someone who does not manage the customer is not asked.
    other = _draft(session, desk["serials"][1])
    page = login("warehouse").get(f"/claims/{other.number}").get_data(as_text=True)
    assert 'id="own-customer-warning"' not in page and 'name="confirm_own_customer"' not in page


def test_the_admin_sets_and_clears_an_account_manager(login, session, desk):
    client = login("admin")
    page = client.get("/admin/customers").get_data(as_text=True)
    assert "Vodokanal" in page and '<option value="coordinator" selected>' in page
    url = f"/admin/customers/{desk['customer_id']}/manager"
    assert _post(client, "/admin/customers", url, {"account_manager": "supervisor"}).status_code == 302
    session.expire_all()
    assert session.get(Customer, desk["customer_id"]).account_manager_id is not None
    refused = _post(client, "/admin/customers", url, {"account_manager": "nobody"})
    assert refused.status_code == 422 and "no active user" in refused.get_data(as_text=True)
    assert _post(client, "/admin/customers", url, {"account_manager": ""}).status_code == 302
    session.expire_all()
    assert session.get(Customer, desk["customer_id"]).account_manager_id is None
    assert "account manager changed" in client.get("/admin").get_data(as_text=True)
    assert login("supervisor").get("/admin/customers").status_code == 403


def test_the_report_page_csv_and_api_with_their_roles(login, api, session, desk):
    _draft(session, desk["serials"][2])  # a draft is not registered: it counts nowhere today
    for serial, role in ((desk["serials"][0], "warehouse"), (desk["serials"][1], "supervisor")):
        assert api(role).post("/api/v1/claims", json={"serial": serial, "symptom": "no_power",
                                                      "channel": "phone"}).status_code == 201
    body = api("quality").get("/api/v1/reports/registrations").json
    assert [(r["user"], r["channel"], r["count"]) for r in body["registered"]] == [("supervisor", "phone", 1),
                                                                                  ("warehouse", "phone", 1)]
    page = login("supervisor").get("/reports/registrations").get_data(as_text=True)
    assert 'id="registered"' in page and "warehouse" in page
    answer = login("quality").get(f"/reports/registrations.csv?day={body['day']}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["section"], r["user"], r["count"]) for r in rows] == [("registered", "supervisor", "1"),
                                                                     ("registered", "warehouse", "1")]
    bad = api("supervisor").get("/api/v1/reports/registrations?day=2025-02-30")
    assert bad.status_code == 422 and bad.json["details"]["field"] == "day"
    assert login("supervisor").get("/reports/registrations?day=nope").status_code == 422
    for role in ("warehouse", "coordinator", "engineer", "production"):
        assert api(role).get("/api/v1/reports/registrations").status_code == 403
        assert login(role).get("/reports/registrations").status_code == 403
    assert login("warehouse").get("/reports/registrations.csv").status_code == 403
