"""The JSON API: dossier, scans, batches, recall, shipments, errors and roles."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.config import business_today
from serialtrace.trace import service
from serialtrace.trace.models import Batch


def _ship(session, serials, name="ООО «ГазМонтаж»"):
    customer = service.get_or_create_customer(session, name=name, tax_id="6623456789", email="buyer@example.com")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials,
                            reference="РТУ-001001", carrier="Деловые линии")
    session.commit()


def test_dossier_has_unit_batch_shipments_and_warranty_reason(session, app, api, make_batch):
    batch, serials = make_batch(quantity=3, number="2501A00", line="Line 1",
                                inputs=[service.LotInput("Shenzhen PCB Co.", "board", "L71033")])
    _ship(session, serials[:1])
    resp = api("warehouse").get(f"/api/v1/units/{serials[0]}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["unit"]["serial"] == serials[0]
    assert body["product"]["gtin"] == "04601234560016"
    assert body["batch"]["number"] == "2501A00"
    assert body["batch"]["inputs"][0]["lot"] == "L71033"
    assert body["shipments"][0]["customer"]["name"] == "ООО «ГазМонтаж»"
    # The warranty ends on 2027-03-14; which side of it today falls on is computed, not left open.
    today = business_today(app.extensions["serialtrace"].settings)
    state = "in warranty until" if today <= date(2027, 3, 14) else "warranty expired on"
    assert body["warranty"]["reason"] == f"{state} 2027-03-14 (shipped 2025-03-14, 24 months)"
    assert [e["kind"] for e in body["events"]] == ["produced", "shipped"]
    assert body["claims"] == [] and body["tests"] == [] and body["replacements"] == []


def test_unknown_serial_is_404_with_json_message(api, users):
    resp = api("warehouse").get("/api/v1/units/NOPE123")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "not_found", "message": "no unit with serial 'NOPE123'",
                               "details": {"serial": "NOPE123"}}


def test_missing_token_is_401_and_bad_token_is_401(app, users):
    client = app.test_client()
    assert client.get("/api/v1/units/X").status_code == 401
    resp = client.get("/api/v1/units/X", headers={"Authorization": "Bearer st_wrong"})
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized"


def test_post_batch_allocates_serials(api, product):
    resp = api("production").post("/api/v1/batches", json={
        "product": "PR-100", "quantity": 4, "number": "2502B01", "produced_on": "2025-02-05",
        "inputs": [{"supplier": "ООО «ЭлКомп»", "part": "board", "lot": "L77096"}]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["batch"] == "2502B01" and body["quantity"] == 4
    assert body["first_serial"] == body["serials"][0] and body["last_serial"] == body["serials"][-1]
    got = api("quality").get("/api/v1/batches/2502B01").get_json()
    assert got["inputs"][0]["supplier"] == "ООО «ЭлКомп»"
    assert got["units_by_status"] == {"in_stock": 4}


def test_duplicate_batch_is_409(api, product):
    payload = {"product": "PR-100", "quantity": 1, "number": "DUP1"}
    assert api("production").post("/api/v1/batches", json=payload).status_code == 201
    resp = api("production").post("/api/v1/batches", json=payload)
    assert resp.status_code == 409
    assert "already exists" in resp.get_json()["message"]


def test_wrong_role_is_403(api, product):
    resp = api("warehouse").post("/api/v1/batches", json={"product": "PR-100", "quantity": 1})
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "forbidden"


def test_bad_batch_payload_names_the_field(api, product):
    resp = api("production").post("/api/v1/batches", json={"product": "PR-100", "quantity": "ten"})
    assert resp.status_code == 422
    assert resp.get_json()["details"] == {"field": "quantity"}
    resp = api("production").post("/api/v1/batches", data="not json", content_type="text/plain")
    assert resp.status_code == 422


def test_shipment_by_batch_and_recall_list(api, make_batch, session):
    make_batch(quantity=5, number="2503D03")
    session.commit()
    resp = api("warehouse").post("/api/v1/shipments", json={
        "customer": {"name": "МУП «Горсети»", "tax_id": "5401234567", "email": "ops@gorseti.example"},
        "shipped_on": "2025-03-16", "reference": "РТУ-001000", "batches": [{"batch": "2503D03", "quantity": 4}]})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["quantity"] == 4
    recall = api("quality").get("/api/v1/batches/2503D03/recall").get_json()
    assert recall["units"] == 4 and recall["customers"] == ["МУП «Горсети»"]
    assert {r["email"] for r in recall["rows"]} == {"ops@gorseti.example"}
    csv_text = api("quality").get("/api/v1/batches/2503D03/recall?format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("\ufeffcustomer,tax_id,contact_name")
    assert len(csv_text.splitlines()) == 5
    assert api("warehouse").get("/api/v1/batches/2503D03/recall").status_code == 403


def test_shipping_more_than_in_stock_is_409_and_changes_nothing(api, make_batch, session):
    make_batch(quantity=2, number="SMALL")
    session.commit()
    resp = api("warehouse").post("/api/v1/shipments", json={
        "customer": {"name": "X"}, "batches": [{"batch": "SMALL", "quantity": 3}]})
    assert resp.status_code == 409
    assert api("quality").get("/api/v1/batches/SMALL").get_json()["units_by_status"] == {"in_stock": 2}


def test_scan_resolves_gs1_and_plain_serials(api, make_batch, session):
    _, serials = make_batch(quantity=2, number="2501A00")
    session.commit()
    gs1 = f"]C10104601234560016\x1d21{serials[0]}"
    body = api("warehouse").post("/api/v1/scans", json={"code": gs1}).get_json()
    assert body["result"] == "unit" and body["matches"][0]["serial"] == serials[0]
    assert body["parsed"]["kind"] == "gs1" and body["parsed"]["symbology_id"] == "]C1"
    assert api("warehouse").post("/api/v1/scans", json={"code": serials[1]}).get_json()["result"] == "unit"
    assert api("warehouse").post("/api/v1/scans", json={"code": "2501A00"}).get_json()["result"] == "batch"
    missing = api("warehouse").post("/api/v1/scans", json={"code": "ZZZ999"}).get_json()
    assert missing["result"] == "not_found"


def test_scan_with_bad_check_digit_is_invalid_with_the_ai(api, users):
    body = api("warehouse").post("/api/v1/scans", json={"code": "]C10104601234560017"}).get_json()
    assert body["result"] == "invalid"
    assert "(01)" in body["message"]


def test_openapi_lists_the_interfaces(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ["/units/{serial}", "/scans", "/batches", "/batches/{number}", "/batches/{number}/recall",
                 "/shipments"]:
        assert path in doc["paths"]


def _invalid(resp, field: str, words: str) -> None:
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert body["error"] == "invalid" and body["details"] == {"field": field}
    assert words in body["message"]


def test_shipment_with_bad_nested_fields_is_422_naming_the_field(api, make_batch, session):
    make_batch(quantity=2, number="2503D03")
    session.commit()
    post = api("warehouse").post
    line = [{"batch": "2503D03", "quantity": 1}]
    _invalid(post("/api/v1/shipments", json={"customer": {"name": "X"}, "batches": [{"batch": "2503D03",
                                                                                      "quantity": 1e30}]}),
             "batches[0].quantity", "must be a whole number")
    _invalid(post("/api/v1/shipments", json={"customer": {"name": "X"}, "batches": [{"batch": "2503D03",
                                                                                      "quantity": 2**31}]}),
             "batches[0].quantity", "from 1 to 2147483647")
    _invalid(post("/api/v1/shipments", json={"customer": {"name": "X"}, "batches": [{"batch": "2503D03",
                                                                                      "quantity": True}]}),
             "batches[0].quantity", "must be a whole number")
    _invalid(post("/api/v1/shipments", json={"customer": {"name": "X", "tax_id": 5}, "batches": line}),
             "customer.tax_id", "must be a string")
    _invalid(post("/api/v1/shipments", json={"customer": {"name": "Я" * 201}, "batches": line}),
             "customer.name", "at most 200 characters")
    _invalid(post("/api/v1/shipments", json={"customer": {"name": "X\x00Y"}, "batches": line}),
             "customer.name", "control characters")
    _invalid(post("/api/v1/shipments", json={"customer": "X", "serials": [5]}), "serials[0]", "must be a string")
    _invalid(post("/api/v1/shipments", json={"customer": "X", "batches": line, "attributes": {"note": "a\x00"}}),
             "attributes", "control characters")
    assert api("quality").get("/api/v1/batches/2503D03").get_json()["units_by_status"] == {"in_stock": 2}


def test_batch_with_bad_inputs_or_long_line_is_422_naming_the_field(api, product):
    post = api("production").post
    lot = {"supplier": "Acme", "part": "board", "lot": "L1"}
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "inputs": [{**lot, "quantity": "x"}]}),
             "inputs[0].quantity", "must be a whole number")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "inputs": [{**lot, "quantity": 1e30}]}),
             "inputs[0].quantity", "must be a whole number")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "inputs": [{**lot, "lot": 7}]}),
             "inputs[0].lot", "must be a string")
    limit = Batch.__table__.c.line.type.length
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "line": "L" * (limit + 1)}),
             "line", f"at most {limit} characters")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1e30}), "quantity", "whole number")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": -1}), "quantity", "from 0 to")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "shift": "A\nB"}),
             "shift", "control characters")
    assert post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "line": "L" * limit}).status_code == 201


def test_label_range_outside_the_batch_is_422_before_rendering(api, make_batch, session):
    make_batch(quantity=3, number="2501A00")
    session.commit()
    post = api("production").post
    _invalid(post("/api/v1/batches/2501A00/labels", json={"from": 1e30}), "from", "must be a whole number")
    _invalid(post("/api/v1/batches/2501A00/labels", json={"from": -5}), "from", "from 0 to")
    _invalid(post("/api/v1/batches/2501A00/labels", json={"from": 3}), "from", "unit index from 0 to 2, got 3")
    _invalid(post("/api/v1/batches/2501A00/labels", json={"from": 0, "to": 2**31 - 1}), "to", "unit index from 0 to 2")
    _invalid(post("/api/v1/batches/2501A00/labels", json={"from": 2, "to": 1}), "to", "the range 2..1 is empty")
    ok = post("/api/v1/batches/2501A00/labels", json={"from": 1, "to": 2, "format": "zpl"})
    assert ok.status_code == 200 and ok.get_data().count(b"^XA") == 2


def test_resume_of_an_impossible_job_id_is_404(api, users):
    resp = api("production").post("/api/v1/print-jobs/99999999999999999999/resume")
    # An id past 32 bits names no row: refused by the URL's converter before the handler runs.
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    assert api("production").post("/api/v1/print-jobs/12345/resume").status_code == 404


def test_print_job_to_a_printer_off_the_allow_list_is_422_and_not_created(api, make_batch, session):
    make_batch(quantity=2, number="2501A00")
    session.commit()
    post = api("production").post
    _invalid(post("/api/v1/print-jobs", json={"batch": "2501A00", "printer": "10.0.0.7:22"}),
             "printer", "must use port 9100")
    _invalid(post("/api/v1/print-jobs", json={"batch": "2501A00", "printer": "10.0.0.7:9100", "from": 1e30}),
             "from", "must be a whole number")
    assert api("production").get("/api/v1/print-jobs").get_json()["jobs"] == []


def test_revoked_token_and_deactivated_user_get_401(app, api, session, tokens):
    from serialtrace.accounts import service as accounts_service

    assert api("quality").get("/api/v1/units/NOPE").status_code == 404
    accounts_service.revoke_tokens(session, "quality-token")
    accounts_service.deactivate_user(session, "warehouse")
    session.commit()
    for role in ("quality", "warehouse"):
        resp = api(role).get("/api/v1/units/NOPE")
        assert resp.status_code == 401 and resp.get_json()["message"] == "invalid or revoked API token"
    assert api("engineer").get("/api/v1/units/NOPE").status_code == 404


# Request fields the database limits, as (schema, path in the body) -> (table, column) of the migrated database.
LIMITED_FIELDS = {
    ("BatchCreate", "product"): ("product", "sku"),
    ("BatchCreate", "number"): ("batch", "number"),
    ("BatchCreate", "line"): ("batch", "line"),
    ("BatchCreate", "shift"): ("batch", "shift"),
    ("BatchCreate", "inputs[].supplier"): ("component_lot", "supplier"),
    ("BatchCreate", "inputs[].part"): ("component_lot", "part"),
    ("BatchCreate", "inputs[].lot"): ("component_lot", "lot_number"),
    ("ShipmentCreate", "customer.name"): ("customer", "name"),
    ("ShipmentCreate", "customer.tax_id"): ("customer", "tax_id"),
    ("ShipmentCreate", "customer.phone"): ("customer", "phone"),
    ("ShipmentCreate", "reference"): ("shipment", "reference"),
    ("ShipmentCreate", "carrier"): ("shipment", "carrier"),
    ("ShipmentCreate", "serials[]"): ("unit", "serial"),
    ("ShipmentCreate", "batches[].batch"): ("batch", "number"),
}


def _schema_at(doc: dict, name: str, path: str) -> dict:
    """The schema of one field of a component schema, following $ref and nullable anyOf branches."""
    def resolve(node: dict) -> dict:
        while True:
            if "$ref" in node:
                node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
            elif "anyOf" in node or "oneOf" in node:
                node = next(n for n in node.get("anyOf", node.get("oneOf")) if n.get("type") != "null")
            else:
                return node

    node = resolve(doc["components"]["schemas"][name])
    for step in path.split("."):
        node = resolve(resolve(node["properties"][step.removesuffix("[]")]))
        if step.endswith("[]"):
            node = resolve(node["items"])
    return node


def test_openapi_string_limits_are_the_database_column_lengths(app, connection):
    """The document's maxLength against the migrated database (not the model the document is generated from)."""
    from sqlalchemy import inspect

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    inspector = inspect(connection)
    lengths = {(table, column["name"]): getattr(column["type"], "length", None)
               for table in {table for table, _ in LIMITED_FIELDS.values()} for column in inspector.get_columns(table)}
    wrong = {f"{schema}.{path}": (_schema_at(doc, schema, path).get("maxLength"), lengths[column])
             for (schema, path), column in LIMITED_FIELDS.items()
             if _schema_at(doc, schema, path).get("maxLength") != lengths[column]}
    assert wrong == {}, "field: (document maxLength, database column length)"
    assert all(lengths[column] for column in LIMITED_FIELDS.values()), "every listed column has a length"
    printer = _schema_at(doc, "PrintJobCreate", "printer")
    assert "SERIALTRACE_PRINTERS" in printer["description"]


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/scans", {"code": "\ud800"}, "code"),
    ("/api/v1/shipments", {"customer": {"name": "\ud800"}, "serials": ["X"]}, "customer.name"),
    ("/api/v1/shipments", {"customer": {"name": "Y"}, "serials": ["X"], "attributes": {"k": "\ud800"}}, "attributes"),
])
def test_lone_surrogates_are_not_text(api, users, path, body, field):
    """JSON may carry "\\ud800"; stored in SQLite it would break every later read of the record."""
    import json as _json

    role = "warehouse"
    resp = api(role).post(path, data=_json.dumps(body), content_type="application/json")
    assert resp.status_code == 422
    assert resp.get_json()["details"]["field"].startswith(field)
    assert "not valid Unicode" in resp.get_json()["message"]


def test_label_naming_another_batch_is_a_mismatch_not_a_hit(api, make_batch, session):
    _, serials = make_batch(quantity=1, number="2501A00")
    session.commit()
    body = api("warehouse").post("/api/v1/scans", json={
        "code": f"]C10104601234560016\x1d10WRONG\x1d21{serials[0]}"}).get_json()
    assert body["result"] == "mismatch"
    assert "the label says batch WRONG" in body["message"] and "2501A00" in body["message"]
    assert body["matches"][0]["serial"] == serials[0]
