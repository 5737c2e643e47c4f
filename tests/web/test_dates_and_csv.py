"""Dates that cannot break a page, and hostile ERP files: 422 naming the field or line, nothing changed."""

from __future__ import annotations

import html
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.config import business_today
from serialtrace.trace import queries
from serialtrace.trace.models import Batch, Customer, Product, Shipment, ShipmentItem, Unit, UnitEvent
from serialtrace.trace.policy import latest_business_date

from .conftest import csrf_from


def _counts(session) -> dict[str, int]:
    session.expire_all()
    tables = (Product, Batch, Unit, UnitEvent, Customer, Shipment, ShipmentItem)
    counts = {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in tables}
    counts["shipped"] = session.scalar(select(func.count()).select_from(Unit).where(Unit.status == "shipped"))
    return counts


def _latest(app) -> date:
    return latest_business_date(business_today(app.extensions["serialtrace"].settings))


def _placeholder(value: str, label: str) -> str:
    return (f"{label} {value} is an ERP placeholder for 'no date', not a real date: send the real {label}, "
            f"or leave it empty (today's date is used)")


def _out_of_range(value: str, label: str, latest: date) -> str:
    return (f"{label} {value} is outside the accepted range 1990-01-01 to {latest.isoformat()} "
            f"(one year after today)")


# --- API: production and shipment dates ---------------------------------------------------------------------

@pytest.mark.parametrize("produced_on, kind", [
    ("9999-12-31", "placeholder"), ("1900-01-01", "placeholder"), ("0001-01-01", "placeholder"),
    ("1989-12-31", "range"), ("next", "range"),
])
def test_post_batch_with_an_impossible_production_date_is_422_and_registers_nothing(app, api, session, product,
                                                                                  produced_on, kind):
    session.commit()
    latest = _latest(app)
    if produced_on == "next":
        produced_on = (latest + timedelta(days=1)).isoformat()
    before = _counts(session)
    resp = api("production").post("/api/v1/batches", json={"product": "PR-100", "quantity": 3, "number": "B-FAR",
                                                            "produced_on": produced_on})
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    expected = (_placeholder(produced_on, "production date") if kind == "placeholder"
                else _out_of_range(produced_on, "production date", latest))
    assert body["error"] == "invalid"
    assert body["message"] == expected.replace(produced_on, f"{produced_on} (produced_on)", 1)
    assert body["details"] == {"field": "produced_on", "earliest": "1990-01-01", "latest": latest.isoformat()}
    assert _counts(session) == before
    assert queries.find_batch(session, "B-FAR") is None


def test_post_batch_one_year_ahead_is_accepted(app, api, product, session):
    session.commit()
    latest = _latest(app).isoformat()
    resp = api("production").post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "number": "B-NEXT",
                                                            "produced_on": latest})
    assert resp.status_code == 201, resp.get_json()
    assert api("quality").get("/api/v1/batches/B-NEXT").get_json()["produced_on"] == latest


@pytest.mark.parametrize("shipped_on, kind", [
    ("9999-12-31", "placeholder"), ("1900-01-01", "placeholder"), ("1970-01-01", "placeholder"),
    ("1989-12-31", "range"), ("2100-01-01", "range"),
])
def test_post_shipment_with_an_impossible_date_is_422_and_ships_nothing(app, api, session, make_batch, shipped_on,
                                                                        kind):
    _, serials = make_batch(quantity=3, number="2501A00")
    session.commit()
    before = _counts(session)
    resp = api("warehouse").post("/api/v1/shipments", json={
        "customer": {"name": "ООО «Новый клиент»", "tax_id": "7701234567"}, "shipped_on": shipped_on,
        "serials": serials[:1], "batches": [{"batch": "2501A00", "quantity": 1}]})
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    latest = _latest(app)
    expected = (_placeholder(shipped_on, "shipment date") if kind == "placeholder"
                else _out_of_range(shipped_on, "shipment date", latest))
    assert body["message"] == expected.replace(shipped_on, f"{shipped_on} (shipped_on)", 1)
    assert body["details"]["field"] == "shipped_on"
    # Not even the new customer is kept.
    assert _counts(session) == before
    assert {queries.get_unit(session, s).status for s in serials} == {"in_stock"}


def test_post_shipment_with_a_date_past_year_9999_is_422(api, session, make_batch):
    _, serials = make_batch(quantity=1)
    session.commit()
    before = _counts(session)
    resp = api("warehouse").post("/api/v1/shipments", json={"customer": "ACME", "shipped_on": "10000-01-01",
                                                             "serials": serials})
    assert resp.status_code == 422
    assert resp.get_json()["details"] == {"field": "shipped_on"}
    assert _counts(session) == before


def test_api_reads_dates_as_the_cli_and_the_import_do(api, session, make_batch):
    _, serials = make_batch(quantity=2)
    session.commit()
    before = _counts(session)
    bad = api("warehouse").post("/api/v1/shipments", json={"customer": "ACME", "shipped_on": "14/03/2025",
                                                            "serials": serials[:1]})
    assert bad.status_code == 422
    assert bad.get_json() == {"error": "invalid", "details": {"field": "shipped_on"},
                              "message": "shipment date '14/03/2025' is not a date (YYYY-MM-DD or DD.MM.YYYY)"}
    assert _counts(session) == before
    good = api("warehouse").post("/api/v1/shipments", json={"customer": "ACME", "shipped_on": "14.03.2025",
                                                             "serials": serials[1:]})
    assert good.status_code == 201 and good.get_json()["shipped_on"] == "2025-03-14"


# --- a unit whose shipment is dated 31.12.9999 (written before the check, or straight into the database) -------

REASON_9999 = ("warranty cannot be computed: the shipment date 9999-12-31 is an ERP placeholder, not a real date; "
               "correct the shipment date")


@pytest.fixture
def far_dated_serial(session, make_batch) -> str:
    """A unit shipped on 9999-12-31 through plain session writes, bypassing the services' date rule."""
    _, serials = make_batch(quantity=1, number="2501A00")
    unit = queries.get_unit(session, serials[0])
    customer = Customer(name="ООО «Склад»")
    session.add(customer)
    session.flush()
    shipment = Shipment(customer_id=customer.id, shipped_on=date(9999, 12, 31), reference="РТУ-9999")
    session.add(shipment)
    session.flush()
    session.add(ShipmentItem(shipment_id=shipment.id, unit_id=unit.id, batch_id=unit.batch_id, quantity=1))
    unit.status = "shipped"
    session.commit()
    return serials[0]


def test_api_dossier_of_a_unit_shipped_on_31_12_9999_is_200_with_a_warranty_reason(api, far_dated_serial):
    resp = api("warehouse").get(f"/api/v1/units/{far_dated_serial}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["shipments"][0]["shipped_on"] == "9999-12-31"
    assert body["warranty"] == {"status": "unknown", "in_warranty": False, "until": None, "start": "9999-12-31",
                                "reason": REASON_9999}


def test_unit_page_and_station_of_a_unit_shipped_on_31_12_9999_show_the_reason(login, far_dated_serial):
    client = login("warehouse")
    page = client.get(f"/units/{far_dated_serial}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert REASON_9999 in text and 'class="warranty unknown"' in text
    token = csrf_from(client.get("/station").get_data(as_text=True))
    scanned = client.post("/station", data={"code": far_dated_serial, "csrf_token": token})
    assert scanned.status_code == 200
    assert REASON_9999 in html.unescape(scanned.get_data(as_text=True))


# --- the import page: dates and hostile files ----------------------------------------------------------------

def _import_post(client, data: bytes, kind: str = ""):
    token = csrf_from(client.get("/import").get_data(as_text=True))
    return client.post("/import", data={"csrf_token": token, "kind": kind, "file": (io.BytesIO(data), "export.csv")},
                       content_type="multipart/form-data")


_TOO_LONG = ("a field is longer than 131,072 characters; no column of an export is that long (a quote opened and "
             "never closed joins the following lines into one field); nothing was imported")

HOSTILE = {
    "long field": (('sku;name\nPR-1;ok\nPR-2;"' + "x" * 200_000 + '"\n').encode(), f"line 3: {_TOO_LONG}"),
    "unclosed quote": (('sku;name\nPR-1;"never closed\n' + "PR-2;b\n" * 30_000).encode(), f"line 2: {_TOO_LONG}"),
    "long header": (("sku;" + "n" * 200_000 + "\nPR-1;b\n").encode(), f"line 1: {_TOO_LONG}"),
    "zip archive": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 64,
                    "the file is not a text CSV export: line 1 holds binary data (control character '\\x03'); "
                    "nothing was imported"),
    "binary garbage": (bytes(range(256)) * 8,
                       "the file is neither UTF-8 nor Windows-1251 text (byte 0x98 on line 2); save the export as "
                       "UTF-8 or Windows-1251 CSV"),
    "NUL byte": (b"sku;name\nPR-1;ok\nPR-2;b\x00c\n",
                 "the file is not a text CSV export: line 3 holds binary data (control character '\\x00'); "
                 "nothing was imported"),
    "neither UTF-8 nor cp1251": (b"sku;name\r\nPR-1;\x98\x98\r\n",
                                 "the file is neither UTF-8 nor Windows-1251 text (byte 0x98 on line 2)"),
    "empty file": (b"", "the file is empty"),
    "blank lines": (b"\r\n \r\n", "the file is empty"),
    "header only": (b"sku;name\r\n", "the products file has a header but no data rows"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_import_page_answers_hostile_files_with_422_and_a_clear_message(login, session, case):
    data, message = HOSTILE[case]
    client = login("production")
    before = _counts(session)
    resp = _import_post(client, data)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:500]
    assert message in html.unescape(resp.get_data(as_text=True))
    assert _counts(session) == before


def test_import_page_refuses_a_placeholder_date_naming_its_line(login, session, make_batch):
    make_batch(quantity=2, number="2501A00")
    session.commit()
    data = ("Документ;Дата;Контрагент;Артикул;Серия;Количество\n"
            "РТУ-1;01.02.2025;ООО «Тест»;PR-100;2501A00;1\n"
            "РТУ-2;31.12.9999;ООО «Тест»;PR-100;2501A00;1\n").encode("cp1251")
    before = _counts(session)
    resp = _import_post(login("warehouse"), data)
    assert resp.status_code == 422
    text = html.unescape(resp.get_data(as_text=True))
    assert "1 bad row in shipments file; nothing was imported" in text
    assert ('<td data-label="Line">3</td><td data-label="Reason">shipment date 9999-12-31 (shipped_on) is an ERP '
            "placeholder for 'no date', not a real date: send the real shipment date</td>") in text
    assert _counts(session) == before
