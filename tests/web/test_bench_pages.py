"""The engineers' pages: the test queue (order, take, scan), the test bench form on the case page (pass, fail by
limits, a refusal shown next to its field with the typed values kept, a correction), dispositions, the failure-code
lists and the procedure editor; role refusals and CSRF, each changing nothing."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select, update

from serialtrace.accounts import service as accounts_service
from serialtrace.trace import service as trace_service
from serialtrace.warranty import models, procedures
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import Claim, DispositionRecord, FailureCode, UnitCase
from serialtrace.warranty.models import TestRecord as Record
from serialtrace.warranty.models import TestStepResult as StepResult

from .conftest import PASSWORD, csrf_from
from tests import images

STEPS = [{"name": "Visual check", "kind": "pass_fail"},
         {"name": "Supply current", "kind": "measure", "low": 10, "high": 20, "unit": "mA"}]


@pytest.fixture
def settings_overrides(tmp_path):
    """Attachments are kept in a folder of the test's own."""
    return {"instance_dir": str(tmp_path)}


@pytest.fixture
def cases(session, users, product, make_batch):
    """Three received cases (claims P3, P3, P1 in registration order) of a product with a two-step procedure."""
    _, serials = make_batch(quantity=4)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[:3])
    procedures.publish_procedure(session, product_id=product.id, steps=STEPS, author=users["quality"])
    ids = []
    for serial in serials[:3]:
        claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=users["warehouse"],
                                                today=date.today()).claim
        case_id = session.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one()
        warranty_service.receive_case(session, case_id=case_id, serial=serial, author=users["warehouse"])
        ids.append(case_id)
    session.execute(update(Claim).where(Claim.unit_id == session.get(UnitCase, ids[2]).unit_id).values(priority="P1"))
    session.commit()
    return ids, serials


def _post(client, url, data=None, page=None, **kw):
    """POST a form with the CSRF token of `page` (default: the URL itself)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(html), **(data or {})}, **kw)


def _state(session, case_id):
    session.expire_all()
    return session.get(UnitCase, case_id).state


def _records(session):
    return session.scalar(select(func.count()).select_from(Record))


# The test queue ---------------------------------------------------------------------------------------------------

def test_queue_lists_cases_ranked_with_a_take_button_each(login, cases):
    ids, serials = cases
    resp = login("engineer").get("/test-queue")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    # Priority P1 first, then the oldest received.
    assert re.findall(r'<tr data-case="(\d+)"', html) == [str(ids[2]), str(ids[0]), str(ids[1])]
    assert all(f'action="/cases/{i}/take"' in html for i in ids)
    assert 'href="/claims/' in html


def test_take_opens_the_case_and_another_engineer_is_refused_with_the_reason(app, login, session, users, cases):
    ids, serials = cases
    engineer = login("engineer")
    resp = _post(engineer, f"/cases/{ids[0]}/take", page="/test-queue")
    assert (resp.status_code, resp.headers["Location"]) == (302, f"/cases/{ids[0]}")
    assert _state(session, ids[0]) == "in_test"
    html = engineer.get("/test-queue").get_data(as_text=True)
    row = re.search(rf'<tr data-case="{ids[0]}".*?</tr>', html, re.S).group(0)
    assert "engineer" in row and "/take" not in row
    accounts_service.create_user(session, username="boris", role="engineer", password=PASSWORD)
    session.commit()
    other = app.test_client()
    page = other.get("/login").get_data(as_text=True)
    other.post("/login", data={"username": "boris", "password": PASSWORD, "csrf_token": csrf_from(page)})
    refused = _post(other, f"/cases/{ids[0]}/take", page="/test-queue")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert 'id="form-error"' in text and "already in test with engineer" in text
    session.expire_all()
    assert session.get(UnitCase, ids[0]).engineer_id == users["engineer"].id


def test_scanning_a_queued_serial_opens_its_case_and_another_says_so(login, cases):
    ids, serials = cases
    client = login("engineer")
    found = client.get(f"/test-queue?serial={serials[1]}")
    assert (found.status_code, found.headers["Location"]) == (302, f"/cases/{ids[1]}")
    missing = client.get(f"/test-queue?serial={serials[3]}")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 404 and f"{serials[3]} is not in the test queue" in html
    assert 'aria-invalid="true"' in html and f'value="{serials[3]}"' in html


def test_the_queue_page_reads_the_same_few_statements_however_many_cases(login, session, cases, make_batch):
    from sqlalchemy import event

    ids, serials = cases
    client = login("engineer")
    engine = session.get_bind().engine
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    def statements() -> list[str]:
        seen.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/test-queue").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return list(seen)

    few = statements()
    _, more = make_batch(quantity=5, number="2501B00")
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=more)
    for serial in more:
        claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                                today=date.today()).claim
        case_id = session.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one()
        warranty_service.receive_case(session, case_id=case_id, serial=serial, author=None)
    session.commit()
    many = statements()
    queue = [s for s in many if "unit_case" in s]
    assert len(many) == len(few) and len(queue) == 1 and "LIMIT" in queue[0].upper()


def test_an_empty_queue_says_so(login, users):
    html = login("quality").get("/test-queue").get_data(as_text=True)
    assert 'id="queue-empty"' in html


# The test bench form ----------------------------------------------------------------------------------------------

def _test_form(**extra):
    return {"steps[0].passed": "pass", "steps[1].value": "15", "verdict": "confirmed_defect",
            "failure.mode": "solder_joint_crack", "notes": "cracked joint at J3", **extra}


def test_the_case_page_shows_the_procedure_as_the_form(login, cases):
    ids, _ = cases
    html = login("engineer").get(f"/cases/{ids[0]}").get_data(as_text=True)
    assert 'name="steps[0].passed"' in html and 'name="steps[1].value"' in html
    assert "10 to 20 mA" in html and 'data-low="10' in html
    assert 'name="failure.location"' in html and 'value="no_fault_found"' in html
    assert 'id="submit-test"' in html


def test_a_passing_test_is_recorded_with_its_steps(login, session, cases):
    ids, _ = cases
    resp = _post(login("engineer"), f"/cases/{ids[0]}/tests", _test_form(), page=f"/cases/{ids[0]}")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    record = session.scalars(select(Record)).one()
    steps = session.scalars(select(StepResult).order_by(StepResult.position)).all()
    assert (record.verdict, record.failure_mode, record.notes) == ("confirmed_defect", "solder_joint_crack",
                                                                   "cracked joint at J3")
    assert [(s.name, s.value, s.passed) for s in steps] == [("Visual check", None, True), ("Supply current", 15, True)]
    assert _state(session, ids[0]) == "tested"


def test_a_value_outside_the_limits_fails_its_step(login, session, cases):
    ids, _ = cases
    resp = _post(login("engineer"), f"/cases/{ids[0]}/tests", _test_form(**{"steps[1].value": "25,5"}),
                 page=f"/cases/{ids[0]}")
    assert resp.status_code == 302
    step = session.scalars(select(StepResult).where(StepResult.name == "Supply current")).one()
    assert (step.value, step.passed) == (25.5, False)
    html = login("engineer").get(f"/cases/{ids[0]}").get_data(as_text=True)
    assert "<strong>fail</strong>" in html


@pytest.mark.parametrize(("field", "value", "words"), [
    ("steps[1].value", "abc", "type the measured value as a number"),
    ("failure.mode", "bogus", "unknown"),
    ("verdict", "", "unknown verdict"),
])
def test_a_refused_test_shows_the_reason_at_its_field_and_keeps_what_was_typed(login, session, cases, field, value,
                                                                                 words):
    ids, _ = cases
    resp = _post(login("engineer"), f"/cases/{ids[0]}/tests", _test_form(**{field: value}), page=f"/cases/{ids[0]}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(rf'name="{re.escape(field)}"[^>]*aria-invalid="true"', html), html
    assert words in html.split('id="form-error">')[1].split("<")[0]
    assert "cracked joint at J3</textarea>" in html
    if field != "steps[1].value":
        assert 'value="15"' in html
    assert 'value="pass" required checked' in html
    assert _records(session) == 0 and _state(session, ids[0]) == "received"


def test_a_correction_supersedes_the_record_and_both_stay_visible(login, session, cases):
    ids, _ = cases
    client = login("engineer")
    _post(client, f"/cases/{ids[0]}/tests", _test_form(), page=f"/cases/{ids[0]}")
    first = session.scalars(select(Record)).one().id
    prefilled = client.get(f"/cases/{ids[0]}?correct={first}").get_data(as_text=True)
    assert f'name="supersedes" value="{first}"' in prefilled and 'value="15"' in prefilled
    assert 'value="confirmed_defect" selected' in prefilled
    resp = client.post(f"/cases/{ids[0]}/tests", data={
        "csrf_token": csrf_from(prefilled), **_test_form(verdict="no_fault_found", supersedes=str(first))})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    session.expire_all()
    newer = session.scalars(select(Record).where(Record.supersedes_id == first)).one()
    assert newer.verdict == "no_fault_found" and session.get(UnitCase, ids[0]).verdict == "no_fault_found"
    html = client.get(f"/cases/{ids[0]}").get_data(as_text=True)
    assert f"superseded by record {newer.id}" in html and f"corrects record {first}" in html
    assert f'id="correct-{first}"' not in html and f'id="correct-{newer.id}"' in html


def test_a_warehouse_user_cannot_record_a_test(login, session, cases):
    ids, _ = cases
    client = login("warehouse")
    resp = _post(client, f"/cases/{ids[0]}/tests", _test_form(), page="/station")
    assert resp.status_code == 403
    assert client.get(f"/cases/{ids[0]}").status_code == 403
    assert _records(session) == 0 and _state(session, ids[0]) == "received"


def test_a_form_without_its_csrf_token_is_refused(login, session, cases):
    ids, _ = cases
    client = login("engineer")
    assert client.post(f"/cases/{ids[0]}/tests", data=_test_form()).status_code == 400
    assert client.post(f"/cases/{ids[0]}/take").status_code == 400
    assert _records(session) == 0 and _state(session, ids[0]) == "received"


# Attachments -----------------------------------------------------------------------------------------------------

PNG = images.PNG


def test_a_photo_is_kept_with_the_case_and_listed(login, session, cases, tmp_path):
    ids, _ = cases
    client = login("engineer")
    resp = _post(client, f"/cases/{ids[0]}/attachments", {"file": (io.BytesIO(PNG), "board.png")},
                 page=f"/cases/{ids[0]}", content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    html = client.get(f"/cases/{ids[0]}").get_data(as_text=True)
    found = re.search(r'<a href="/api/v1/attachments/(\d+)">board.png</a>', html)
    assert found and "?inline=true" in html
    assert client.get(f"/api/v1/attachments/{found.group(1)}").data == PNG
    assert len(list((tmp_path / "attachments").iterdir())) == 1


def test_a_forbidden_file_type_is_refused_at_the_file_field_and_nothing_is_kept(login, session, cases, tmp_path):
    ids, _ = cases
    resp = _post(login("engineer"), f"/cases/{ids[0]}/attachments", {"file": (io.BytesIO(b"MZ\x90\x00"), "a.exe")},
                 page=f"/cases/{ids[0]}", content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 415
    assert re.search(r'name="file"[^>]*aria-invalid="true"', html) and "not an allowed type" in html
    assert session.scalar(select(func.count()).select_from(models.Attachment)) == 0
    assert not (tmp_path / "attachments").exists() or not any((tmp_path / "attachments").iterdir())


# Dispositions ----------------------------------------------------------------------------------------------------

def test_a_scrap_is_proposed_approved_by_quality_then_executed(login, session, cases):
    ids, _ = cases
    engineer = login("engineer")
    _post(engineer, f"/cases/{ids[0]}/tests", _test_form(), page=f"/cases/{ids[0]}")
    html = engineer.get(f"/cases/{ids[0]}").get_data(as_text=True)
    assert 'id="propose-form"' in html
    resp = _post(engineer, f"/cases/{ids[0]}/dispositions", {"kind": "scrap", "notes": "board burnt"},
                 page=f"/cases/{ids[0]}")
    assert resp.status_code == 302
    disposition = session.scalars(select(DispositionRecord)).one()
    html = engineer.get(f"/cases/{ids[0]}").get_data(as_text=True)
    # The engineer may neither approve nor execute a scrap that waits for quality.
    assert f'id="approve-{disposition.id}"' not in html and f'id="execute-{disposition.id}"' not in html
    refused = _post(engineer, f"/cases/{ids[0]}/dispositions/{disposition.id}/decide", {"decision": "approve"},
                    page=f"/cases/{ids[0]}")
    assert refused.status_code == 403
    quality = login("quality")
    assert f'id="approve-{disposition.id}"' in quality.get(f"/cases/{ids[0]}").get_data(as_text=True)
    no_reason = _post(quality, f"/cases/{ids[0]}/dispositions/{disposition.id}/decide", {"decision": "reject"},
                      page=f"/cases/{ids[0]}")
    assert no_reason.status_code == 422 and 'name="reason"' in no_reason.get_data(as_text=True)
    assert _post(quality, f"/cases/{ids[0]}/dispositions/{disposition.id}/decide", {"decision": "approve"},
                 page=f"/cases/{ids[0]}").status_code == 302
    done = _post(engineer, f"/cases/{ids[0]}/dispositions/{disposition.id}/execute", page=f"/cases/{ids[0]}")
    assert done.status_code == 302
    session.expire_all()
    assert (session.get(DispositionRecord, disposition.id).state, _state(session, ids[0])) == ("executed", "disposed")


def test_a_proposal_with_a_bad_value_keeps_what_was_typed(login, session, cases):
    ids, _ = cases
    engineer = login("engineer")
    _post(engineer, f"/cases/{ids[0]}/tests", _test_form(), page=f"/cases/{ids[0]}")
    resp = _post(engineer, f"/cases/{ids[0]}/dispositions", {"kind": "restock_refurbished", "value": "lots",
                                                             "notes": "clean"}, page=f"/cases/{ids[0]}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(r'name="value" value="lots"[^>]*aria-invalid="true"', html)
    assert 'value="restock_refurbished" selected' in html and ">clean</textarea>" in html
    assert session.scalar(select(func.count()).select_from(DispositionRecord)) == 0


# Failure codes ---------------------------------------------------------------------------------------------------

def _codes(session):
    session.expire_all()
    return sorted(session.execute(select(FailureCode.list, FailureCode.code, FailureCode.name,
                                         FailureCode.active)).all())


def _code_row(client, code: str) -> str:
    html = client.get("/codes", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    row = html[html.index(f'data-code="{code}"'):]
    return row[:row.index("</tr>")]


def test_a_rename_form_starts_from_the_stored_name_not_the_readers_translation(login):
    # A reader sees the name in their language; quality's rename field holds the name as stored.
    assert "Дрейф датчика" in _code_row(login("engineer"), "sensor_drift")
    row = _code_row(login("quality"), "sensor_drift")
    assert 'name="name" value="Sensor drift"' in row and "Дрейф датчика" not in row


def test_quality_adds_renames_retires_and_reactivates_a_code(login, session, users):
    client = login("quality")
    assert _post(client, "/codes", {"list": "mode", "code": "cold_joint", "name": "Cold joint"},
                 page="/codes").status_code == 302
    assert session.scalars(select(FailureCode).where(FailureCode.code == "cold_joint")).one().name == "Cold joint"
    assert _post(client, "/codes/mode/cold_joint/rename", {"name": "Cold solder joint"},
                 page="/codes").status_code == 302
    assert _post(client, "/codes/mode/cold_joint/retire", page="/codes").status_code == 302
    session.expire_all()
    row = session.scalars(select(FailureCode).where(FailureCode.code == "cold_joint")).one()
    assert (row.name, row.active) == ("Cold solder joint", False)
    assert 'action="/codes/mode/cold_joint/reactivate"' in client.get("/codes").get_data(as_text=True)
    assert _post(client, "/codes/mode/cold_joint/reactivate", page="/codes").status_code == 302
    session.expire_all()
    assert session.get(FailureCode, row.id).active is True


def test_a_duplicate_code_is_refused_next_to_the_code_field(login, session, users):
    before = _codes(session)
    resp = _post(login("quality"), "/codes", {"list": "mode", "code": "no_fault", "name": "Again"}, page="/codes")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    form = html[html.index('id="add-mode"'):]
    form = form[:form.index("</form>")]
    assert 'id="form-error"' in form and 'value="Again"' in form
    assert _codes(session) == before


def test_an_import_with_a_bad_line_changes_nothing_and_names_the_line(login, session, users):
    before = _codes(session)
    data = b"list,code,name\nmode,new_one,New one\nmode,BAD CODE,Bad\n"
    resp = _post(login("quality"), "/codes/import", {"file": (io.BytesIO(data), "codes.csv")},
                 page="/codes", content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "line 3" in html and 'class="import-errors"' in html
    assert _codes(session) == before


def test_an_import_adds_codes_and_the_export_round_trips(login, session, users):
    client = login("quality")
    data = b"list,code,name,active\nmode,new_one,New one,true\n"
    resp = _post(client, "/codes/import", {"file": (io.BytesIO(data), "codes.csv")}, page="/codes",
                 content_type="multipart/form-data")
    assert resp.status_code == 302
    exported = client.get("/codes.csv")
    text = exported.get_data(as_text=True)
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert text.lstrip("\ufeff").startswith("list,code,name,active") and "mode,new_one,New one,true" in text


def test_engineers_read_the_codes_but_cannot_change_them(login, session, users):
    before = _codes(session)
    client = login("engineer")
    html = client.get("/codes").get_data(as_text=True)
    assert "solder_joint_crack" in html and 'action="/codes"' not in html and "/retire" not in html
    assert _post(client, "/codes", {"list": "mode", "code": "x1", "name": "X"}, page="/codes").status_code == 403
    assert _post(client, "/codes/mode/no_fault/retire", page="/codes").status_code == 403
    assert login("warehouse").get("/codes").status_code == 403
    assert _codes(session) == before


# Procedure editor ------------------------------------------------------------------------------------------------

def test_quality_publishes_a_new_procedure_version(login, session, cases, product):
    client = login("quality")
    html = client.get("/products/PR-100/procedure").get_data(as_text=True)
    assert 'value="Supply current"' in html and "Current version: 1" in html
    data = {"steps[0].name": "Visual check", "steps[0].kind": "pass_fail", "steps[1].name": "Supply current",
            "steps[1].kind": "measure", "steps[1].low": "9,5", "steps[1].high": "21", "steps[1].unit": "mA",
            "steps[2].name": "", "steps[2].kind": "pass_fail"}
    resp = _post(client, "/products/PR-100/procedure", data)
    assert resp.status_code == 302
    current = procedures.current_procedure(session, product.id)
    assert current.version == 2 and current.steps[1]["low"] == 9.5
    assert 'id="version-1"' in client.get("/products/PR-100/procedure").get_data(as_text=True)


def test_a_bad_procedure_row_is_refused_at_its_field_and_keeps_the_rows(login, session, cases, product):
    client = login("quality")
    data = {"steps[0].name": "Leak test", "steps[0].kind": "measure", "steps[0].low": "", "steps[0].high": "",
            "steps[0].unit": "bar"}
    resp = _post(client, "/products/PR-100/procedure", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(r'name="steps\[0\]\.low"[^>]*aria-invalid="true"', html) and 'value="Leak test"' in html
    assert procedures.current_procedure(session, product.id).version == 1
    assert login("engineer").get("/products/PR-100/procedure").status_code == 403
