"""8D / CAPA records: one click from a flagged row, steps with optimistic locking, completion and close rules,
links shown on the claim, batch and lot pages, roles, CSRF and bad input (pages and API)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from serialtrace.quality import eightd
from serialtrace.quality.models import EightD, EightDLink, EightDStep
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import ComponentLot
from serialtrace.warranty import service as warranty_service

from .conftest import csrf_from

BAD_LOT = ("Shenzhen PCB Co.", "board", "L71033")
GOOD_LOT = ("Shenzhen PCB Co.", "board", "L71034")


@pytest.fixture
def flagged(session, make_batch, users):
    """Two shipped batches of 40; ten claims on the first, whose batch and board lot are flagged."""
    bad, bad_serials = make_batch(quantity=40, number="2501B00", inputs=[trace_service.LotInput(*BAD_LOT)])
    _, good_serials = make_batch(quantity=40, number="2501B01", inputs=[trace_service.LotInput(*GOOD_LOT)])
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3),
                                  serials=bad_serials + good_serials)
    claims = [warranty_service.register_claim(session, serial=s, symptom="no_power", author=None,
                                              today=date(2025, 3, 3)).claim for s in bad_serials[:10]]
    session.commit()
    lot_id = session.scalar(select(ComponentLot.id).where(ComponentLot.lot_number == BAD_LOT[2]))
    return {"batch": bad, "lot_id": lot_id, "claims": claims}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _post_form(client, page_url: str, action: str, data: dict):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def test_one_click_on_a_flagged_batch_opens_a_linked_8d_and_a_second_click_reuses_it(login, session, flagged):
    client = login("quality")
    page = client.get("/quality/batches").get_data(as_text=True)
    assert page.count('class="open-eightd') == 2  # the flagged batch and the flagged lot, nothing else
    resp = _post_form(client, "/quality/batches", "/quality/eightd/open",
                      {"kind": "batch", "id": str(flagged["batch"].id), "q": "0.05", "min_units": "30",
                       "min_claims": "3"})
    assert resp.status_code == 302 and resp.location.endswith("/quality/eightd/8D-000001")
    record = session.scalars(select(EightD)).one()
    assert record.title == "Batch 2501B00 (PR-100): claim rate 25.0 % (flagged)"
    links = session.scalars(select(EightDLink).where(EightDLink.eight_d_id == record.id)).all()
    assert {(link.kind, link.target_id) for link in links} == \
        {("batch", flagged["batch"].id)} | {("claim", c.id) for c in flagged["claims"]}
    assert _count(session, EightDStep) == 8
    again = _post_form(client, "/quality/batches", "/quality/eightd/open",
                       {"kind": "batch", "id": str(flagged["batch"].id)})
    assert again.location.endswith("/quality/eightd/8D-000001") and _count(session, EightD) == 1
    shown = client.get(again.location).get_data(as_text=True)
    assert "already open for this row" in shown and "2501B00" in shown
    # The lot's own click makes the lot's own record, linked to the same claims.
    lot = _post_form(client, "/quality/batches", "/quality/eightd/open",
                     {"kind": "lot", "id": str(flagged["lot_id"])})
    assert lot.location.endswith("/quality/eightd/8D-000002")
    assert session.scalar(select(EightD.title).where(EightD.number == "8D-000002")).startswith(
        "Component lot L71033 (Shenzhen PCB Co., board): claim rate 25.0 %")


def test_opening_from_an_unknown_row_is_a_422_and_makes_nothing(login, session, flagged):
    client = login("quality")
    for data in ({"kind": "batch", "id": "999999"}, {"kind": "unit", "id": "1"}, {"kind": "batch", "id": "x"},
                 {"kind": "batch", "id": str(flagged["batch"].id), "q": "2"}):
        resp = _post_form(client, "/quality/batches", "/quality/eightd/open", data)
        assert resp.status_code == 422, (data, resp.status_code)
    assert _count(session, EightD) == 0


def _step(client, number: str, discipline: str, **data):
    page = client.get(f"/quality/eightd/{number}").get_data(as_text=True)
    version = re.search(r'data-version="(\d+)"', page).group(1)
    form = {"csrf_token": csrf_from(page), "version": version, "owner": "", "due_on": "", "text": "", **data}
    return client.post(f"/quality/eightd/{number}/steps/{discipline}", data=form)


def test_steps_complete_in_order_with_text_and_owner_and_the_record_closes_after_d8(login, session, users):
    record = eightd.open_eightd(session, title="Boards fail after a week", author=None)
    session.commit()
    number = record.number
    client = login("supervisor")
    no_text = _step(client, number, "D1", owner="engineer", action="complete")
    assert no_text.status_code == 422 and "write what step D1 found" in no_text.get_data(as_text=True)
    no_owner = _step(client, number, "D1", text="Team: quality, engineering", action="complete")
    assert no_owner.status_code == 422 and "give step D1 an owner" in no_owner.get_data(as_text=True)
    early = _step(client, number, "D3", owner="engineer", text="Stock quarantined", action="complete")
    assert early.status_code == 409 and "complete D1, D2 before D3" in early.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(EightDStep).where(EightDStep.done_at.is_not(None))) == 0
    close = client.post(f"/quality/eightd/{number}/close",
                        data={"csrf_token": csrf_from(client.get(f"/quality/eightd/{number}").get_data(as_text=True)),
                              "version": "1"})
    assert close.status_code == 409 and "complete D8 before closing" in close.get_data(as_text=True)
    for d in eightd.DISCIPLINES:
        resp = _step(client, number, d, owner="engineer", text=f"{d} done", due_on="2030-01-31", action="complete")
        assert resp.status_code == 302, (d, resp.get_data(as_text=True)[:500])
    done = _step(client, number, "D2", owner="quality", text="changed later")
    assert done.status_code == 409  # a completed step keeps what it was signed off with
    page = client.get(f"/quality/eightd/{number}").get_data(as_text=True)
    closed = client.post(f"/quality/eightd/{number}/close",
                         data={"csrf_token": csrf_from(page), "version": re.search(r'data-version="(\d+)"',
                                                                                   page).group(1)})
    assert closed.status_code == 302
    session.expire_all()
    assert session.get(EightD, record.id).state == "closed"
    assert _step(client, number, "D1", text="after close").status_code == 409


def test_a_stale_version_is_a_409_and_changes_nothing(login, session, users, api):
    record = eightd.open_eightd(session, title="Cracked housings", author=None)
    session.commit()
    client = login("quality")
    page = client.get(f"/quality/eightd/{record.number}").get_data(as_text=True)
    token = csrf_from(page)
    first = client.post(f"/quality/eightd/{record.number}/steps/D2",
                        data={"csrf_token": token, "version": "1", "owner": "quality", "text": "Cracks at the clip"})
    assert first.status_code == 302
    stale = client.post(f"/quality/eightd/{record.number}/steps/D2",
                        data={"csrf_token": token, "version": "1", "owner": "", "text": "overwrite"})
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    session.expire_all()
    step = session.scalars(select(EightDStep).where(EightDStep.eight_d_id == record.id,
                                                    EightDStep.discipline == "D2")).one()
    assert step.text == "Cracks at the clip" and step.owner_id == users["quality"].id
    # The API names the version the same way.
    resp = api("quality").post(f"/api/v1/eightd/{record.number}/steps/D2", json={"version": 1, "text": "x"})
    assert resp.status_code == 409 and resp.get_json()["details"]["version"] == 2
    ok = api("quality").post(f"/api/v1/eightd/{record.number}/steps/d2", json={"version": 2, "due_on": "2030-02-01"})
    assert ok.status_code == 200 and ok.get_json()["version"] == 3
    assert ok.get_json()["steps"][1] == {"discipline": "D2", "name": "Problem description", "owner": "quality",
                                         "due_on": "2030-02-01", "text": "Cracks at the clip", "done_at": None,
                                         "overdue": False}


def test_bad_step_input_is_a_422_naming_the_field(login, session, users, api):
    users["production"].active = False
    record = eightd.open_eightd(session, title="Seals leak", author=None)
    session.commit()
    client = login("quality")
    for data, field_text in (({"owner": "nobody-here"}, "the owner must be an active user"),
                             ({"owner": "production"}, "the owner must be an active user"),
                             ({"due_on": "31.02.2030"}, "is not a real calendar date")):
        resp = _step(client, record.number, "D1", **data)
        assert resp.status_code == 422 and field_text in resp.get_data(as_text=True), data
    assert _step(client, record.number, "D9", text="x").status_code == 404
    caller = api("quality")
    assert caller.post(f"/api/v1/eightd/{record.number}/steps/D1", json={"version": 1, "colour": "x"}
                       ).get_json()["details"]["field"] == "colour"
    assert caller.post(f"/api/v1/eightd/{record.number}/steps/D1", json={"version": 1}).status_code == 422
    assert caller.post(f"/api/v1/eightd/{record.number}/steps/D1", json={"version": 1, "due_on": "soon"}
                       ).status_code == 422
    assert caller.post("/api/v1/eightd", json={"title": ""}).status_code == 422
    assert caller.post("/api/v1/eightd", json={"title": "x", "claims": ["CL-999999"]}).get_json()["details"] == \
        {"field": "claim"}
    session.expire_all()
    assert session.get(EightD, record.id).version == 1 and _count(session, EightD) == 1


def test_links_show_on_the_claim_batch_and_lot_pages(login, session, flagged, api):
    claim = flagged["claims"][0]
    resp = api("quality").post("/api/v1/eightd", json={"title": "Board lot L71033", "claims": [claim.number],
                                                       "batches": [flagged["batch"].id], "lots": [flagged["lot_id"]]})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["number"] == "8D-000001" and [s["discipline"] for s in body["steps"]] == list(eightd.DISCIPLINES)
    assert {(link["kind"], link["label"]) for link in body["links"]} == \
        {("claim", claim.number), ("batch", "2501B00"), ("lot", "L71033")}
    for role in ("quality", "engineer", "coordinator"):
        client = login(role)
        for url, section in ((f"/claims/{claim.number}", "claim-eightds"), ("/batches/2501B00", "batch-eightds"),
                             ("/lots/L71033", f"lot-eightds-{flagged['lot_id']}")):
            page = client.get(url).get_data(as_text=True)
            found = re.search(rf'<section class="eightd-links" id="{section}">(.*?)</section>', page, re.S)
            assert found and "8D-000001" in found.group(1) and "Open" in found.group(1), (role, url)
    # Warehouse reads the claim and the batch but not 8Ds: no section at all.
    warehouse = login("warehouse")
    assert "eightd-links" not in warehouse.get(f"/claims/{claim.number}").get_data(as_text=True)
    assert "eightd-links" not in warehouse.get("/batches/2501B00").get_data(as_text=True)
    # Another claim of the batch has no 8D of its own.
    other = login("quality").get(f"/claims/{flagged['claims'][1].number}").get_data(as_text=True)
    assert "No 8D is linked." in other


def test_links_are_added_once_removed_and_unknown_targets_refused(login, session, flagged, api):
    caller = api("supervisor")
    number = caller.post("/api/v1/eightd", json={"title": "t"}).get_json()["number"]
    claim = flagged["claims"][0].number
    assert len(caller.post(f"/api/v1/eightd/{number}/links", json={"kind": "claim", "claim": claim}
                           ).get_json()["links"]) == 1
    again = caller.post(f"/api/v1/eightd/{number}/links", json={"kind": "claim", "claim": claim})
    assert again.status_code == 200 and len(again.get_json()["links"]) == 1
    unknown = caller.post(f"/api/v1/eightd/{number}/links", json={"kind": "batch", "id": 999999})
    assert unknown.status_code == 422 and unknown.get_json()["details"] == {"field": "batch"}
    assert caller.post(f"/api/v1/eightd/{number}/links", json={"kind": "lot"}).status_code == 422
    removed = caller.post(f"/api/v1/eightd/{number}/links",
                          json={"kind": "claim", "claim": claim, "remove": True})
    assert removed.status_code == 200 and removed.get_json()["links"] == []
    assert caller.post(f"/api/v1/eightd/{number}/links", json={"kind": "claim", "claim": claim, "remove": True}
                       ).status_code == 404
    # The page's form links by number.
    client = login("quality")
    resp = _post_form(client, f"/quality/eightd/{number}", f"/quality/eightd/{number}/links",
                      {"kind": "batch", "ref": "2501B01",
                       "version": str(caller.get(f"/api/v1/eightd/{number}").get_json()["version"])})
    assert resp.status_code == 302
    bad = _post_form(client, f"/quality/eightd/{number}", f"/quality/eightd/{number}/links",
                     {"kind": "batch", "ref": "NOPE", "version": "99"})
    assert bad.status_code == 422 and "no batch" in bad.get_data(as_text=True)


def test_the_list_puts_open_records_first_and_marks_overdue_steps(login, session, users, api):
    late = eightd.open_eightd(session, title="Late one", author=None)
    eightd.edit_step(session, late, "D1", version=1, changes={"owner": "quality", "due_on": date(2020, 1, 1)})
    done = eightd.open_eightd(session, title="Done one", author=None)
    for d in eightd.DISCIPLINES:
        eightd.edit_step(session, done, d, version=done.version, changes={"owner": "quality", "text": "ok"})
        eightd.complete_step(session, done, d, version=done.version)
    eightd.close_eightd(session, done)
    fresh = eightd.open_eightd(session, title="Fresh one", author=None)
    session.commit()
    page = login("engineer").get("/quality/eightd").get_data(as_text=True)
    order = re.findall(r'<tr id="eightd-(8D-\d+)" data-state="(\w+)"( class="breached")?', page)
    assert order == [(fresh.number, "open", ""), (late.number, "open", ' class="breached"'),
                     (done.number, "closed", "")]
    assert "Overdue: D1" in page
    overdue = login("quality").get("/quality/eightd?overdue=1").get_data(as_text=True)
    assert late.number in overdue and fresh.number not in overdue
    closed = login("quality").get("/quality/eightd?state=closed&q=done").get_data(as_text=True)
    assert done.number in closed and late.number not in closed
    assert login("quality").get("/quality/eightd?state=bogus").status_code == 422
    listed = api("coordinator").get("/api/v1/eightd?overdue=true").get_json()["eightds"]
    assert [(r["number"], r["overdue"]) for r in listed] == [(late.number, ["D1"])]
    # The downloads keep the list's filters: only the late record, its overdue step in its own column.
    assert 'id="eightd-download-csv"' in overdue
    csv = login("engineer").get("/quality/eightd.csv?overdue=1")
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert csv.status_code == 200 and lines[0].startswith("number,title,state,done,current,current_due,overdue")
    assert len(lines) == 2 and lines[1].startswith(f"{late.number},Late one,open,0,D1,2020-01-01,D1,")
    xlsx = login("coordinator").get("/quality/eightd.xlsx?state=closed")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert xlsx.status_code == 200 and rows[0][:3] == ("number", "title", "state")
    assert [r[:4] for r in rows[1:]] == [(done.number, "Done one", "closed", 8)]


def test_roles_warehouse_refused_engineer_reads_only(login, session, users, api):
    record = eightd.open_eightd(session, title="Loose screws", author=None)
    session.commit()
    warehouse = login("warehouse")
    assert warehouse.get("/quality/eightd").status_code == 403
    assert warehouse.get("/quality/eightd.csv").status_code == 403
    assert warehouse.get("/quality/eightd.xlsx").status_code == 403
    assert warehouse.get(f"/quality/eightd/{record.number}").status_code == 403
    assert api("warehouse").get("/api/v1/eightd").status_code == 403
    engineer = login("engineer")
    page = engineer.get(f"/quality/eightd/{record.number}").get_data(as_text=True)
    assert "Loose screws" in page and "step-form" not in page and "link-form" not in page
    token = csrf_from(engineer.get("/claims").get_data(as_text=True))
    for url in (f"/quality/eightd/{record.number}/steps/D1", f"/quality/eightd/{record.number}/close",
                f"/quality/eightd/{record.number}/links", "/quality/eightd", "/quality/eightd/open"):
        assert engineer.post(url, data={"csrf_token": token, "version": "1", "text": "x"}).status_code == 403, url
    assert api("engineer").get(f"/api/v1/eightd/{record.number}").status_code == 200
    assert api("engineer").post(f"/api/v1/eightd/{record.number}/steps/D1",
                                json={"version": 1, "text": "x"}).status_code == 403
    assert api("coordinator").post("/api/v1/eightd", json={"title": "x"}).status_code == 403
    session.expire_all()
    assert session.get(EightD, record.id).version == 1 and _count(session, EightD) == 1


def test_forms_without_the_csrf_token_are_refused(login, session, users, flagged):
    record = eightd.open_eightd(session, title="No token", author=None)
    session.commit()
    client = login("quality")
    for url, data in ((f"/quality/eightd/{record.number}/steps/D1", {"version": "1", "text": "x"}),
                      ("/quality/eightd/open", {"kind": "batch", "id": str(flagged["batch"].id)}),
                      ("/quality/eightd", {"title": "x"})):
        assert client.post(url, data=data).status_code == 400, url
    session.expire_all()
    assert _count(session, EightD) == 1 and session.get(EightD, record.id).version == 1


def test_api_closes_only_after_d8_and_a_missing_record_is_404(session, users, api):
    caller = api("quality")
    number = caller.post("/api/v1/eightd", json={"title": "API only"}).get_json()["number"]
    assert caller.post(f"/api/v1/eightd/{number}/close", json={}).status_code == 409
    for d in eightd.DISCIPLINES:
        resp = caller.post(f"/api/v1/eightd/{number}/steps/{d}",
                           json={"version": caller.get(f"/api/v1/eightd/{number}").get_json()["version"],
                                 "owner": "quality", "text": "ok", "complete": True})
        assert resp.status_code == 200, resp.get_json()
    assert caller.post(f"/api/v1/eightd/{number}/close", json={"extra": 1}).status_code == 422
    closed = caller.post(f"/api/v1/eightd/{number}/close", json={})
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert caller.post(f"/api/v1/eightd/{number}/close", json={}).status_code == 409
    assert caller.get("/api/v1/eightd/8D-999999").status_code == 404


def test_the_drill_down_pages_open_the_8d_and_list_it(login, session, flagged):
    client = login("quality")
    batch_page = f"/quality/batches/{flagged['batch'].id}"
    assert 'class="open-eightd' in client.get(batch_page).get_data(as_text=True)
    first = _post_form(client, batch_page, "/quality/eightd/open", {"kind": "batch", "id": str(flagged["batch"].id)})
    again = _post_form(client, batch_page, "/quality/eightd/open", {"kind": "batch", "id": str(flagged["batch"].id)})
    assert first.location == again.location and _count(session, EightD) == 1
    assert "8D-000001" in client.get(batch_page).get_data(as_text=True)
    lot_page = f"/quality/lots/{flagged['lot_id']}"
    assert 'class="open-eightd' in client.get(lot_page).get_data(as_text=True)
    assert 'class="open-eightd' not in login("supervisor").get("/quality/eightd").get_data(as_text=True)
