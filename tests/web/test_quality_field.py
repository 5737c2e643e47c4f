"""The field page and API: Nevada heat map, life table, Weibull plot, fit and forecast; roles and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service


@pytest.fixture
def fleet(session, make_batch):
    """Batch 2501H00: 20 units shipped 200 days ago, 20 shipped 100 days ago, six returned; 2501H01: none back."""
    today = date.today()
    _, serials = make_batch(quantity=40, number="2501H00")
    _, quiet = make_batch(quantity=5, number="2501H01")
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    early, late = today - timedelta(days=200), today - timedelta(days=100)
    trace_service.create_shipment(session, customer=customer, shipped_on=early, serials=serials[:20] + quiet)
    trace_service.create_shipment(session, customer=customer, shipped_on=late, serials=serials[20:])
    for serial, shipped, age in [(serials[0], early, 20), (serials[1], early, 50), (serials[2], early, 80),
                                 (serials[20], late, 10), (serials[21], late, 30), (serials[22], late, 60)]:
        opened = shipped + timedelta(days=age)
        claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                                today=opened).claim
        claim.opened_at = datetime.combine(opened, time(12), tzinfo=UTC)
    session.commit()
    return serials


def test_the_page_shows_the_heat_map_life_table_fit_and_forecast(login, fleet):
    page = login("quality").get("/quality/field?months=4").get_data(as_text=True)
    assert 'id="field-nevada"' in page and 'class="heat-9"' in page and 'class="heat-0"' in page
    assert 'id="field-life"' in page and 'id="field-fit"' in page and 'data-chart="scatter"' in page
    assert page.count("<tr>", page.index('id="field-forecast"')) >= 5  # header + four months
    assert "nan" not in page.lower().replace("nanos", "") and 'style="' not in page
    assert "45 units shipped, 6 returned" in page
    assert login("supervisor").get("/quality/field").status_code == 200
    assert login("admin").get("/quality/field").status_code == 200
    assert login("engineer").get("/quality/field").status_code == 403


def test_the_quality_sections_link_to_the_field_page(login, fleet):
    page = login("quality").get("/quality/batches").get_data(as_text=True)
    assert 'href="/quality/field"' in page


def test_too_few_returns_is_a_message_on_the_page(login, fleet):
    resp = login("quality").get("/quality/field?batch=2501H01")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="weibull-message"' in page
    assert "not enough failures to fit: a Weibull needs at least 2, got 0" in page and 'id="field-fit"' not in page


@pytest.mark.parametrize(("query", "field_name"), [("months=0", "months"), ("months=25", "months"),
                                                   ("months=six", "months"), ("product=NOPE", "product"),
                                                   ("lot=NOPE", "lot"), ("batch=" + "x" * 101, "batch")])
def test_bad_filters_are_a_422_naming_the_field(login, fleet, query, field_name):
    resp = login("quality").get(f"/quality/field?{query}")
    assert resp.status_code == 422 and field_name in resp.get_data(as_text=True)


@pytest.mark.parametrize("table", ["nevada", "life", "plot", "forecast"])
def test_every_table_downloads_as_csv_and_xlsx(login, fleet, table):
    client = login("quality")
    csv = client.get(f"/quality/field/{table}.csv?months=3")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert len(csv.get_data(as_text=True).strip().splitlines()) >= 2
    xlsx = client.get(f"/quality/field/{table}.xlsx?batch=2501H00")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert login("engineer").get(f"/quality/field/{table}.csv").status_code == 403


def test_the_forecast_download_has_one_row_per_month(login, fleet):
    lines = login("quality").get("/quality/field/forecast.csv?months=3").get_data(as_text=True).strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("month,expected,low,high") and len(lines) == 4


def test_the_api_answers_the_nevada_chart(api, fleet):
    resp = api("quality").get("/api/v1/quality/nevada")
    body = resp.get_json()
    assert resp.status_code == 200 and body["units"] == 45 and body["returns"] == 6
    assert sum(cell["returns"] for cell in body["cells"]) == 6
    assert body["months"][-1]["cumulative_f"] > 0
    assert api("supervisor").get("/api/v1/quality/nevada?batch=2501H01").get_json()["returns"] == 0
    assert api("engineer").get("/api/v1/quality/nevada").status_code == 403


def test_the_api_answers_the_weibull_fit_plot_and_forecast(api, fleet):
    resp = api("quality").get("/api/v1/quality/weibull?months=12")
    body = resp.get_json()
    assert resp.status_code == 200, body
    fit = body["fit"]
    assert fit["beta_low"] < fit["beta"] < fit["beta_high"] and fit["b10_low"] < fit["b10"] < fit["b10_high"]
    assert len(body["plot"]["points"]) == 6 and len(body["plot"]["line"]) == 2
    months = body["forecast"]["months"]
    assert [m["month"] for m in months] == list(range(1, 13)) and body["forecast"]["units"] == 39
    assert all(m["low"] <= m["expected"] <= m["high"] for m in months) and "delta method" in body["forecast"]["method"]
    assert api("admin").get("/api/v1/quality/weibull").status_code == 200
    assert api("coordinator").get("/api/v1/quality/weibull").status_code == 403


def test_the_api_refuses_too_few_failures_and_bad_input(api, fleet):
    few = api("quality").get("/api/v1/quality/weibull?batch=2501H01")
    assert few.status_code == 422 and "not enough failures to fit" in few.get_json()["message"]
    bad = api("quality").get("/api/v1/quality/weibull?months=30")
    assert bad.status_code == 422 and "months" in bad.get_data(as_text=True)
    unknown = api("quality").get("/api/v1/quality/nevada?product=NOPE")
    assert unknown.status_code == 422 and unknown.get_json()["details"] == {"field": "product"}
