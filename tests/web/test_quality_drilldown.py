"""Drill-down pages and API of the claim rates: a batch's and a component lot's numbers, links, Pareto chart data,
downloads, roles and unknown ids."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from serialtrace.quality import drilldown

from ..quality.drilldown_data import make_drilldown


@pytest.fixture
def drill(session, make_batch, users):
    made = make_drilldown(session, make_batch)
    session.commit()
    return made


def _json(page: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def _table(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, table_id
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def test_the_batch_page_shows_claims_pareto_customers_and_sibling_batches(login, drill):
    page = login("quality").get(f"/quality/batches/{drill.a.id}").get_data(as_text=True)
    assert re.search(r'id="drill-units">8<', page) and re.search(r'id="drill-claims">6<', page)
    assert "75.0 %" in page
    a0 = drill.claims["a0"].number
    assert f'href="/claims/{a0}"' in page and drill.claims["a6"].number not in page  # a draft is not a claim yet
    chart = _json(page, "pareto-count-data")
    assert chart["labels"] == ["Firmware hang", "Cracked solder joint", "Other", "Tested, no failure mode coded",
                               "Not yet tested"]
    assert chart["datasets"][0]["data"] == [1, 1, 1, 1, 2] and chart["datasets"][1]["axis"] == "y2"
    assert chart["datasets"][1]["data"][-1] == pytest.approx(1.0)
    assert [r[:2] for r in _table(page, "drill-pareto-cost")] == [
        ["Cracked solder joint", "150.00"], ["Firmware hang", "10.00"], ["Other", "500.00"],
        ["Tested, no failure mode coded", "20.00"], ["Not yet tested", "7.00"]]
    assert [r[:3] for r in _table(page, "drill-customers")] == [["Vodokanal", "5", "5"], ["Teplo", "3", "1"]]
    assert f'href="/quality/batches/{drill.b.id}"' in page and f'href="/quality/lots/{drill.lot.id}"' in page
    assert "vendor/chart.umd.min.js" in page and "charts.js" in page
    # The section link of the claim rates is current on a drill-down.
    assert re.search(r'<a href="/quality/batches" aria-current="page">', page)


def test_the_lot_page_lists_its_batches_and_links_the_hold_form(login, drill):
    page = login("supervisor").get(f"/quality/lots/{drill.lot.id}").get_data(as_text=True)
    assert re.search(r'id="drill-units">11<', page) and re.search(r'id="drill-claims">7<', page)
    rows = _table(page, "drill-batches")
    assert [r[0] for r in rows] == ["2501A00", "2501A01", "2501A02"] and rows[2][5] == "—"
    assert f'href="/lots/L71033#lot-{drill.lot.id}"' in page and 'id="hold-form-link"' in page
    assert re.search(r'<a href="/quality/batches" aria-current="page">', page)
    assert _json(page, "pareto-count-data")["labels"][0] == "Cracked solder joint"


def test_a_batch_without_claims_says_so_and_loads_no_chart(login, drill):
    page = login("quality").get(f"/quality/batches/{drill.d.id}").get_data(as_text=True)
    assert "No claims on shipped units." in page and "pareto-count-data" not in page
    assert "chart.umd.min.js" not in page and "No component lots recorded for this batch." in page


def test_unknown_ids_are_a_404_page_and_the_api_404(login, api, drill):
    client = login("quality")
    for url in ("/quality/batches/999999", "/quality/lots/999999", "/quality/batches/999999/claims.csv"):
        answer = client.get(url)
        assert answer.status_code == 404 and 'data-status="404"' in answer.get_data(as_text=True), url
    for url in ("/api/v1/quality/batches/999999", "/api/v1/quality/component-lots/999999"):
        answer = api("quality").get(url)
        assert answer.status_code == 404 and answer.get_json()["error"] == "not_found", url


@pytest.mark.parametrize("role", ["warehouse", "engineer", "coordinator", "production"])
def test_other_roles_are_refused(login, api, drill, role):
    client = login(role)
    for url in (f"/quality/batches/{drill.a.id}", f"/quality/lots/{drill.lot.id}",
                f"/quality/batches/{drill.a.id}/claims.csv", f"/quality/lots/{drill.lot.id}/batches.xlsx"):
        assert client.get(url).status_code == 403, url
    assert api(role).get(f"/api/v1/quality/batches/{drill.a.id}").status_code == 403
    assert api(role).get(f"/api/v1/quality/component-lots/{drill.lot.id}").status_code == 403


@pytest.mark.parametrize(("kind", "tables"), [
    ("batches", ("claims", "failure-modes", "failure-costs", "customers", "siblings")),
    ("lots", ("claims", "failure-modes", "failure-costs", "customers", "batches")),
])
def test_every_table_downloads_as_csv_and_xlsx(login, drill, kind, tables):
    client = login("quality")
    key = drill.a.id if kind == "batches" else drill.lot.id
    page = client.get(f"/quality/{kind}/{key}").get_data(as_text=True)
    for table in tables:
        assert f'href="/quality/{kind}/{key}/{table}.csv"' in page, table
        csv_answer = client.get(f"/quality/{kind}/{key}/{table}.csv")
        xlsx_answer = client.get(f"/quality/{kind}/{key}/{table}.xlsx")
        assert csv_answer.status_code == 200 and xlsx_answer.status_code == 200, table
        lines = csv_answer.get_data(as_text=True).lstrip("\ufeff").splitlines()
        sheet = list(load_workbook(io.BytesIO(xlsx_answer.data)).active.iter_rows(values_only=True))
        assert list(sheet[0]) == lines[0].split(",") and len(sheet) == len(lines), table
    claims = client.get(f"/quality/{kind}/{key}/claims.csv").get_data(as_text=True)
    assert claims.lstrip("\ufeff").splitlines()[0] == ",".join(drilldown.CLAIM_COLUMNS)
    assert client.get(f"/quality/{kind}/{key}/claims.pdf").status_code == 404
    assert client.get(f"/quality/{kind}/{key}/other.csv").status_code == 404


def test_the_siblings_download_names_the_shared_lot(login, drill):
    text = login("quality").get(f"/quality/batches/{drill.a.id}/siblings.csv").get_data(as_text=True)
    header, *rows = text.lstrip("\ufeff").splitlines()
    assert header.split(",")[:4] == ["lot_id", "supplier", "part", "lot_number"]
    assert [r.split(",")[5] for r in rows] == ["2501A01", "2501A02"]


def test_the_api_answers_the_same_numbers(api, drill):
    body = api("quality").get(f"/api/v1/quality/batches/{drill.a.id}").get_json()
    assert (body["batch"], body["units"], body["claims"]) == ("2501A00", 8, 6)
    assert [(r["code"], r["count"]) for r in body["pareto_count"]] == [
        ("firmware_hang", 1), ("solder_joint_crack", 1), ("other", 1), (drilldown.NO_MODE, 1),
        (drilldown.NOT_TESTED, 2)]
    assert [(r["code"], Decimal(r["cost"])) for r in body["pareto_cost"]][0] == ("solder_joint_crack", 150)
    assert body["pareto_count"][-1]["name"] == "Not yet tested"
    assert len(body["claim_list"]) == 7 and body["claim_list"][0]["claim"] == drill.claims["a0-again"].number
    [board] = [lot for lot in body["component_lots"] if lot["lot_number"] == "L71033"]
    assert [(s["batch"], s["units"], s["claims"]) for s in board["siblings"]] == [("2501A01", 3, 1),
                                                                                  ("2501A02", 0, 0)]
    lot = api("supervisor").get(f"/api/v1/quality/component-lots/{drill.lot.id}").get_json()
    assert (lot["lot_number"], lot["units"], lot["claims"]) == ("L71033", 11, 7)
    assert [(b["batch"], b["rate"]) for b in lot["batches"]][2] == ("2501A02", None)
    assert [(c["customer"], c["units"], c["claims"]) for c in lot["customers"]] == [("Vodokanal", 5, 5),
                                                                                    ("Teplo", 6, 2)]


def test_the_claim_rate_tables_link_each_row_to_its_drill_down(login, drill):
    page = login("quality").get("/quality/batches").get_data(as_text=True)
    for batch in (drill.a, drill.b, drill.d):
        assert f'href="/quality/batches/{batch.id}"' in page
    assert f'href="/quality/lots/{drill.lot.id}"' in page and f'href="/quality/lots/{drill.own_lot.id}"' in page
