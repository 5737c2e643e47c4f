"""The server-rendered pages: login, station, dossier, batch, import; CSRF and roles."""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import quote

import pytest

from serialtrace.config import Settings
from serialtrace.trace import importer, queries, service
from serialtrace.web.ui import common

from .conftest import PASSWORD, csrf_from


def _station_post(client, code):
    token = csrf_from(client.get("/station").get_data(as_text=True))
    return client.post("/station", data={"code": code, "csrf_token": token})


def test_pages_need_a_login(app):
    resp = app.test_client().get("/station")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_wrong_password_is_refused(app, users):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "warehouse", "password": "nope", "csrf_token": token})
    assert resp.status_code == 401
    assert "wrong user name or password" in resp.get_data(as_text=True)


def test_login_without_csrf_token_is_rejected(app, users):
    resp = app.test_client().post("/login", data={"username": "warehouse", "password": PASSWORD})
    assert resp.status_code == 400


def test_station_shows_the_dossier_for_a_serial(login, make_batch, session):
    _, serials = make_batch(quantity=2, number="2501A00",
                            inputs=[service.LotInput("Shenzhen PCB Co.", "board", "L71033")])
    session.commit()
    resp = _station_post(login("warehouse"), serials[0])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f'data-serial="{serials[0]}"' in html
    assert "L71033" in html and "2501A00" in html
    assert 'data-result="unit"' in html


def test_station_says_not_found_and_keeps_the_code(login, users):
    resp = _station_post(login("warehouse"), "ABC-404")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "Not found" in html and 'value="ABC-404"' in html


def test_user_text_is_escaped(login, users):
    html = _station_post(login("warehouse"), "<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_batch_page_shows_inputs_customers_and_recall(login, make_batch, session):
    _, serials = make_batch(quantity=3, number="2502C02", inputs=[service.LotInput("ООО «ЭлКомп»", "board", "L77096")])
    customer = service.get_or_create_customer(session, name="ИП Смирнов А.В.", tax_id="500100732259")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 11, 11), serials=serials[:2])
    session.commit()
    html = login("quality").get("/batches/2502C02").get_data(as_text=True)
    assert "L77096" in html and "ИП Смирнов А.В." in html
    assert serials[0] in html and "Download CSV" in html
    csv_resp = login("quality").get("/batches/2502C02/recall.csv")
    assert csv_resp.status_code == 200 and serials[1] in csv_resp.get_data(as_text=True)
    # Warehouse staff see genealogy but not the customer contact list.
    assert "Download CSV" not in login("warehouse").get("/batches/2502C02").get_data(as_text=True)
    assert login("warehouse").get("/batches/2502C02/recall.csv").status_code == 403


def test_unknown_batch_page_is_404(login, users):
    assert login("quality").get("/batches/NOPE").status_code == 404


# --- ERP import: roles per kind, upload limit ---------------------------------------------------------------

PRODUCTS_CSV = "sku,name,gtin,warranty_months\nPR-777,Тестовый прибор,,12\n".encode()
SHIPMENTS_CSV = "document,date,customer,sku,batch,quantity\nРТУ-1,01.02.2025,ООО «Тест»,PR-100,2501A00,1\n".encode()


def _import_post(client, data: bytes, kind: str = "", **headers):
    token = csrf_from(client.get("/import").get_data(as_text=True))
    return client.post("/import", data={"csrf_token": token, "kind": kind, "file": (io.BytesIO(data), "export.csv")},
                       content_type="multipart/form-data", headers=headers)


@pytest.mark.parametrize("kind", ["", "products"])
def test_warehouse_may_not_import_products(login, session, kind):
    resp = _import_post(login("warehouse"), PRODUCTS_CSV, kind)
    assert resp.status_code == 403
    assert "your role warehouse may not import products; it needs production" in resp.get_data(as_text=True)
    assert queries.find_product(session, "PR-777") is None


def test_warehouse_may_not_import_batches(login, session, product):
    session.commit()
    data = b"batch,sku,produced_on,quantity\n2503X01,PR-100,13.01.2025,2\n"
    resp = _import_post(login("warehouse"), data)
    assert resp.status_code == 403
    assert "may not import batches; it needs production" in resp.get_data(as_text=True)
    assert queries.find_batch(session, "2503X01") is None


def test_coordinator_may_not_import_at_all(login, users):
    assert login("coordinator").get("/import").status_code == 403


def test_production_imports_products(login, session):
    resp = _import_post(login("production"), PRODUCTS_CSV)
    assert resp.status_code == 200 and "imported 1 product" in resp.get_data(as_text=True)
    assert queries.find_product(session, "PR-777").name == "Тестовый прибор"


def test_warehouse_imports_shipments(login, session, make_batch):
    make_batch(quantity=2, number="2501A00")
    session.commit()
    resp = _import_post(login("warehouse"), SHIPMENTS_CSV)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "imported 1 shipment of 1 unit" in resp.get_data(as_text=True)


def test_default_upload_limit_fits_an_erp_import(app):
    assert app.config["MAX_CONTENT_LENGTH"] == Settings().max_upload_bytes == importer.MAX_BYTES


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_import_over_the_upload_limit_is_413_naming_the_limit(app, login, accept):
    client = login("production")
    app.config["MAX_CONTENT_LENGTH"] = 4096
    resp = _import_post(client, PRODUCTS_CSV + b"PR-1,x\n" * 1000, Accept=accept)
    assert resp.status_code == 413
    message = "upload too large: the limit is 4096 bytes"
    if accept == "application/json":
        assert resp.get_json()["message"] == message
    else:
        assert message in resp.get_data(as_text=True)


# --- search ---------------------------------------------------------------------------------------------------

def _batch_numbers(client, q):
    html = client.get(f"/batches?q={quote(q)}").get_data(as_text=True)
    return {n for n in ("2410A", "2411B", "2410_C") if f">{n}<" in html}


def test_batch_search_takes_wildcards_literally_and_ignores_case(login, make_batch, session):
    for number in ("2410A", "2411B", "2410_C"):
        make_batch(quantity=1, number=number)
    session.commit()
    client = login("warehouse")
    assert _batch_numbers(client, "") == {"2410A", "2411B", "2410_C"}
    assert _batch_numbers(client, "%") == set()
    assert _batch_numbers(client, "24_0") == set()
    assert _batch_numbers(client, "2410_") == {"2410_C"}
    assert _batch_numbers(client, "2410a") == {"2410A"}
    assert _batch_numbers(client, "2410") == {"2410A", "2410_C"}


def test_unit_search_takes_wildcards_literally_and_ignores_case(login, make_batch, session):
    _, serials = make_batch(quantity=2, number="2501A00")
    unit = queries.get_unit(session, serials[0])
    unit.external_code = "ext-AB12"
    session.commit()
    client = login("warehouse")
    assert serials[0] not in client.get("/units?q=%25").get_data(as_text=True)
    html = client.get("/units?q=EXT-ab").get_data(as_text=True)
    assert serials[0] in html and serials[1] not in html


# --- NUL characters and other text the database cannot hold ---------------------------------------------------

def test_nul_in_a_unit_path_is_not_found(login, users):
    resp = login("warehouse").get("/units/A%00B")
    assert resp.status_code == 404
    assert "no unit with serial &#39;A\\x00B&#39;" in resp.get_data(as_text=True)


def test_nul_in_a_batch_path_is_not_found(login, users):
    assert login("quality").get("/batches/A%00B").status_code == 404
    assert login("quality").get("/batches/A%00B/recall.csv").status_code == 404


@pytest.mark.parametrize("url", ["/units?q=A%00B", "/batches?q=A%00B"])
def test_nul_in_a_search_is_422(login, users, url):
    resp = login("warehouse").get(url)
    assert resp.status_code == 422
    assert "q contains a NUL character" in resp.get_data(as_text=True)


@pytest.mark.parametrize("field", ["code", "station"])
def test_nul_in_the_station_form_is_422_naming_the_field(login, users, field):
    client = login("warehouse")
    token = csrf_from(client.get("/station").get_data(as_text=True))
    data = {"code": "1234", "station": "desk-1", "csrf_token": token, field: "12\x0034"}
    resp = client.post("/station", data=data)
    assert resp.status_code == 422
    assert f"{field} contains a NUL character" in resp.get_data(as_text=True)


# --- warranty on the business's calendar day ------------------------------------------------------------------

@pytest.mark.parametrize(("today", "reason"), [
    (date(2027, 3, 14), "in warranty until 2027-03-14 (shipped 2025-03-14, 24 months)"),
    (date(2027, 3, 15), "warranty expired on 2027-03-14 (shipped 2025-03-14, 24 months)"),
])
def test_dossier_judges_warranty_on_the_business_day(app, login, make_batch, session, monkeypatch, today, reason):
    _, serials = make_batch(quantity=1, number="2501A00")
    customer = service.get_or_create_customer(session, name="МУП «Горсети»", tax_id="5401234567")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials)
    session.commit()
    asked = []
    monkeypatch.setattr(common, "business_today", lambda settings: asked.append(settings) or today)
    client = login("warehouse")
    assert reason in client.get(f"/units/{serials[0]}").get_data(as_text=True)
    assert reason in _station_post(client, serials[0]).get_data(as_text=True)
    assert asked == [app.extensions["serialtrace"].settings] * 2


def test_station_shows_a_label_unit_mismatch_without_the_dossier(login, make_batch, session):
    _, serials = make_batch(quantity=1, number="2501A00")
    session.commit()
    html = _station_post(login("warehouse"), f"(01)04601234560016(10)OTHER(21){serials[0]}").get_data(as_text=True)
    assert 'data-result="mismatch"' in html and "Label and unit disagree" in html
    assert 'id="dossier"' not in html
