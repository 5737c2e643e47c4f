"""On the demo data, the bad board lot is the one outlier at q = 0.05, on the API, as CSV and on the page."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from serialtrace.demo import BAD_LOT, DEMO_PASSWORD, load_demo
from serialtrace.migrate import upgrade
from serialtrace.quality import queries
from serialtrace.runtime import Runtime
from serialtrace.trace.models import BatchInput, ComponentLot
from serialtrace.web import create_app

pytestmark = pytest.mark.slow  # loads the demo data set; `make check` leaves it out


@pytest.fixture(scope="module")
def client_as(demo):
    """A test client logged in as a demo role through the login form."""
    app = create_app(runtime=demo)

    def _login(role: str):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        marker = 'name="csrf_token" value="'
        start = page.index(marker) + len(marker)
        answer = client.post("/login", data={"username": role, "password": DEMO_PASSWORD,
                                             "csrf_token": page[start:page.index('"', start)]})
        assert answer.status_code == 302
        return client

    return _login


def test_the_bad_lot_is_flagged_and_nothing_else(demo):
    with demo.transaction() as s:
        lots, batches = queries.lot_report(s), queries.batch_report(s)
    flagged = [(r["supplier"], r["part"], r["lot_number"]) for r in lots.rows if r["flagged"]]
    assert flagged == [BAD_LOT]
    assert (lots.rows[0]["supplier"], lots.rows[0]["part"], lots.rows[0]["lot_number"]) == BAD_LOT
    assert not any(r["flagged"] for r in batches.rows)
    adjusted = [r["p_adjusted"] for r in lots.rows[1:]]
    assert adjusted == sorted(adjusted)  # after the flagged, by adjusted p


def test_a_row_below_min_units_is_never_flagged(demo):
    with demo.transaction() as s:
        bad_units = next(r["units"] for r in queries.lot_report(s).rows if r["flagged"])
        lots = queries.lot_report(s, q=0.5, min_units=bad_units + 1)
        batches = queries.batch_report(s, q=0.99, min_claims=0)
    assert all(not r["flagged"] for r in lots.rows if r["units"] <= bad_units)
    assert all(r["units"] >= 30 for r in batches.rows if r["flagged"])
    bad = next(r for r in lots.rows if r["lot_number"] == BAD_LOT[2])
    assert bad["p_adjusted"] <= 0.5 and not bad["eligible"] and not bad["flagged"]  # tested, too small to flag


def test_the_api_answers_quality_and_refuses_other_roles(client_as):
    quality = client_as("quality")
    body = quality.get("/api/v1/quality/component-lots").json
    assert body["q"] == 0.05 and body["rows"][0]["lot_number"] == BAD_LOT[2] and body["rows"][0]["flagged"]
    assert set(body["rows"][0]) >= {"units", "claims", "rate", "ci_low", "ci_high", "p_value", "p_adjusted",
                                    "flagged"}
    batches = client_as("supervisor").get("/api/v1/quality/batches?min_units=10&min_claims=1").json
    assert batches["min_units"] == 10 and batches["rows"] and "sku" in batches["rows"][0]
    for role in ("warehouse", "engineer"):
        assert client_as(role).get("/api/v1/quality/batches").status_code == 403
        assert client_as(role).get("/api/v1/quality/component-lots").status_code == 403
        assert client_as(role).get("/quality/batches").status_code == 403
    assert client_as("admin").get("/api/v1/quality/batches").status_code == 200
    for query, field in (("q=2", "q"), ("q=0", "q"), ("min_units=-1", "min_units"), ("min_claims=x", "min_claims")):
        bad = quality.get(f"/api/v1/quality/component-lots?{query}")
        assert bad.status_code == 422 and bad.json["details"]["field"] == field, query
    assert quality.get("/quality/batches?q=2").status_code == 422


def test_csv_exports_have_a_header_and_the_rows(client_as):
    quality = client_as("quality")
    for url in ("/api/v1/quality/component-lots?format=csv", "/quality/component-lots.csv"):
        answer = quality.get(url)
        assert answer.status_code == 200 and answer.mimetype == "text/csv", url
        rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
        assert tuple(rows[0]) == queries.LOT_COLUMNS
        assert (rows[0]["lot_number"], rows[0]["flagged"]) == (BAD_LOT[2], "True")
    answer = quality.get("/quality/batches.csv")
    header = next(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(header) == queries.BATCH_COLUMNS


def test_the_page_shows_the_flagged_lot_first_in_words(client_as):
    page = client_as("quality").get("/quality/batches").get_data(as_text=True)
    lots = page[page.index('id="quality-lots"'):]
    body = lots[lots.index("<tbody>"):]
    first_row = body[:body.index("</tr>")]
    assert BAD_LOT[2] in first_row and "Flagged" in first_row
    assert 'id="quality-batches"' in page and 'href="/quality/batches.csv' in page
    assert 'href="/quality/component-lots.csv' in page and "/quality/batches" in page


def test_at_the_default_size_only_the_bad_lot_and_its_batches_are_flagged(tmp_path):
    """`serialtrace demo` as a user runs it (20,000 units, seed 1): no other part's lot rides along with the bad one."""
    runtime = Runtime.from_env({"database_url": f"sqlite:///{tmp_path / 'default.sqlite'}"})
    upgrade(runtime.engine)
    try:
        load_demo(runtime, units=20_000, seed=1)  # the defaults of `serialtrace demo`
        with runtime.transaction() as s:
            lots, batches = queries.lot_report(s), queries.batch_report(s)
            bad_batches = set(s.scalars(
                select(BatchInput.batch_id).join(ComponentLot, ComponentLot.id == BatchInput.component_lot_id)
                .where(ComponentLot.lot_number == BAD_LOT[2])))
    finally:
        runtime.engine.dispose()
    assert [(r["supplier"], r["part"], r["lot_number"]) for r in lots.rows if r["flagged"]] == [BAD_LOT]
    assert {r["batch_id"] for r in batches.rows if r["flagged"]} <= bad_batches
