"""Charts on the quality pages: Chart.js served from our own origin, funnel data from the rows on the page."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from serialtrace.trace import analytics
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service
from serialtrace.web import charts

TEMPLATES = Path(__file__).resolve().parents[2] / "serialtrace" / "web" / "templates"


def _funnel(page: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def test_chart_js_is_served_from_our_origin_as_javascript(app):
    client = app.test_client()
    with client.get("/static/vendor/chart.umd.min.js") as answer:
        assert answer.status_code == 200
        assert answer.mimetype in ("text/javascript", "application/javascript")
        assert answer.get_data(as_text=True).lstrip().startswith("/*!\n * Chart.js v4.")
    with client.get("/static/charts.js") as helper:
        assert helper.status_code == 200 and "serialtraceCharts" in helper.get_data(as_text=True)


def test_no_template_loads_a_script_from_another_origin():
    offenders = [path.name for path in TEMPLATES.rglob("*.html")
                 if re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", path.read_text(), re.I)]
    assert offenders == []


@pytest.fixture
def outlier(session, make_batch):
    """Four batches of 40 shipped units; the first (with its own board lot) has 12 claimed units, the rest one."""
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    numbers = []
    for i in range(4):
        lot = trace_service.LotInput("Shenzhen PCB Co.", "board", "L-BAD" if i == 0 else "L-GOOD")
        batch, serials = make_batch(quantity=40, number=f"2501C0{i}", inputs=[lot])
        trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials)
        for serial in serials[:12 if i == 0 else 1]:
            warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                            today=date(2025, 3, 3))
        numbers.append(batch.number)
    session.commit()
    return numbers


def test_the_page_draws_a_funnel_per_table_from_its_rows(login, outlier):
    answer = login("quality").get("/quality/batches")
    assert "script-src 'self';" in answer.headers["Content-Security-Policy"]
    page = answer.get_data(as_text=True)
    assert page.count('data-chart="funnel"') == 2
    assert 'aria-label="Funnel plot of claim rate against units shipped: 4 batches, 1 flagged;' in page
    assert 'aria-label="Funnel plot of claim rate against units shipped: 2 component lots, 1 flagged;' in page
    assert page.index('id="batch-funnel"') < page.index('id="quality-batches"')
    assert page.index('id="lot-funnel"') < page.index('id="quality-lots"')
    assert '/static/vendor/chart.umd.min.js"></script>' in page and '/static/charts.js"></script>' in page
    data = _funnel(page, "batch-funnel-data")
    [bad] = [p for p in data["points"] if p["flagged"]]
    assert bad["name"] == f"{outlier[0]} (PR-100)" and (bad["units"], bad["claims"]) == (40, 12)
    assert bad["rate"] == pytest.approx(0.3)
    assert data["pooled"] == pytest.approx(15 / 160)
    at_40 = next(limit for limit in data["limits"] if limit["units"] == 40)
    assert (at_40["low95"], at_40["high95"]) == pytest.approx(analytics.p_chart_limits(15 / 160, 40, sigmas=1.959964))
    assert at_40["high998"] == pytest.approx(analytics.p_chart_limits(15 / 160, 40, sigmas=3.090232)[1])
    assert bad["rate"] > at_40["high998"]
    lots = _funnel(page, "lot-funnel-data")
    assert sorted(p["units"] for p in lots["points"]) == [40, 120]
    assert [p["name"] for p in lots["points"] if p["flagged"]] == ["Shenzhen PCB Co. board L-BAD"]


def test_points_link_to_a_drill_down_only_where_the_app_has_one(app, login, outlier):
    page = login("quality").get("/quality/batches").get_data(as_text=True)
    urls = [p["url"] for p in _funnel(page, "batch-funnel-data")["points"]]
    if "pages.quality_batch" in app.view_functions:
        assert all(url and url.startswith("/quality/batches/") for url in urls)
    else:
        assert urls == [None] * 4
    with app.test_request_context():
        assert charts.link_for("pages.no_such_page") is None


def test_no_data_means_no_chart_but_a_message(login, make_batch, session):
    make_batch(quantity=2)
    session.commit()
    page = login("quality").get("/quality/batches").get_data(as_text=True)
    assert "<canvas" not in page and page.count("No shipped units yet.") == 2
