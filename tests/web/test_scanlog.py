"""The scan log page: filters, paging, CSV export safe for spreadsheets, and who may read which station's scans."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from serialtrace.station import service as station_service
from serialtrace.web.ui import scanlog


@pytest.fixture
def logged(session, users, make_batch):
    """Scans at two stations by two users over three days (times in UTC; the business zone is UTC here)."""
    _, serials = make_batch(quantity=1, number="2501A00")
    day = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    rows = [(serials[0], "unit", "desk-1", "warehouse", day),
            ("=HYPERLINK(\"http://x\")", "not_found", "desk-1", "warehouse", day + timedelta(hours=1)),
            ("2501A00", "batch", "desk-2", "coordinator", day + timedelta(days=1)),
            ("NOPE", "not_found", "desk-2", "warehouse", day + timedelta(days=2))]
    for raw, result, station, who, at in rows:
        assert station_service.scan_payload(session, raw, station=station, user=users[who], now=at)["result"] == result
    session.commit()
    return serials


def _rows(html: str) -> int:
    return html[html.index('id="scanlog"'):].count("<tr class=") if 'id="scanlog"' in html else 0


def test_the_log_lists_every_scan_newest_first_and_filters(login, logged):
    client = login("supervisor")
    html = client.get("/scans").get_data(as_text=True)
    assert _rows(html) == 4 and html.index("NOPE") < html.index("2501A00") < html.index(logged[0])
    assert f'href="/units/{logged[0]}"' in html and 'href="/batches/2501A00?product=PR-100"' in html
    assert _rows(client.get("/scans?station=desk-2").get_data(as_text=True)) == 2
    assert _rows(client.get("/scans?user=coordinator").get_data(as_text=True)) == 1
    assert _rows(client.get("/scans?result=not_found").get_data(as_text=True)) == 2
    assert _rows(client.get("/scans?from=2026-03-11&to=2026-03-11").get_data(as_text=True)) == 1
    assert _rows(client.get("/scans?from=2026-03-11").get_data(as_text=True)) == 2
    assert "No scans match." in client.get("/scans?user=nobody").get_data(as_text=True)


def test_the_log_pages_through_older_scans(login, logged, monkeypatch):
    monkeypatch.setattr(scanlog, "PAGE_SIZE", 3)
    client = login("quality")
    first = client.get("/scans").get_data(as_text=True)
    assert _rows(first) == 3 and 'id="page-next" href="/scans?page=2"' in first and "page-previous" not in first
    second = client.get("/scans?page=2").get_data(as_text=True)
    assert _rows(second) == 1 and logged[0] in second and "page-next" not in second
    filtered = client.get("/scans?result=not_found&page=1").get_data(as_text=True)
    assert "page-next" not in filtered


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=10.03.2026", "from", "from must be a date as YYYY-MM-DD, not '10.03.2026'"),
    ("result=exploded", "result", "result 'exploded' is not known"),
    ("page=0", "page", "page must be a whole number from 1, not '0'"),
    ("page=%C2%B2", "page", "page must be a whole number from 1, not '²'"),
    ("page=99999999999999999999", "page", "page must be a whole number from 1, not '99999999999999999999'"),
    ("from=2026-03-12&to=2026-03-10", "to", "the date range ends (2026-03-10) before it starts (2026-03-12)"),
])
def test_a_bad_filter_is_422_naming_the_field(login, logged, query, field, message):
    resp = login("supervisor").get(f"/scans?{query}", headers={"Accept": "application/json"})
    body = resp.get_json()
    assert resp.status_code == 422 and body["details"] == {"field": field} and body["message"].startswith(message)


def test_the_csv_has_every_filtered_scan_with_formulas_neutralised(login, logged):
    resp = login("coordinator").get("/scans.csv?station=desk-1")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="scans.csv"' in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["raw"] for r in rows] == ["'=HYPERLINK(\"http://x\")", logged[0]]
    assert rows[1]["scanned_at"] == "2026-03-10T09:00:00+00:00" and rows[1]["serial"] == logged[0]
    assert (rows[1]["station"], rows[1]["user"], rows[1]["result"], rows[1]["batch"]) == (
        "desk-1", "warehouse", "unit", "2501A00")


@pytest.mark.parametrize("role", ["engineer", "production"])
def test_roles_without_the_log_get_403(login, logged, role):
    client = login(role)
    assert client.get("/scans").status_code == 403 and client.get("/scans.csv").status_code == 403


def test_warehouse_staff_read_only_their_own_stations_scans(login, logged):
    client = login("warehouse")
    client.set_cookie("st_station", "desk-2")
    html = client.get("/scans?station=desk-1").get_data(as_text=True)
    assert _rows(html) == 2 and "NOPE" in html and logged[0] not in html and 'value="desk-2" readonly' in html
    rows = list(csv.DictReader(io.StringIO(client.get("/scans.csv?station=desk-1").get_data(as_text=True)
                                           .lstrip("\ufeff"))))
    assert {r["station"] for r in rows} == {"desk-2"}
    # Without a station name, their own scans at unnamed stations: none here.
    assert _rows(login("warehouse").get("/scans").get_data(as_text=True)) == 0
