"""The field page in headless Chromium: the life, Weibull and forecast charts drawn, within the CSP, no side scroll."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service

from .live import PAINTED, live_app, open_charts

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with a quality engineer, 60 units shipped over ten months and twelve of them returned."""
    with live_app(tmp_path_factory.mktemp("quality-field") / "app.sqlite", role="quality") as served:
        _, _, rt = served
        today = date.today()
        with rt.transaction() as s:
            customer = trace_service.get_or_create_customer(s, name="Vodokanal", tax_id="7701234567")
            _, serials = trace_service.register_batch(s, product="PR-100", quantity=60, number="2502F00",
                                                      produced_on=today - timedelta(days=320), line="Line 1",
                                                      scheme=rt.serial_scheme())
            for month in range(10):
                shipped = today - timedelta(days=300 - 30 * month)
                lot = serials[6 * month:6 * month + 6]
                trace_service.create_shipment(s, customer=customer, shipped_on=shipped, serials=lot)
                if month < 6:
                    for k, serial in enumerate(lot[:2]):
                        opened = shipped + timedelta(days=15 + 40 * k + 5 * month)
                        claim = warranty_service.register_claim(s, serial=serial, symptom="no_power", author=None,
                                                                today=opened).claim
                        claim.opened_at = datetime.combine(opened, time(12), tzinfo=UTC)
        yield served


def test_the_three_charts_are_drawn_without_errors_or_a_side_scroll(live, browser):
    base, _, _ = live
    page, problems = open_charts(browser, base, "/quality/field?months=12", 3)
    for chart_id in ("field-life-chart", "field-plot-chart", "field-forecast-chart"):
        drawn = page.evaluate(PAINTED, chart_id)
        assert drawn["width"] > 300 and drawn["height"] > 200 and drawn["painted"] > 1000, (chart_id, drawn)
    # The probability plot: 12 returns on a log time axis, the fitted line beside them.
    plot = page.evaluate("""() => { const c = window.serialtraceCharts.charts["field-plot-chart"];
      return [c.options.scales.x.type, c.data.datasets.map(d => d.data.length)]; }""")
    assert plot == ["logarithmic", [12, 2]]
    assert page.evaluate("window.serialtraceCharts.charts['field-forecast-chart'].data.labels.length") == 12
    assert page.locator("#field-nevada td.heat-9").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert [p for p in problems if "Permissions-Policy" not in p] == []
