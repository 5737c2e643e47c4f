"""Root causes and customers ABC / XYZ: pages, downloads and API for quality and supervisors; bad input a 422."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from serialtrace.config import business_today
from serialtrace.warranty.models import Claim

from tests.quality.test_compare import wet_cement  # noqa: F401  (the fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def data(session, wet_cement, runtime):  # noqa: F811
    """The wet-cement shipments, their claims spread over the last full months with a cost on two of them."""
    today = business_today(runtime.settings)
    first = date(today.year, today.month, 1)
    claims = session.scalars(select(Claim).order_by(Claim.id)).all()
    for i, claim in enumerate(claims):
        day = first - timedelta(days=1 + 31 * (i % 6))
        claim.opened_at = datetime(day.year, day.month, 1, 12, tzinfo=UTC)
        claim.cost = Decimal("250.00") if i < 2 else Decimal(0)
    session.commit()


def test_compare_page_shows_rates_chart_and_table(login, data):
    page = login("quality").get("/quality/compare?attribute=shipment:weather")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="quality-compare"' in text and 'data-chart="bar"' in text and "vendor/chart.umd.min.js" in text
    assert '<option value="shipment:weather" selected>' in text and 'value="season"' in text
    assert "50.00 %" in text and "7.00" in text and "7.14 %" in text  # rain 4/8, risk ratio 7; dry 1/14
    assert 'href="/quality/compare.xlsx?attribute=shipment:weather&amp;sku=&amp;' in text
    assert "1 units left out" in text
    assert login("supervisor").get("/quality/compare?attribute=carrier").status_code == 200


@pytest.mark.parametrize(("query", "text"), [
    ("attribute=colour", "unknown attribute"),
    ("attribute=shipment:truck", "single value"),
    ("attribute=line&shipped_from=2025-13-01", "shipped_from must be a date"),
    ("attribute=line&shipped_from=2030-01-01", "no shipped unit"),
    ("attribute=line&q=abc", "q must be a number"),
    ("attribute=line&sku=NOPE", "no product"),
])
def test_compare_bad_input_is_a_422_page(login, data, query, text):
    client = login("quality")
    page = client.get(f"/quality/compare?{query}")
    assert page.status_code == 422 and text in page.get_data(as_text=True)
    assert 'id="compare-filters"' in page.get_data(as_text=True)
    assert client.get(f"/quality/compare.csv?{query}").status_code == 422


def test_compare_downloads(login, data):
    client = login("quality")
    answer = client.get("/quality/compare.csv?attribute=weather")
    assert answer.status_code == 200 and 'filename="quality-compare-shipment-weather.csv"' in \
        answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["value"], r["units"], r["claims"]) for r in rows] == [("dry", "14", "1"), ("rain", "8", "4")]
    xlsx = client.get("/quality/compare.xlsx?attribute=weather")
    assert xlsx.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in next(sheet.iter_rows())] == list(rows[0])


def test_compare_api(api, data):
    body = api("quality").get("/api/v1/quality/compare?attribute=shipment:weather&sku=PR-100").json
    assert (body["units"], body["claims"], body["units_without_value"], body["sku"]) == (22, 5, 1, "PR-100")
    rain = next(r for r in body["rows"] if r["value"] == "rain")
    assert rain["risk_ratio"] == pytest.approx(7.0) and rain["p_value"] == pytest.approx(12580 / 319770)
    assert "shipment:weather" in body["attributes"] and "season" in body["attributes"]
    dated = api("supervisor").get("/api/v1/quality/compare?attribute=season&shipped_from=2025-01-01").json
    assert dated["shipped_from"] == "2025-01-01" and [r["value"] for r in dated["rows"]] == ["winter", "summer"]
    bad = api("quality").get("/api/v1/quality/compare?attribute=shipment:truck")
    assert bad.status_code == 422 and bad.json["error"] == "invalid" and bad.json["details"] == {"field": "attribute"}
    assert api("quality").get("/api/v1/quality/compare").status_code == 422
    assert api("quality").get("/api/v1/quality/compare?attribute=line&shipped_to=soon").status_code == 422


@pytest.mark.parametrize("role", ["warehouse", "engineer", "coordinator", "production"])
def test_other_roles_are_refused(login, api, data, role):
    client = login(role)
    for url in ("/quality/compare", "/quality/compare.csv?attribute=line", "/quality/customers",
                "/quality/customers.xlsx", "/quality/customer-matrix.csv"):
        assert client.get(url).status_code == 403, url
    assert api(role).get("/api/v1/quality/compare?attribute=line").status_code == 403
    assert api(role).get("/api/v1/quality/customers").status_code == 403


def test_customers_page_matrix_and_downloads(login, data):
    client = login("supervisor")
    page = client.get("/quality/customers?months=6&min_months=2")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="customer-matrix"' in text and 'id="quality-customers"' in text
    # One customer, 7 claims over 6 months (2, 1, 1, 1, 1, 1): all the cost, class A; CV 0.408 -> Z.
    assert "Cement Works" in text and 'id="cell-AZ"><strong>1</strong>' in text
    answer = client.get("/quality/customers.csv?months=6&min_months=2")
    [row] = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert (row["customer"], row["claims"], row["cost"], row["abc"], row["xyz"]) == ("Cement Works", "7", "500.00",
                                                                                     "A", "Z")
    matrix = client.get("/quality/customer-matrix.xlsx?months=6&min_months=2")
    cells = [[c.value for c in r] for r in load_workbook(io.BytesIO(matrix.data)).active.iter_rows()]
    assert cells[0] == ["abc", "xyz", "count", "customers"] and ["A", "Z", 1, "Cement Works"] in cells
    assert len(cells) == 10
    bad = client.get("/quality/customers?a=0.9&b=0.5")
    assert bad.status_code == 422 and "ABC boundaries" in bad.get_data(as_text=True)
    assert client.get("/quality/customers?months=many").status_code == 422


def test_customer_not_classified_is_shown_with_the_reason(login, wet_cement):  # noqa: F811
    text = login("quality").get("/quality/customers").get_data(as_text=True)  # every claim opened this month
    listed = text[text.index('id="not-classified"'):]
    assert "Cement Works: no claims in the period" in listed[:listed.index("</ul>")]
    assert 'id="cell-AX"><strong>0</strong>' in text


def test_customers_api(api, data):
    body = api("quality").get("/api/v1/quality/customers?months=6&min_months=2&basis=count").json
    [row] = body["rows"]
    assert (row["abc"], row["xyz"], row["cell"], row["claims"], row["cost"]) == ("A", "Z", "AZ", 7, "500.00")
    assert row["monthly_claims"] == [1, 1, 1, 1, 1, 2] and len(body["month_labels"]) == 6
    assert row["stdev"] == pytest.approx(0.40825, rel=1e-4)
    assert [c["count"] for c in body["matrix"]] == [0, 0, 1, 0, 0, 0, 0, 0, 0]
    bad = api("quality").get("/api/v1/quality/customers?basis=money")
    assert bad.status_code == 422 and bad.json["details"] == {"field": "basis"}
    assert api("quality").get("/api/v1/quality/customers?a=0.9&b=0.5").status_code == 422


def test_openapi_documents_the_shapes(api):
    doc = api("quality").get("/api/v1/openapi.json").json
    assert "/quality/compare" in doc["paths"] and "/quality/customers" in doc["paths"]
    assert {"CompareRead", "CustomersRead"} <= set(doc["components"]["schemas"])
