"""Recall campaign pages and API: start from a batch, a lot or a filter; refusals shown with their status; customers
moved on with notes; progress; exports; the loud banner at the station; roles and CSRF."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from serialtrace.quality.models import RecallCampaign, RecallNote
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import UnitCase

from .conftest import csrf_from

TODAY = date(2025, 6, 2)


@pytest.fixture
def shop(session, make_batch, users):
    """Batch RB1 (lot LR1) with 3 units, 2 shipped to Alpha and 1 to Beta; batch RB2 with nothing shipped."""
    b1, s1 = make_batch(quantity=3, number="RB1", inputs=[trace_service.LotInput("Acme", "board", "LR1")])
    make_batch(quantity=2, number="RB2")
    alpha = trace_service.get_or_create_customer(session, name="Alpha", tax_id="7700000001")
    beta = trace_service.get_or_create_customer(session, name="Beta", tax_id="7700000002")
    alpha.phone, alpha.email = "+7 900 000-00-01", "alpha@example.com"
    trace_service.create_shipment(session, customer=alpha, shipped_on=date(2025, 2, 1), serials=s1[:2], today=TODAY)
    trace_service.create_shipment(session, customer=beta, shipped_on=date(2025, 2, 2), serials=s1[2:], today=TODAY)
    session.commit()
    return {"batch": b1, "serials": s1, "alpha": alpha, "beta": beta}


def _start(client, **form):
    page = client.get("/quality/recalls").get_data(as_text=True)
    return client.post("/quality/recalls", data={"csrf_token": csrf_from(page), **form})


def test_quality_starts_a_recall_from_a_batch_and_follows_a_customer(login, shop, session):
    quality = login("quality")
    page = quality.get("/quality/recalls")
    assert page.status_code == 200 and 'id="recall-form"' in page.get_data(as_text=True)
    resp = _start(quality, scope="batch", batch="RB1", reason="bad capacitor")
    assert resp.status_code == 302
    number = session.scalar(select(RecallCampaign.number))
    assert resp.headers["Location"].endswith(f"/quality/recalls/{number}")
    assert session.scalar(select(Batch.status).where(Batch.id == shop["batch"].id)) == "recalled"
    html = quality.get(f"/quality/recalls/{number}").get_data(as_text=True)
    assert 'id="recall-progress" max="3" value="0"' in html
    assert "alpha@example.com" in html and f'id="customer-{shop["alpha"].id}"' in html
    url = f"/quality/recalls/{number}/customers/{shop['alpha'].id}"
    # Without the CSRF token: refused, nothing written.
    assert quality.post(url, data={"status": "contacted"}).status_code == 400
    done = quality.post(url, data={"csrf_token": csrf_from(html), "status": "contacted", "note": "called"})
    assert done.status_code == 302
    jump = quality.post(url, data={"csrf_token": csrf_from(html), "status": "closed"})
    assert jump.status_code == 409 and "from contacted to closed" in jump.get_data(as_text=True)
    back = quality.post(url, data={"csrf_token": csrf_from(html), "status": "to_contact"})
    assert back.status_code == 422 and "needs a note" in back.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(RecallNote)) == 1
    html = quality.get(f"/quality/recalls/{number}").get_data(as_text=True)
    assert "called" in html and "Contacted: 1" in html


def test_a_recall_of_nothing_and_a_second_campaign_are_refused_on_the_form(login, shop, session):
    quality = login("quality")
    nothing = _start(quality, scope="batch", batch="RB2", reason="x")
    assert nothing.status_code == 422 and "nothing to recall" in nothing.get_data(as_text=True)
    assert _start(quality, scope="lot", lot_number="LR1", supplier="Acme", part="board", reason="x").status_code == 302
    number = session.scalar(select(RecallCampaign.number))
    again = _start(quality, scope="filter", batches="RB1", reason="again")
    text = again.get_data(as_text=True)
    assert again.status_code == 409 and f"batch RB1 is already in open recall campaign {number}" in text
    unknown = _start(quality, scope="batch", batch="NOPE", reason="x")
    assert unknown.status_code == 404
    bad_day = _start(quality, scope="filter", sku="PR-100", produced_from="yesterday", reason="x")
    assert bad_day.status_code == 422 and "produced_from" in bad_day.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(RecallCampaign)) == 1


def test_returned_units_show_in_progress_and_exports(login, shop, session, users):
    quality = login("quality")
    _start(quality, scope="batch", batch="RB1", reason="x")
    number = session.scalar(select(RecallCampaign.number))
    serial = shop["serials"][0]
    claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=users["warehouse"],
                                            today=TODAY).claim
    for to in ("triage", "awaiting_return"):
        warranty_service.transition_claim(session, claim_id=claim.id, to=to, author=users["coordinator"], today=TODAY)
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    warranty_service.receive_case(session, case_id=case.id, serial=serial, author=users["warehouse"])
    session.commit()
    html = quality.get(f"/quality/recalls/{number}").get_data(as_text=True)
    assert 'max="3" value="1"' in html
    listed = quality.get("/quality/recalls").get_data(as_text=True)
    assert number in listed and 'value="1"' in listed
    assert 'id="recall-campaigns-download-xlsx"' in listed
    table = quality.get("/quality/recalls.csv")
    lines = table.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert table.status_code == 200 and lines[0].startswith("number,title,batches,state,created_at")
    assert lines[0].endswith("customers_to_contact,customers_contacted,customers_units_returned,customers_closed,"
                             "units_returned,units_affected")
    assert len(lines) == 2 and lines[1].startswith(f"{number},") and lines[1].endswith(",2,0,0,0,1,3")
    book = quality.get("/quality/recalls.xlsx")
    rows = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(values_only=True))
    assert book.status_code == 200 and rows[0][0] == "number" and rows[1][0] == number and rows[1][-2:] == (1, 3)
    csv = quality.get(f"/quality/recalls/{number}/customers.csv")
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("customer_id,customer,tax_id") and len(lines) == 3
    assert any(line.split(",")[1] == "Alpha" and line.split(",")[8:10] == ["2", "1"] for line in lines[1:])
    xlsx = quality.get(f"/quality/recalls/{number}/units.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("serial", "product_sku") and len(rows) == 4
    assert {r[0]: r[5] for r in rows[1:]}[serial] is True


def test_the_station_shows_a_recalled_unit_loudly_with_the_campaign(login, shop, session):
    quality = login("quality")
    _start(quality, scope="batch", batch="RB1", reason="x")
    number = session.scalar(select(RecallCampaign.number))
    desk = login("warehouse")
    page = desk.get("/station").get_data(as_text=True)
    resp = desk.post("/station", data={"csrf_token": csrf_from(page), "code": shop["serials"][1]},
                     follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert f'id="recall-{number}"' in html and "Keep this unit" in html
    assert re.search(rf"RECALLED in campaign {number}", html)
    # The unit page (the dossier) lists the campaign too.
    unit = desk.get(f"/units/{shop['serials'][1]}").get_data(as_text=True)
    assert 'id="unit-recalls"' in unit and number in unit


def test_roles_and_links(login, shop, session):
    quality = login("quality")
    batch_page = quality.get("/batches/RB1").get_data(as_text=True)
    assert 'id="start-recall"' in batch_page and "scope=batch" in batch_page
    assert "start-recall" in quality.get("/lots/LR1").get_data(as_text=True)
    _start(quality, scope="batch", batch="RB1", reason="x")
    number = session.scalar(select(RecallCampaign.number))
    coordinator = login("coordinator")
    view = coordinator.get(f"/quality/recalls/{number}")
    assert view.status_code == 200 and "class=\"recall-customer" not in view.get_data(as_text=True)
    listing = coordinator.get("/quality/recalls").get_data(as_text=True)
    assert 'id="recall-form"' not in listing
    assert 'id="start-recall"' not in coordinator.get("/batches/RB1").get_data(as_text=True)
    token = csrf_from(listing)
    refused = coordinator.post(f"/quality/recalls/{number}/close", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403
    assert login("engineer").get("/quality/recalls").status_code == 403
    warehouse = login("warehouse")
    assert [warehouse.get(f"/quality/recalls.{fmt}").status_code for fmt in ("csv", "xlsx")] == [403, 403]
    assert coordinator.get("/quality/recalls.csv").status_code == 200
    html = quality.get(f"/quality/recalls/{number}").get_data(as_text=True)
    closed = quality.post(f"/quality/recalls/{number}/close", data={"csrf_token": csrf_from(html), "reason": ""})
    assert closed.status_code == 422
    closed = quality.post(f"/quality/recalls/{number}/close", data={"csrf_token": csrf_from(html), "reason": "done"})
    assert closed.status_code == 302 and session.scalar(select(RecallCampaign.state)) == "closed"


def test_the_api_starts_reads_moves_and_closes(api, shop, session):
    q = api("quality")
    made = q.post("/api/v1/recalls", json={"kind": "lot", "lot_number": "LR1", "reason": "boards"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    number = body["number"]
    assert body["batches"] == ["RB1"] and body["progress"]["units_affected"] == 3
    assert {c["customer"] for c in body["customers"]} == {"Alpha", "Beta"}
    again = q.post("/api/v1/recalls", json={"kind": "batch", "batch": "RB1", "reason": "x"})
    assert again.status_code == 409 and again.get_json()["details"] == {"batch": "RB1", "campaign": number}
    nothing = q.post("/api/v1/recalls", json={"kind": "batch", "batch": "RB2", "reason": "x"})
    assert nothing.status_code == 422 and "nothing to recall" in nothing.get_json()["message"]
    extra = q.post("/api/v1/recalls", json={"kind": "batch", "batch": "RB2", "reason": "x", "colour": "red"})
    assert extra.status_code == 422
    alpha = shop["alpha"].id
    moved = q.post(f"/api/v1/recalls/{number}/customers/{alpha}", json={"status": "contacted", "note": "mail"})
    assert moved.status_code == 200 and moved.get_json()["status_to"] == "contacted"
    jump = q.post(f"/api/v1/recalls/{number}/customers/{alpha}", json={"status": "closed"})
    assert jump.status_code == 409
    read = api("coordinator").get(f"/api/v1/recalls/{number}").get_json()
    mine = next(c for c in read["customers"] if c["customer_id"] == alpha)
    assert mine["status"] == "contacted" and mine["notes"][0]["text"] == "mail"
    assert api("coordinator").post(f"/api/v1/recalls/{number}/close", json={"reason": "x"}).status_code == 403
    assert api("engineer").get("/api/v1/recalls").status_code == 403
    assert [c["number"] for c in q.get("/api/v1/recalls?state=open").get_json()["items"]] == [number]
    closed = q.post(f"/api/v1/recalls/{number}/close", json={"reason": "all back"})
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert q.get("/api/v1/recalls/RC-999999").status_code == 404
