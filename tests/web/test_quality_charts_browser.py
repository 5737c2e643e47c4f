"""The claim-rate funnels in headless Chromium: both drawn, painted, within the CSP and without a side scroll."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service

from .live import PAINTED, live_app, login, open_charts

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with a quality engineer and four shipped batches of 40, the first (its own lot) claimed 12 times."""
    with live_app(tmp_path_factory.mktemp("quality-charts") / "app.sqlite", role="quality") as served:
        _, _, rt = served
        with rt.transaction() as s:
            customer = trace_service.get_or_create_customer(s, name="Vodokanal", tax_id="7701234567")
            for i in range(4):
                lot = trace_service.LotInput("Shenzhen PCB Co.", "board", "L-BAD" if i == 0 else "L-GOOD")
                _, serials = trace_service.register_batch(
                    s, product="PR-100", quantity=40, number=f"2502Q0{i}", produced_on=date(2025, 2, 3),
                    line="Line 1", scheme=rt.serial_scheme(), inputs=[lot])
                trace_service.create_shipment(s, customer=customer, shipped_on=date(2025, 2, 10), serials=serials)
                for serial in serials[:12 if i == 0 else 1]:
                    warranty_service.register_claim(s, serial=serial, symptom="no_power", author=None,
                                                    today=date(2025, 3, 3))
        yield served


def test_both_funnels_are_drawn_with_the_flagged_point_and_no_errors(live, browser):
    base, _, _ = live
    page, problems = open_charts(browser, base, "/quality/batches", 2)
    violations = page.evaluate("""() => new Promise(done => {
      const seen = [];
      document.addEventListener("securitypolicyviolation", e => seen.push(e.violatedDirective + " " + e.blockedURI));
      window.serialtraceCharts.draw(document.getElementById("batch-funnel"));  // a redraw under watch
      setTimeout(() => done(seen), 200);
    })""")
    assert violations == []
    for chart_id in ("batch-funnel", "lot-funnel"):
        drawn = page.evaluate(PAINTED, chart_id)
        assert drawn["width"] > 300 and drawn["height"] > 200 and drawn["painted"] > 1000, (chart_id, drawn)
        points = page.evaluate("id => window.serialtraceCharts.charts[id].data.datasets"
                               ".flatMap(d => d.data.filter(p => p.row)).map(p => [p.row.flagged, p.row.name])",
                               chart_id)
        assert len(points) == (4 if chart_id == "batch-funnel" else 2)
        assert sum(1 for flagged, _ in points if flagged) == 1
    # The flagged point is drawn apart: red and larger than the rest.
    styles = page.evaluate("""() => window.serialtraceCharts.charts["batch-funnel"].data.datasets.slice(0, 2)
      .map(d => [d.data.map(p => p.row.flagged), d.backgroundColor, d.pointRadius])""")
    assert styles[0][0] == [False] * 3 and styles[1] == [[True], "#c62828", 7] and styles[0][2] < 7
    # Hovering the flagged point names the batch in the tooltip.
    box = page.evaluate("""() => { const c = window.serialtraceCharts.charts["batch-funnel"];
      const p = c.getDatasetMeta(1).data[0]; return [p.x, p.y]; }""")
    page.mouse.move(page.locator("#batch-funnel").bounding_box()["x"] + box[0],
                    page.locator("#batch-funnel").bounding_box()["y"] + box[1])
    page.wait_for_function("""() => { const t = window.serialtraceCharts.charts["batch-funnel"].tooltip;
      return t.opacity > 0 && t.title.join(" ").includes("2502Q00"); }""")
    assert "1 flagged" in page.get_attribute("#batch-funnel", "aria-label")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The app's Permissions-Policy names features this Chromium does not know; it says so, harmlessly.
    assert [p for p in problems if "Permissions-Policy" not in p] == []


def test_charts_are_resized_for_printing(live, browser):
    base, _, _ = live
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, "/quality/batches")
    page.wait_for_function("window.serialtraceCharts && window.serialtraceCharts.charts['batch-funnel']")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    size = page.evaluate("() => { const c = window.serialtraceCharts.charts['batch-funnel']; "
                         "return [c.width, c.height]; }")
    box = page.evaluate("() => { const r = document.querySelector('.chart').getBoundingClientRect(); "
                        "return [Math.round(r.width), Math.round(r.height)]; }")
    assert abs(size[0] - box[0]) <= 1 and abs(size[1] - box[1]) <= 1
    assert page.evaluate("getComputedStyle(document.querySelector('nav.quality-sections')).display") == "none"
    assert page.pdf(format="A4", landscape=True)[:4] == b"%PDF"


SPECS = {
    "pareto": ("bar", {"labels": ["Cracked housing", "No power", "Other"],
                       "datasets": [{"label": "Claims", "data": [12, 7, 2]},
                                    {"label": "Cumulative", "type": "line", "axis": "y2", "data": [0.57, 0.9, 1]}],
                       "y": {"title": "Claims", "min": 0}, "y2": {"title": "Cumulative", "percent": True,
                                                                     "min": 0, "max": 1}}),
    "weibull": ("scatter", {"datasets": [{"label": "Returns", "data": [{"x": 2, "y": 0.01}, {"x": 7, "y": 0.05},
                                                                       {"x": 15, "y": 0.2, "name": "U-9"}]},
                                         {"label": "Fit", "type": "line", "points": False,
                                          "data": [{"x": 1, "y": 0.005}, {"x": 20, "y": 0.3}]}],
                            "x": {"title": "Months", "log": True}, "y": {"title": "F", "log": True}}),
    "forecast": ("line", {"labels": ["Jan", "Feb", "Mar"],
                          "datasets": [{"label": "Low", "data": [1, 2, 3], "dashed": True, "points": False},
                                       {"label": "High", "data": [3, 5, 8], "dashed": True, "fill": "-1"},
                                       {"label": "Expected", "data": [2, 3, 5]}],
                          "y": {"title": "Returns", "min": 0}}),
}


def test_the_generic_kinds_draw_from_a_json_spec(live, browser):
    base, _, _ = live
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, "/quality/batches")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.wait_for_function("window.serialtraceCharts && window.serialtraceCharts.charts['batch-funnel']")
    for name, (kind, spec) in SPECS.items():
        # The same markup a page would render, added to this page so the same script draws it.
        page.evaluate("""([name, kind, spec]) => {
          const data = document.createElement("script");
          data.type = "application/json"; data.id = name + "-data"; data.textContent = JSON.stringify(spec);
          const box = document.createElement("div"); box.className = "chart";
          const canvas = document.createElement("canvas");
          canvas.id = name; canvas.setAttribute("data-chart", kind); canvas.setAttribute("data-source", data.id);
          box.appendChild(canvas); document.querySelector("main, body").appendChild(box);
          document.body.appendChild(data);
          window.serialtraceCharts.draw(canvas);
        }""", [name, kind, spec])
        drawn = page.evaluate(PAINTED, name)
        assert drawn["height"] > 200 and drawn["painted"] > 1000, (name, drawn)
    scales = page.evaluate("""() => { const c = window.serialtraceCharts.charts;
      return [c.weibull.scales.x.type, c.weibull.scales.y.type, c.pareto.scales.y2.position,
              c.pareto.data.datasets[1].type, c.forecast.data.datasets[1].fill]; }""")
    assert scales == ["logarithmic", "logarithmic", "right", "line", "-1"]
    assert errors == []
