"""Labels page and API: preview, downloads, print jobs with resume, quarantine labels, roles and errors."""

from __future__ import annotations

import io
import json
import re

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from serialtrace.trace.models import Unit
from serialtrace.warranty.models import Claim, Replacement

from .conftest import csrf_from
from tests.fakeprinter import FakePrinter


@pytest.fixture
def batch(session, make_batch):
    """Batch 2501A00 of 6 units and its serials in unit id order."""
    b, _ = make_batch(6, number="2501A00")
    session.commit()
    return b, list(session.scalars(select(Unit.serial).where(Unit.batch_id == b.id).order_by(Unit.id)))


def _page(client, query="?batch=2501A00"):
    resp = client.get(f"/labels{query}")
    return resp, resp.get_data(as_text=True)


def test_page_shows_preview_downloads_and_printer_form(login, batch):
    client = login("production")
    resp, html = _page(client)
    assert resp.status_code == 200
    assert 'id="label-preview" src="/labels/preview.png?batch=2501A00' in html
    assert "Download PDF" in html and "Send to printer" in html and "6 units" in html
    assert 'href="/labels"' in html  # nav link


def test_preview_is_the_first_label_as_png(login, batch):
    client = login("production")
    resp = client.get("/labels/preview.png?batch=2501A00&template=4x2in")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.data)).convert("L"), text_mode=zxingcpp.TextMode.Plain)
    assert any(b.text.endswith("21" + batch[1][0]) for b in found)


def test_downloads_have_the_right_content_type(login, batch):
    client = login("production")
    _, html = _page(client)
    token = csrf_from(html)
    pdf = client.post("/labels/download", data={"csrf_token": token, "batch": "2501A00", "template": "a4-3x8",
                                                 "format": "pdf"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert 'filename="labels-2501A00.pdf"' in pdf.headers["Content-Disposition"]
    zpl = client.post("/labels/download", data={"csrf_token": token, "batch": "2501A00", "format": "zpl",
                                                 "from": "1", "to": "2"})
    assert zpl.mimetype == "application/zpl"
    text = zpl.get_data(as_text=True)
    assert text.count("^XA") == 2 and f"SN {batch[1][1]}^FS" in text and batch[1][0] not in text
    assert client.post("/labels/download", data={"batch": "2501A00", "format": "pdf"}).status_code == 400


def test_unknown_template_or_batch_is_shown_on_the_page(login, batch):
    client = login("production")
    resp, html = _page(client, "?batch=2501A00&template=nope")
    assert resp.status_code == 422 and "unknown template" in html
    resp, html = _page(client, "?batch=NOPE")
    assert resp.status_code == 404 and "no batch" in html


def test_print_from_the_page_then_resume_a_failed_job(login, batch):
    client = login("production")
    _, html = _page(client)
    token = csrf_from(html)
    printer = FakePrinter(listening=False)
    resp = client.post("/labels/print", data={"csrf_token": token, "batch": "2501A00", "template": "roll-50x25",
                                              "printer": printer.address}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    job_id = int(re.search(r"print job (\d+) failed after 0 of 6 labels", html).group(1))
    assert "cannot reach printer" in html
    assert "Resume" in html and "Reprint range" in html and 'class="job-failed"' in html

    printer.listen()
    resp = client.post(f"/labels/jobs/{job_id}/resume", data={"csrf_token": token}, follow_redirects=True)
    assert f"print job {job_id}: 6 labels sent" in resp.get_data(as_text=True)
    printer.wait_for(1)
    resp = client.post(f"/labels/jobs/{job_id}/reprint", data={"csrf_token": token, "from": "4", "to": "5"},
                       follow_redirects=True)
    assert f"print job {job_id + 1}: 2 labels sent" in resp.get_data(as_text=True)
    printer.wait_for(2)
    printer.close()
    assert printer.serials() == batch[1] + batch[1][4:6]
    assert client.post(f"/labels/jobs/{job_id}/resume", data={"csrf_token": token}).status_code == 409


def test_roles(login, batch):
    warehouse = login("warehouse")
    resp, html = _page(warehouse, "")
    assert resp.status_code == 200 and "quarantine-form" in html and "Send to printer" not in html
    token = csrf_from(html)
    assert warehouse.post("/labels/print", data={"csrf_token": token, "batch": "2501A00",
                                                 "printer": "127.0.0.1:9100"}).status_code == 403
    assert warehouse.get("/labels/preview.png?batch=2501A00").status_code == 403
    assert login("coordinator").get("/labels").status_code == 403
    production = login("production")
    _, html = _page(production)
    assert "quarantine-form" not in html
    assert login("admin").get("/labels?batch=2501A00").status_code == 200


def test_quarantine_label_for_a_claim(login, session, batch):
    unit = session.scalars(select(Unit).where(Unit.serial == batch[1][0])).one()
    session.add(Claim(number="C-2025-0001", unit_id=unit.id, symptom="no display"))
    session.commit()
    client = login("warehouse")
    _, html = _page(client, "")
    token = csrf_from(html)
    resp = client.post("/labels/quarantine", data={"csrf_token": token, "claim": "C-2025-0001",
                                                   "serial": unit.serial, "format": "png"})
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.data)).convert("L"))
    assert [b.text for b in found] == [unit.serial]
    assert client.post("/labels/quarantine", data={"csrf_token": token, "claim": "C-404", "serial": "1",
                                                   "format": "pdf"}).status_code == 404
    production = login("production")
    own_token = csrf_from(_page(production)[1])
    assert production.post("/labels/quarantine", data={"csrf_token": own_token, "claim": "C-2025-0001",
                                                       "serial": unit.serial}).status_code == 403


def test_api_labels_file(api, batch):
    resp = api("production").post("/api/v1/batches/2501A00/labels", json={"template": "roll-50x25", "format": "zpl"})
    assert resp.status_code == 200 and resp.mimetype == "application/zpl"
    assert resp.get_data(as_text=True).count("^XA") == 6
    pdf = api("admin").post("/api/v1/batches/2501A00/labels", json={"format": "pdf"})
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert api("warehouse").post("/api/v1/batches/2501A00/labels", json={}).status_code == 403
    assert api("production").post("/api/v1/batches/NOPE/labels", json={}).status_code == 404


def test_api_label_errors_name_field_and_rule(make_runtime, tokens, batch, tmp_path):
    from serialtrace.web import create_app

    (tmp_path / "bad.json").write_text(json.dumps({"name": "bad", "width_mm": 50, "height_mm": 25, "colour": "red"}))
    client = create_app(runtime=make_runtime(label_templates_dir=str(tmp_path))).test_client()

    def post(body):
        return client.post("/api/v1/batches/2501A00/labels", json=body,
                           headers={"Authorization": f"Bearer {tokens['production']}"})

    resp = post({"template": "bad"})
    body = resp.get_json()
    assert resp.status_code == 422 and body["error"] == "invalid_label"
    assert body["details"]["field"] == "colour" and "unknown template field" in body["details"]["rule"]
    unknown = post({"template": "nope"}).get_json()
    assert unknown["details"]["field"] == "template"
    bad_format = post({"format": "gif"})
    assert bad_format.status_code == 422 and bad_format.get_json()["details"] == {"field": "format"}


def test_api_print_jobs(api, batch):
    printer = FakePrinter(listening=False)
    caller = api("production")
    created = caller.post("/api/v1/print-jobs", json={"batch": "2501A00", "template": "roll-50x25",
                                                      "printer": printer.address, "from": 1, "to": 4})
    job = created.get_json()
    assert created.status_code == 201 and job["state"] == "failed" and "cannot reach printer" in job["error"]
    assert (job["from"], job["to"], job["next_index"], job["total"]) == (1, 4, 1, 4)
    listed = caller.get("/api/v1/print-jobs").get_json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    printer.listen()
    resumed = caller.post(f"/api/v1/print-jobs/{job['id']}/resume")
    assert resumed.status_code == 200 and resumed.get_json()["state"] == "done"
    printer.wait_for(1)
    printer.close()
    assert printer.serials() == batch[1][1:5]
    again = caller.post(f"/api/v1/print-jobs/{job['id']}/resume")
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_transition"
    bad = caller.post("/api/v1/print-jobs", json={"batch": "2501A00", "printer": "nohost"})
    assert bad.status_code == 422 and bad.get_json()["details"] == {"field": "printer"}
    out_of_range = caller.post("/api/v1/print-jobs", json={"batch": "2501A00", "printer": "h:9100", "to": 6})
    assert out_of_range.status_code == 422 and out_of_range.get_json()["details"] == {"field": "to"}
    resp = api("warehouse").post("/api/v1/print-jobs", json={"batch": "2501A00", "printer": "h:9100"})
    assert resp.status_code == 403
    assert api("warehouse").get("/api/v1/print-jobs").status_code == 403
    assert caller.post("/api/v1/print-jobs/999/resume").status_code == 404


def test_openapi_lists_the_label_endpoints(app):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/batches/{number}/labels", "/print-jobs", "/print-jobs/{id}/resume"} <= set(paths)


def test_a_big_job_prints_in_the_background_with_progress(tmp_path, monkeypatch):
    """Over the in-request limit, the page answers at once and a thread sends every label exactly once."""
    import time

    from serialtrace.accounts import service as accounts_service
    from serialtrace.labelling.queries import get_print_job
    from serialtrace.migrate import upgrade
    from serialtrace.runtime import Runtime
    from serialtrace.trace import service
    from serialtrace.web import create_app, printing

    monkeypatch.setattr(printing, "SYNC_PRINT_LIMIT", 3)
    rt = Runtime.from_env({"database_url": f"sqlite:///{tmp_path / 'bg.sqlite'}", "secret_key": "t"})
    upgrade(rt.engine)
    with rt.transaction() as s:
        accounts_service.create_user(s, username="pat", role="production", password="print-pass-1")
        service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")
        _, serials = service.register_batch(s, product="PR-100", quantity=12, number="BIG1", scheme=rt.serial_scheme())
    client = create_app(runtime=rt).test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "pat", "password": "print-pass-1", "csrf_token": token})
    token = csrf_from(client.get("/labels").get_data(as_text=True))
    printer = FakePrinter()
    html = client.post("/labels/print", data={"csrf_token": token, "batch": "BIG1", "template": "roll-50x25",
                                              "printer": printer.address}, follow_redirects=True).get_data(as_text=True)
    job_id = int(re.search(r"print job (\d+) \(12 labels\) is printing in the background", html).group(1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with rt.transaction() as s:
            job = get_print_job(s, job_id)
            if job.state in ("done", "failed"):
                break
        time.sleep(0.1)
    assert job.state == "done" and job.next_index == 12
    printer.close()
    assert sorted(printer.serials()) == sorted(serials)
    rt.engine.dispose()


def _quarantine(client, serial):
    token = csrf_from(_page(client, "")[1])
    return client.post("/labels/quarantine", data={"csrf_token": token, "claim": "C-2025-0002", "serial": serial,
                                                   "format": "png"})


def test_quarantine_label_refuses_a_serial_that_is_not_the_claims_unit(login, session, batch):
    claimed, other = (session.scalars(select(Unit).where(Unit.serial == s)).one() for s in batch[1][:2])
    session.add(Claim(number="C-2025-0002", unit_id=claimed.id, symptom="no display"))
    session.commit()
    resp = _quarantine(login("warehouse"), other.serial)
    assert resp.status_code == 422
    assert (f"serial {other.serial} is not the unit of claim C-2025-0002 nor its replacement"
            in resp.get_data(as_text=True))


def test_quarantine_label_refuses_a_serial_that_is_not_the_claims_unit_as_json(login, session, batch):
    claimed, other = (session.scalars(select(Unit).where(Unit.serial == s)).one() for s in batch[1][:2])
    session.add(Claim(number="C-2025-0002", unit_id=claimed.id, symptom="no display"))
    session.commit()
    client = login("warehouse")
    token = csrf_from(_page(client, "")[1])
    resp = client.post("/labels/quarantine", headers={"Accept": "application/json"},
                       data={"csrf_token": token, "claim": "C-2025-0002", "serial": other.serial})
    assert resp.status_code == 422 and resp.get_json()["details"] == {"field": "serial"}


def test_quarantine_label_accepts_the_unit_handed_out_in_replacement(login, session, batch):
    claimed, handed_out, stranger = (session.scalars(select(Unit).where(Unit.serial == s)).one()
                                     for s in batch[1][:3])
    claim = Claim(number="C-2025-0002", unit_id=claimed.id, symptom="no display")
    session.add(claim)
    session.flush()
    session.add(Replacement(claim_id=claim.id, returned_unit_id=claimed.id, replacement_unit_id=handed_out.id))
    session.commit()
    client = login("warehouse")
    resp = _quarantine(client, handed_out.serial)
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.data)).convert("L"))
    assert [b.text for b in found] == [handed_out.serial]
    assert _quarantine(client, stranger.serial).status_code == 422


def test_quarantine_label_reads_the_station_from_the_station_cookie(login, session, batch, monkeypatch):
    from serialtrace.web.ui import common, labels

    unit = session.scalars(select(Unit).where(Unit.serial == batch[1][0])).one()
    session.add(Claim(number="C-2025-0002", unit_id=unit.id, symptom="no display"))
    session.commit()
    seen = []
    monkeypatch.setattr(labels, "quarantine_label", lambda *args, **kw: seen.append(args) or b"%PDF")
    client = login("warehouse")
    client.set_cookie(common.STATION_COOKIE, "desk-7")
    assert _quarantine(client, unit.serial).status_code == 200
    assert seen[0][0] == "C-2025-0002" and seen[0][1] == unit.serial and seen[0][3] == "desk-7"
