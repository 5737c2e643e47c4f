"""The scan field on every page and the station: what a scan opens, its signal, repeats, the form token renewed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.columns import utcnow
from serialtrace.station import service as station_service
from serialtrace.station.models import ScanLog
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, Unit
from serialtrace.warranty.models import Claim

from .conftest import PASSWORD, csrf_from

GTIN = "04601234560016"
LOT = trace_service.LotInput(supplier="Микрон", part="MCU board", lot_number="L-77")
ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def stock(session, make_batch):
    """A batch of two units with a component lot; the first unit shipped recently (in warranty), a claim on it."""
    batch, serials = make_batch(quantity=2, number="2501A00", inputs=[LOT])
    customer = trace_service.get_or_create_customer(session, name="МУП «Горсети»")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today() - timedelta(days=30),
                                  serials=serials[:1])
    unit = session.scalars(select(Unit).where(Unit.serial == serials[0])).one()
    session.add(Claim(number="C-2025-0042", unit_id=unit.id, state="closed"))
    session.commit()
    return batch, serials


def _scan(client, code, page="/batches", **headers):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post("/scan", data={"code": code, "csrf_token": token},
                       headers={"Accept": "application/json", **headers})


def _counts(session):
    return [session.scalar(select(func.count()).select_from(table)) for table in (Unit, Batch, Claim)]


@pytest.mark.parametrize(("code", "url", "signal"), [
    ("SERIAL0", "/units/SERIAL0", "green"),
    ("SERIAL1", "/units/SERIAL1", "amber"),
    ("2501A00", "/batches/2501A00?product=PR-100", "green"),
    ("C-2025-0042", "/units/SERIAL0?gtin=PR-100#claim-C-2025-0042", "green"),
    ("L-77", "/lots/L-77", "green"),
    ("4601234560016", "/products/PR-100", "green"),
    (f"]C101{GTIN}", "/products/PR-100", "green"),
])
def test_a_scan_in_the_header_field_answers_the_page_to_open(login, stock, code, url, signal):
    _, serials = stock
    code = code.replace("SERIAL0", serials[0]).replace("SERIAL1", serials[1])
    url = url.replace("SERIAL0", serials[0]).replace("SERIAL1", serials[1])
    client = login("warehouse")
    resp = _scan(client, code)
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert (body["url"], body["signal"], body["choices"]) == (url, signal, [])
    # The page it opens shows the signal the scan had, in words.
    page = client.get(url.split("#")[0]).get_data(as_text=True)
    assert f'class="flash signal {signal}"' in page and body["reasons"][0] in page


def test_the_signal_gives_its_reasons_in_words(login, stock):
    _, serials = stock
    client = login("warehouse")
    green = _scan(client, serials[0]).get_json()
    assert green["reasons"][0].startswith("in warranty until ") and green["reasons"][0].endswith(", nothing open")
    amber = _scan(client, serials[1]).get_json()
    assert amber["reasons"] == ["not shipped or sold yet: the warranty has not started"]


def test_the_station_opens_lots_products_and_claims_on_their_pages(login, stock):
    _, serials = stock
    client = login("warehouse")
    for code, url in [("L-77", "/lots/L-77"), ("4601234560016", "/products/PR-100"),
                      ("C-2025-0042", f"/units/{serials[0]}?gtin=PR-100#claim-C-2025-0042")]:
        token = csrf_from(client.get("/station").get_data(as_text=True))
        resp = client.post("/station", data={"code": code, "csrf_token": token})
        assert resp.status_code == 302 and resp.headers["Location"] == url
    lot = client.get("/lots/L-77").get_data(as_text=True)
    assert "MCU board" in lot and "Микрон" in lot and 'href="/batches/2501A00?product=PR-100"' in lot
    product = client.get("/products/PR-100").get_data(as_text=True)
    assert GTIN in product and "2501A00" in product and client.get(f"/products/{GTIN}").status_code == 200
    claim = client.get(f"/units/{serials[0]}?gtin=PR-100").get_data(as_text=True)
    assert 'id="claim-C-2025-0042"' in claim


def test_an_unknown_lot_or_product_page_is_404(login, users):
    client = login("warehouse")
    assert client.get("/lots/NO-SUCH-LOT").status_code == 404
    assert client.get("/products/NO-SUCH").status_code == 404


def test_a_scan_that_matches_nothing_is_red_keeps_the_text_and_changes_nothing(login, stock, session):
    client = login("warehouse")
    before = _counts(session)
    resp = _scan(client, "NO-SUCH-THING")
    body = resp.get_json()
    assert resp.status_code == 404
    assert (body["signal"], body["url"], body["code"], body["result"]) == ("red", None, "NO-SUCH-THING", "not_found")
    assert body["reasons"] == ["not found"] and body["message"] == "nothing found for NO-SUCH-THING"
    unreadable = _scan(client, "]C10104601234560017")
    assert unreadable.status_code == 422 and unreadable.get_json()["signal"] == "red"
    assert _counts(session) == before
    # Nothing is carried to the next page either.
    assert "flash signal" not in client.get("/batches").get_data(as_text=True)


def test_an_ambiguous_gs1_scan_offers_the_unit_it_can_mean(login, stock):
    _, serials = stock
    body = _scan(login("warehouse"), f"01{GTIN}21{serials[0]}102501A00").get_json()
    assert (body["result"], body["signal"], body["url"]) == ("ambiguous", "amber", None)
    assert body["choices"] == [{"kind": "unit", "label": f"PR-100 {serials[0]}", "url": f"/units/{serials[0]}"}]


def test_the_station_marks_a_repeat_with_when_and_lists_its_recent_scans(login, stock, session, users):
    _, serials = stock
    earlier = utcnow() - timedelta(hours=3)
    station_service.add_scan_entry(session, station_service.scan_log_entry(
        raw=serials[1], result="unit", user=users["warehouse"], station="desk-9", at=earlier,
        unit_id=session.scalars(select(Unit.id).where(Unit.serial == serials[1])).one()))
    session.commit()
    client = login("warehouse")
    client.set_cookie("st_station", "desk-9")
    token = csrf_from(client.get("/station").get_data(as_text=True))
    html = client.post("/station", data={"code": serials[1], "csrf_token": token}).get_data(as_text=True)
    assert 'data-signal="amber"' in html and 'id="scan-previous"' in html
    assert "Repeat: scanned here before on " in html and "by warehouse" in html
    recent = html[html.index('id="recent-scans"'):]
    assert recent.count("<tr class=") == 2 and serials[1] in recent
    # A second pull of the trigger within the second: said so, not logged twice.
    again = client.post("/station", data={"code": serials[1], "csrf_token": token}).get_data(as_text=True)
    assert 'data-result="repeat"' in again and "Scanned twice: the same code again within a second" in again
    assert session.scalar(select(func.count()).select_from(ScanLog).where(ScanLog.raw == serials[1])) == 2


def _relogin(client):
    """Log in again on the same browser: the session, and with it the form token, is new."""
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "warehouse", "password": PASSWORD, "csrf_token": csrf_from(page)})


def test_an_old_form_token_at_the_station_keeps_the_scan_and_sends_it_again_once(login, stock, session):
    _, serials = stock
    client = login("warehouse")
    old = csrf_from(client.get("/station").get_data(as_text=True))
    _relogin(client)
    resp = client.post("/station", data={"code": serials[0], "csrf_token": old}, headers=ORIGIN)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'data-renew="1"' in html and f'value="{serials[0]}"' in html
    fresh = csrf_from(html)
    assert fresh != old and 'name="renewed" value="1"' in html
    assert session.scalar(select(func.count()).select_from(ScanLog)) == 0
    # What station.js sends: the kept scan with the fresh token.
    again = client.post("/station", data={"code": serials[0], "csrf_token": fresh, "renewed": "1"}, headers=ORIGIN)
    assert again.status_code == 200 and 'data-result="unit"' in again.get_data(as_text=True)
    # Refused again after a renewal: no loop, the scan is still in the field.
    stuck = client.post("/station", data={"code": "X1", "csrf_token": "bad", "renewed": "1"}, headers=ORIGIN)
    stuck_html = stuck.get_data(as_text=True)
    assert stuck.status_code == 400 and 'data-renew' not in stuck_html and 'value="X1"' in stuck_html
    assert "could not be renewed" in stuck_html


def test_a_form_from_another_site_is_refused_without_renewal(login, stock, session):
    _, serials = stock
    client = login("warehouse")
    resp = client.post("/station", data={"code": serials[0], "csrf_token": "forged"},
                       headers={"Origin": "http://evil.example"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "the form expired or was sent from elsewhere" in html
    assert 'data-renew' not in html and serials[0] not in html
    no_origin = client.post("/scan", data={"code": serials[0]}, headers={"Accept": "application/json"})
    assert no_origin.status_code == 400 and no_origin.get_json()["error"] == "csrf"
    assert no_origin.get_json()["details"] is None
    assert session.scalar(select(func.count()).select_from(ScanLog)) == 0


def test_the_header_scan_gets_a_fresh_token_for_an_old_one_and_the_retry_works(login, stock):
    _, serials = stock
    client = login("warehouse")
    old = csrf_from(client.get("/batches").get_data(as_text=True))
    _relogin(client)
    resp = client.post("/scan", data={"code": serials[0], "csrf_token": old},
                       headers={"Accept": "application/json", **ORIGIN})
    body = resp.get_json()
    assert resp.status_code == 400 and body["error"] == "csrf" and body["details"]["csrf_token"] != old
    retry = client.post("/scan", data={"code": serials[0], "csrf_token": body["details"]["csrf_token"]},
                        headers={"Accept": "application/json", **ORIGIN})
    assert retry.status_code == 200 and retry.get_json()["url"] == f"/units/{serials[0]}"


def test_every_page_has_the_scan_field_but_the_station_has_its_own(app, login, users):
    client = login("engineer")
    for url in ("/batches", "/units"):
        assert 'id="scanfield-code"' in client.get(url).get_data(as_text=True)
    station = client.get("/station").get_data(as_text=True)
    assert 'id="scanfield-code"' not in station and 'id="code"' in station
    assert 'id="scanfield"' not in app.test_client().get("/login").get_data(as_text=True)


def test_the_scan_endpoint_needs_a_login(app, users):
    resp = app.test_client().post("/scan", data={"code": "x"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# What a Russian keyboard layout types for the US keys a scanner presses (letters and the symbols used here).
_RU = str.maketrans({**dict(zip("qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM",
                                "йцукенгшщзфывапролдячсмитьЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬ", strict=True)),
                     "#": "№", "]": "ъ", "^": ":", "?": ","})


def test_a_scanner_whose_prefix_changes_under_a_russian_layout_calibrates_and_scans(login, session, scheme):
    from serialtrace.scanner.wedge import CALIBRATION_DATA
    from serialtrace.station.queries import find_station_profile

    trace_service.add_product(session, sku="CAL-1", name="Calibration product", gtin="09506000134352")
    trace_service.register_batch(session, product="CAL-1", quantity=1, number="Ab12Cd", scheme=scheme,
                                 produced_on=date(2025, 1, 13))
    unit = session.scalars(select(Unit).where(Unit.serial != "").order_by(Unit.id.desc())).first()
    unit.serial = "xY3z9"
    session.commit()
    client = login("warehouse")
    # The scanner sends "#" before and "?" after the data; behind a Russian layout they arrive as "№" and ",".
    typed = ("#]C1" + CALIBRATION_DATA.replace("\x1d", "^") + "?").translate(_RU)
    html = client.get("/station/calibrate").get_data(as_text=True)
    resp = client.post("/station/calibrate", data={"csrf_token": csrf_from(html), "station": "desk-ru", "code": typed})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert find_station_profile(session, "desk-ru") == {"prefix": "№", "suffix": ",", "separator": "^",
                                                        "layout": "ru"}
    token = csrf_from(client.get("/station").get_data(as_text=True))
    page = client.post("/station", data={"code": typed, "csrf_token": token}).get_data(as_text=True)
    assert 'data-result="unit"' in page and "xY3z9" in page
