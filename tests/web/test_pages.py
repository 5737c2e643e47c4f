"""The server-rendered pages: login, station, dossier, batch, import; CSRF and roles."""

from __future__ import annotations

from datetime import date

from serialtrace.trace import service

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
    _, serials = make_batch(quantity=2, number="2501A00", inputs=[service.LotInput("Shenzhen PCB Co.", "board", "L71033")])
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
