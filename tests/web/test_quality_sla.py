"""The SLA compliance page and API: the hand-worked figures (tests/quality/sla_data.py) shown in business hours,
the weekly chart's data, downloads, the empty period, bad filters naming their field, and who may read it."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook

from serialtrace.columns import at_moment

from ..quality.sla_data import NOW, make_claims

PERIOD = "from=2025-06-01&to=2025-06-06"


@pytest.fixture
def claims(session, make_batch, users):
    made = make_claims(session, make_batch, users)
    session.commit()
    return made


def _get(client, url):
    with at_moment(NOW):
        return client.get(url)


def test_the_page_shows_the_figures_in_business_hours_with_the_trend_chart(login, claims):
    answer = _get(login("quality"), f"/quality/sla?{PERIOD}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    summary = page[page.index('id="sla-summary"'):page.index("</table>", page.index('id="sla-summary"'))]
    # First response: median 5 h 45 min, p90 33 h 30 min, 1 of 4 breached; resolution median 27 h, p90 44 h.
    assert re.search(r"25\.0 %</td>\s*<td[^>]*>5 h 45 min</td>\s*<td[^>]*>33 h 30 min</td>", summary)
    assert re.search(r"25\.0 %</td>\s*<td[^>]*>27 h</td>\s*<td[^>]*>44 h</td>", summary)
    assert "linear interpolation" in page and "first comment for the customer" in page
    spec = json.loads(re.search(r'id="sla-trend-data">(.*?)</script>', page, re.S).group(1))
    assert spec["labels"] == ["2025-05-26", "2025-06-02"]
    assert spec["datasets"][1]["data"] == [None, 0.25]
    assert 'data-chart="line"' in page and "vendor/chart.umd.min.js" in page
    assert 'href="/quality/sla"' in page  # the section link
    assert login("supervisor").get("/quality/sla").status_code == 200


def test_each_table_downloads_as_csv_and_xlsx(login, claims):
    client = login("quality")
    for table in ("stages", "priorities", "teams", "weeks"):
        csv_answer = _get(client, f"/quality/sla/{table}.csv?{PERIOD}")
        xlsx_answer = _get(client, f"/quality/sla/{table}.xlsx?{PERIOD}")
        assert csv_answer.status_code == 200 and xlsx_answer.status_code == 200
        lines = csv_answer.get_data(as_text=True).lstrip("\ufeff").splitlines()
        header = lines[0].split(",")
        assert [c.value for c in next(load_workbook(io.BytesIO(xlsx_answer.data)).active.iter_rows())] == header
        assert f'filename="sla-{table}.xlsx"' in xlsx_answer.headers["Content-Disposition"]
    priorities = _get(client, f"/quality/sla/priorities.csv?{PERIOD}").get_data(as_text=True).splitlines()
    first = dict(zip(priorities[0].lstrip("\ufeff").split(","), priorities[1].split(","), strict=True))
    assert (first["priority"], first["resolution_median_hours"], first["resolution_breached"]) == ("P1", "44.0", "1")
    assert _get(client, f"/quality/sla/claims.csv?{PERIOD}").status_code == 404


def test_an_empty_period_says_so(login, claims):
    page = _get(login("quality"), "/quality/sla?from=2024-01-01&to=2024-01-31").get_data(as_text=True)
    assert 'id="sla-empty"' in page and 'id="sla-summary"' not in page and "nan" not in page.lower()


@pytest.mark.parametrize(("query", "field"), [
    ("from=2025-02-30", "from"), ("to=soon", "to"), ("from=2025-06-07&to=2025-06-01", "from"),
    ("team=Nobody", "team"), ("priority=P7", "priority"), ("channel=fax", "channel"), ("method=mode", "method"),
    ("sku=%00", "sku"),
])
def test_bad_filters_are_422_naming_the_field(login, api, users, query, field):
    page = login("quality").get(f"/quality/sla?{query}")
    assert page.status_code == 422 and field in page.get_data(as_text=True)
    answer = api("quality").get(f"/api/v1/quality/sla?{query}")
    assert answer.status_code == 422 and answer.get_json()["details"]["field"] == field


def test_only_quality_supervisors_and_admins_read_it(login, api, users):
    for role in ("warehouse", "engineer", "coordinator"):
        assert login(role).get("/quality/sla").status_code == 403
        assert login(role).get("/quality/sla/weeks.csv").status_code == 403
        assert api(role).get("/api/v1/quality/sla").status_code == 403
    for role in ("quality", "supervisor", "admin"):
        assert api(role).get("/api/v1/quality/sla").status_code == 200
    assert login("admin").get("/quality/sla").status_code == 200


def test_the_api_answers_the_same_numbers(api, claims):
    with at_moment(NOW):
        body = api("supervisor").get(f"/api/v1/quality/sla?{PERIOD}&method=nearest-rank").get_json()
    assert (body["claims"], body["method"], body["from"], body["to"]) == (4, "nearest-rank", "2025-06-01",
                                                                          "2025-06-06")
    assert body["first_response"] == {"count": 4, "open": 1, "breached": 1, "share_breached": 0.25,
                                      "median_seconds": 2.5 * 3600, "p90_seconds": 44 * 3600}
    assert body["resolution"]["median_seconds"] == 10 * 3600
    assert [r["priority"] for r in body["priorities"]] == ["P1", "P3"]
    assert {r["stage"] for r in body["stages"]} == {"triage", "return"}
    with at_moment(NOW):
        empty = api("quality").get("/api/v1/quality/sla?from=2024-01-01&to=2024-01-31").get_json()
    assert empty["claims"] == 0 and empty["weeks"] == [] and empty["resolution"]["share_breached"] is None
