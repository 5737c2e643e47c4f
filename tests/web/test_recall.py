"""Recall lists for their readers: unit status, units back in the house marked or left out, one row per customer,
CSV that Excel opens with Cyrillic intact; on the batch page, its CSV and the API."""

from __future__ import annotations

import csv
import io

import pytest

from .dossier_data import RECALL_GORSETI as GORSETI
from .dossier_data import RECALL_SMIRNOV as SMIRNOV
from .dossier_data import ship_for_recall

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def recall(session, make_batch, users):
    """Batch 2503D03: two units at Горсети (the second returned since), one at Смирнов, one never shipped."""
    _, serials = make_batch(quantity=4, number="2503D03")
    ship_for_recall(session, serials)
    session.commit()
    return serials


def _rows(raw: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    assert raw.startswith(BOM)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter))


def _recall_table(html: str) -> str:
    start = html.index('id="recall"')
    return html[start:html.index("</table>", start)]


# --- the batch page ---------------------------------------------------------------------------------------------

def test_page_shows_each_units_status_and_marks_those_back_in_the_house(login, recall):
    table = _recall_table(login("quality").get("/batches/2503D03").get_data(as_text=True))
    assert "<th>Status</th>" in table
    rows = table.split("<tr")[2:]
    by_serial = {s: next(r for r in rows if s in r) for s in recall[:3]}
    assert "Shipped to customer" in by_serial[recall[0]] and "back-in-house" not in by_serial[recall[0]]
    assert 'class="back-in-house"' in by_serial[recall[1]] and "Returned" in by_serial[recall[1]]
    assert "back in the house" in by_serial[recall[1]]
    assert recall[3] not in table


def test_page_leaves_out_units_back_in_the_house_on_request(login, recall):
    table = _recall_table(login("quality").get("/batches/2503D03?exclude_returned=1").get_data(as_text=True))
    assert recall[0] in table and recall[2] in table
    assert recall[1] not in table


def test_page_groups_the_list_by_customer(login, recall):
    html = login("quality").get("/batches/2503D03?group=customer").get_data(as_text=True)
    table = _recall_table(html)
    rows = table.split("<tr")[2:]
    assert len(rows) == 2
    gorseti = next(r for r in rows if GORSETI["name"] in r)
    assert recall[0] in gorseti and recall[1] in gorseti and GORSETI["phone"] in gorseti
    assert '<td data-label="Units">2</td>' in gorseti and '<td data-label="Back in the house">1</td>' in gorseti
    # Both options at once: Горсети keeps the unit still out there.
    table = _recall_table(login("quality").get("/batches/2503D03?group=customer&exclude_returned=1")
                          .get_data(as_text=True))
    gorseti = next(r for r in table.split("<tr")[2:] if GORSETI["name"] in r)
    assert recall[0] in gorseti and recall[1] not in gorseti


def test_page_download_links_keep_the_options_and_suit_the_readers_excel(login, recall):
    client = login("quality")
    html = client.get("/batches/2503D03?group=customer&exclude_returned=1").get_data(as_text=True)
    links = [line.split('href="')[1].split('"')[0].replace("&amp;", "&")
             for line in html.splitlines() if "recall.csv" in line]
    assert len(links) == 2 and all("group=customer" in h and "exclude_returned=1" in h for h in links)
    excel = next(h for h in links if "excel=1" in h)
    # An English reader's Excel lists with commas; a Russian reader's with semicolons.
    assert "delimiter=comma" in excel
    russian = client.get("/batches/2503D03", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "delimiter=semicolon" in russian
    rows = _rows(client.get(excel).data)
    assert {r["customer"]: r["serials"] for r in rows} == {GORSETI["name"]: f'="{recall[0]}"',
                                                         SMIRNOV["name"]: f'="{recall[2]}"'}


@pytest.mark.parametrize("query, field", [("group=serial", "group"), ("delimiter=tab", "delimiter")])
def test_page_and_csv_refuse_an_unknown_option_naming_it(login, recall, query, field):
    client = login("quality")
    for url in (f"/batches/2503D03?{query}", f"/batches/2503D03/recall.csv?{query}"):
        resp = client.get(url, headers={"Accept": "text/html"})
        assert resp.status_code == 422, url
        assert field in resp.get_data(as_text=True)


# --- the CSV ----------------------------------------------------------------------------------------------------

def test_csv_starts_with_the_bom_and_keeps_cyrillic_and_the_status(login, recall):
    resp = login("quality").get("/batches/2503D03/recall.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and resp.mimetype_params["charset"] == "utf-8"
    raw = resp.data
    assert raw.startswith(BOM)
    text = raw.decode("utf-8")
    assert GORSETI["name"] in text and "Новосибирск, ул. Ленина, 1" in text
    rows = _rows(raw)
    assert list(rows[0])[:9] == ["customer", "tax_id", "contact_name", "email", "phone", "address", "serial",
                                 "status", "back_in_house"]
    status = {r["serial"]: (r["status"], r["back_in_house"]) for r in rows}
    assert status == {recall[0]: ("shipped", "False"), recall[1]: ("returned", "True"),
                      recall[2]: ("shipped", "False")}


def test_csv_leaves_out_units_back_in_the_house_on_request(login, recall):
    rows = _rows(login("quality").get("/batches/2503D03/recall.csv?exclude_returned=1").data)
    assert sorted(r["serial"] for r in rows) == sorted([recall[0], recall[2]])


def test_csv_one_row_per_customer_with_its_serials(login, recall):
    resp = login("quality").get("/batches/2503D03/recall.csv?group=customer")
    assert "recall-2503D03-customers.csv" in resp.headers["Content-Disposition"]
    rows = _rows(resp.data)
    assert list(rows[0]) == ["customer", "tax_id", "contact_name", "email", "phone", "address", "units",
                             "back_in_house", "serials"]
    by_name = {r["customer"]: r for r in rows}
    assert set(by_name) == {GORSETI["name"], SMIRNOV["name"]}
    assert by_name[GORSETI["name"]]["serials"] == f"{recall[0]} {recall[1]}"
    assert by_name[GORSETI["name"]]["units"] == "2" and by_name[GORSETI["name"]]["back_in_house"] == "1"
    assert by_name[GORSETI["name"]]["email"] == GORSETI["email"]


def test_csv_for_excel_uses_semicolons_and_keeps_digit_codes_as_text(login, recall):
    resp = login("quality").get("/batches/2503D03/recall.csv?delimiter=semicolon&excel=1")
    rows = _rows(resp.data, delimiter=";")
    row = next(r for r in rows if r["customer"] == SMIRNOV["name"])
    # ="..." keeps leading zeros and all 12 digits of the tax id; the phone's + is still neutralised elsewhere.
    assert row["serial"] == f'="{recall[2]}"' and row["tax_id"] == f'="{SMIRNOV["tax_id"]}"'
    assert row["phone"] == f'="{SMIRNOV["phone"]}"' and row["quantity"] == "1"
    gorseti = next(r for r in rows if r["customer"] == GORSETI["name"])
    assert gorseti["phone"] == "'" + GORSETI["phone"]


# --- the API ----------------------------------------------------------------------------------------------------

def test_api_recall_rows_carry_the_status(api, recall):
    body = api("quality").get("/api/v1/batches/2503D03/recall").get_json()
    assert body["units"] == 3
    by_serial = {r["serial"]: r for r in body["rows"]}
    assert by_serial[recall[1]]["status"] == "returned" and by_serial[recall[1]]["back_in_house"] is True
    assert by_serial[recall[0]]["back_in_house"] is False and by_serial[recall[0]]["address"] == GORSETI["address"]


def test_api_recall_options(api, recall):
    caller = api("quality")
    out = caller.get("/api/v1/batches/2503D03/recall?exclude_returned=true").get_json()
    assert out["units"] == 2 and recall[1] not in {r["serial"] for r in out["rows"]}
    grouped = caller.get("/api/v1/batches/2503D03/recall?group=customer").get_json()
    assert grouped["units"] == 3 and grouped["customers"] == sorted([GORSETI["name"], SMIRNOV["name"]])
    gorseti = next(r for r in grouped["rows"] if r["customer"] == GORSETI["name"])
    assert gorseti["serials"] == [recall[0], recall[1]] and gorseti["units"] == 2 and gorseti["back_in_house"] == 1
    raw = caller.get("/api/v1/batches/2503D03/recall?format=csv&group=customer&exclude_returned=1").data
    rows = _rows(raw)
    assert {r["customer"]: r["serials"] for r in rows}[GORSETI["name"]] == recall[0]


@pytest.mark.parametrize("query, field", [("group=serial", "group"), ("delimiter=tab", "delimiter")])
def test_api_refuses_an_unknown_option_naming_it(api, recall, query, field):
    resp = api("quality").get(f"/api/v1/batches/2503D03/recall?{query}")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] and field in str(body["details"]) + body["message"]


def test_recall_stays_closed_to_the_warehouse(api, login, recall):
    assert api("warehouse").get("/api/v1/batches/2503D03/recall?group=customer").status_code == 403
    assert login("warehouse").get("/batches/2503D03/recall.csv?exclude_returned=1").status_code == 403
