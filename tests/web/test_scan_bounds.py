"""Hostile scanner text at the scan API and the station page: a quick, clear answer and a log entry, never a 500."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from serialtrace.scanner.parse import MAX_SCAN_LENGTH
from serialtrace.station.models import ScanLog

from .conftest import csrf_from

GTIN = "09506000134352"
# Many AIs that may repeat, each value free to swallow the next ones: too many splits to search.
_TANGLE_AIS = ["91", "92", "93", "94", "95", "96", "97", "98", "99", "90", "400", "401", "403", "240", "241",
         "7002", "8002", "8004", "8012"]
_TANGLE = "".join(f"{ai}A" for ai in _TANGLE_AIS)

# (scan, what the message says). Each stalled a server thread for seconds to minutes, raised
# RecursionError or leaked a GS1Error as a 500 before.
INVALID = [
    pytest.param("]d2" + "1021" * 14, "(10) is 54 characters", id="1021x14"),
    pytest.param("]d2" + "21A" * 20, "(21) is 58 characters", id="21Ax20"),
    pytest.param("]E0" + "４６０１２３４５６７８９０", "non-ASCII digit", id="full-width-ean"),
    pytest.param("]d2" + "01" + "０９５０６０００１３４３５２", "non-ASCII digit", id="full-width-gtin"),
    pytest.param("A" * (MAX_SCAN_LENGTH + 1), "scan is 8,001 characters long; at most 8,000", id="over-the-cap"),
    pytest.param("]d2" + "01" + GTIN + _TANGLE * 21, "scan too complex to read", id="too-complex"),
]
# Seconds a request may take: the parse itself is milliseconds; the rest is the request and the log.
QUICK = 2.0


def _station_post(client, code: str):
    token = csrf_from(client.get("/station").get_data(as_text=True))
    return client.post("/station", data={"code": code, "csrf_token": token, "station": "desk-9"})


def _logged(session) -> list[ScanLog]:
    session.expire_all()
    return session.scalars(select(ScanLog).where(ScanLog.station == "desk-9").order_by(ScanLog.id)).all()


@pytest.mark.parametrize(("code", "says"), INVALID)
def test_api_answers_a_hostile_scan_as_invalid_at_once_and_logs_it(session, api, users, code, says):
    started = time.monotonic()
    resp = api("warehouse").post("/api/v1/scans", json={"code": code, "station": "desk-9"})
    assert time.monotonic() - started < QUICK
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["result"] == "invalid" and says in body["message"]
    assert body["parsed"] is None and body["matches"] == []
    [row] = _logged(session)
    assert row.result == "invalid" and code.startswith(row.raw) and row.kind is None


@pytest.mark.parametrize(("code", "says"), INVALID)
def test_station_page_shows_a_hostile_scan_as_unreadable_with_422(session, login, code, says):
    client = login("warehouse")
    started = time.monotonic()
    resp = _station_post(client, code)
    assert time.monotonic() - started < QUICK
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'data-result="invalid"' in page and "Unreadable scan" in page
    assert says.replace("'", "&#39;") in page
    [row] = _logged(session)
    assert row.result == "invalid"


def test_gtin_then_repeated_10_is_ambiguous_at_once_on_api_and_page(session, api, users, login):
    # 79 characters: 18 s of one server thread before, and /login waited minutes behind eight of them.
    code = "]d2" + "01" + GTIN + "10" * 30
    started = time.monotonic()
    body = api("warehouse").post("/api/v1/scans", json={"code": code, "station": "desk-9"}).get_json()
    assert time.monotonic() - started < QUICK
    assert body["result"] == "ambiguous" and "more than one way" in body["message"]
    assert {"01": GTIN, "10": "10"} in [body["parsed"]["ai"]] + body["alternatives"]
    # The "* 32" form (83 characters, 52 s before) on the station page.
    resp = _station_post(login("engineer"), code + "1010")
    assert resp.status_code == 200 and 'data-result="ambiguous"' in resp.get_data(as_text=True)


def test_element_string_of_7899_characters_is_read_not_a_500(session, api, users):
    code = "]d2" + "01" + GTIN + "2012" * 1970
    assert len(code) == 7899
    resp = api("warehouse").post("/api/v1/scans", json={"code": code, "station": "desk-9"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["parsed"]["ai"] == {"01": GTIN, "20": "12"} and body["result"] == "not_found"
