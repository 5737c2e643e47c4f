"""Holds on component lots over HTTP: the API, the lot page's form, what a held lot's units meet elsewhere."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, BatchEvent, ComponentLot
from serialtrace.warranty import service as warranty_service

from .conftest import csrf_from

BOARD = trace_service.LotInput(supplier="Микрон", part="MCU board", lot_number="L71033")
SENSOR = trace_service.LotInput(supplier="Sens", part="Sensor", lot_number="S-5")
HOLD = "/api/v1/component-lots/L71033/hold"
RELEASE = "/api/v1/component-lots/L71033/release"


@pytest.fixture
def plant(session, make_batch):
    """Batches with the board lot (one also with a sensor lot, one held on its own), one without it, and a claim
    whose replacement would come from a board-lot batch; committed for the app."""
    _, shipped = make_batch(quantity=1, number="2501A00")
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=shipped)
    claim = warranty_service.register_claim(session, serial=shipped[0], symptom="no_power", author=None,
                                            today=date.today()).claim
    _, board = make_batch(quantity=2, number="2501A01", inputs=[BOARD])
    make_batch(quantity=1, number="2501A02", inputs=[BOARD, SENSOR])
    own, _ = make_batch(quantity=1, number="2501A03", inputs=[BOARD])
    trace_service.set_batch_status(session, batch=own, status="on_hold", reason="QC sampling")
    make_batch(quantity=1, number="2501A04", inputs=[SENSOR])
    session.commit()
    return claim.id, board


def _statuses(session) -> dict[str, str]:
    session.expire_all()
    return dict(session.execute(select(Batch.number, Batch.status)).all())


def test_a_lot_hold_holds_its_batches_and_its_release_frees_only_those(api, session, plant):
    answer = api("quality").post(HOLD, json={"reason": "solder voids"})
    assert answer.status_code == 200, answer.json
    assert {k: answer.json[k] for k in ("lot", "supplier", "part", "status", "hold_reason", "held_by", "batches")} == {
        "lot": "L71033", "supplier": "Микрон", "part": "MCU board", "status": "on_hold",
        "hold_reason": "solder voids", "held_by": "quality", "batches": ["2501A01", "2501A02"]}
    assert _statuses(session) == {"2501A00": "released", "2501A01": "on_hold", "2501A02": "on_hold",
                                  "2501A03": "on_hold", "2501A04": "released"}
    again = api("supervisor").post(HOLD, json={"reason": "again"})
    assert again.status_code == 409 and "already on hold: solder voids" in again.json["message"]
    # The sensor lot holds 2501A02 too: the board lot's release leaves it held for the sensor lot.
    assert api("quality").post("/api/v1/component-lots/S-5/hold", json={"reason": "drift"}).json["batches"] == [
        "2501A04"]
    refused = api("quality").post("/api/v1/component-lots/L71033/release", json={})
    assert refused.status_code == 422 and "reason" in refused.json["message"]
    blank = api("quality").post(RELEASE, json={"reason": "  "})
    assert blank.status_code == 422 and blank.json["details"]["field"] == "reason"
    released = api("admin").post(RELEASE, json={"reason": "X-ray clean"})
    assert released.status_code == 200 and released.json["batches"] == ["2501A01"]
    assert _statuses(session) == {"2501A00": "released", "2501A01": "released", "2501A02": "on_hold",
                                  "2501A03": "on_hold", "2501A04": "on_hold"}
    assert api("quality").post(RELEASE, json={"reason": "twice"}).status_code == 409
    reasons = session.scalars(select(BatchEvent.reason).join(Batch, Batch.id == BatchEvent.batch_id)
                              .where(Batch.number == "2501A01").order_by(BatchEvent.id)).all()
    assert reasons == ["component lot L71033 on hold: solder voids", "component lot L71033 released: X-ray clean"]


def test_a_held_lots_units_scan_amber_get_no_labels_and_are_no_replacements(api, login, session, plant):
    claim_id, board = plant
    assert api("quality").post(HOLD, json={"reason": "solder voids"}).status_code == 200
    client = login("warehouse")
    token = csrf_from(client.get("/batches").get_data(as_text=True))
    scan = client.post("/scan", data={"code": board[0], "csrf_token": token},
                       headers={"Accept": "application/json"}).get_json()
    # The banner names the lot and the reason the batch was held for.
    assert scan["signal"] == "amber" and "batch 2501A01 is on hold: component lot L71033 on hold: solder voids" in (
        scan["reasons"])
    replaced = api("warehouse").post(f"/api/v1/claims/{claim_id}/replace", json={"replacement_serial": board[1]})
    assert replaced.status_code == 409 and board[1] in replaced.json["message"]
    labels = api("production").post("/api/v1/batches/2501A01/labels", json={})
    assert labels.status_code == 409 and "no labels are made" in labels.json["message"]


def test_roles_and_shared_lot_numbers(api, session, plant, make_batch):
    for role in ("warehouse", "coordinator", "engineer", "production"):
        assert api(role).post(HOLD, json={"reason": "x"}).status_code == 403
    make_batch(quantity=1, number="2501A09", inputs=[trace_service.LotInput("Other", "Housing", "L71033")])
    session.commit()
    shared = api("quality").post(HOLD, json={"reason": "voids"})
    assert shared.status_code == 409 and "several parts or suppliers" in shared.json["message"]
    narrowed = api("quality").post(HOLD + "?part=Housing", json={"reason": "cracks"})
    assert narrowed.status_code == 200 and narrowed.json["batches"] == ["2501A09"]
    assert api("quality").post("/api/v1/component-lots/NOPE/hold", json={"reason": "x"}).status_code == 404
    assert session.scalar(select(ComponentLot.status).where(ComponentLot.supplier == "Микрон")) == "released"


def test_the_lot_page_holds_and_releases_with_its_form(login, session, plant):
    assert 'class="lot-hold"' not in login("warehouse").get("/lots/L71033").get_data(as_text=True)
    client = login("quality")
    page = client.get("/lots/L71033").get_data(as_text=True)
    assert 'class="lot-hold"' in page and "Put on hold" in page
    form = {"supplier": "Микрон", "part": "MCU board", "reason": "solder voids"}
    # Without the form token nothing changes.
    assert client.post("/lots/L71033/hold", data=form).status_code == 400
    assert _statuses(session)["2501A01"] == "released"
    done = client.post("/lots/L71033/hold", data={**form, "csrf_token": csrf_from(page)}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "batches held: 2501A01, 2501A02" in text and "solder voids" in text
    assert _statuses(session)["2501A01"] == "on_hold"
    blank = client.post("/lots/L71033/release", data={**form, "reason": " ", "csrf_token": csrf_from(text)})
    assert blank.status_code == 422 and "reason must not be empty" in blank.get_data(as_text=True)
    released = client.post("/lots/L71033/release", data={**form, "reason": "clean", "csrf_token": csrf_from(text)},
                           follow_redirects=True)
    assert "batches released: 2501A01, 2501A02" in released.get_data(as_text=True)
    assert login("warehouse").post("/lots/L71033/hold", data=form).status_code in (400, 403)


def test_a_batch_made_from_a_held_lot_gives_no_replacements_and_scans_with_the_lot(api, login, session, plant,
                                                                                   make_batch):
    claim_id, _ = plant
    assert api("quality").post(HOLD, json={"reason": "solder voids"}).status_code == 200
    _, later = make_batch(quantity=2, number="2501A05", inputs=[BOARD])
    session.commit()
    replaced = api("warehouse").post(f"/api/v1/claims/{claim_id}/replace", json={"replacement_serial": later[0]})
    assert replaced.status_code == 409 and later[0] in replaced.json["message"]
    labels = api("production").post("/api/v1/batches/2501A05/labels", json={})
    assert labels.status_code == 409 and "no labels are made" in labels.json["message"]
    client = login("engineer")
    token = csrf_from(client.get("/batches").get_data(as_text=True))
    scan = client.post("/scan", data={"code": later[1], "csrf_token": token},
                       headers={"Accept": "application/json"}).get_json()
    assert scan["signal"] == "amber" and "batch 2501A05 is on hold: component lot L71033 on hold: solder voids" in (
        scan["reasons"])
    assert api("quality").post(RELEASE, json={"reason": "X-ray clean"}).json["batches"] == ["2501A01", "2501A02",
                                                                                          "2501A05"]
