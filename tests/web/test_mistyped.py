"""Scan API, station page, dossier (page and API) and unit search with SERIALTRACE_SERIAL_CHECK set: a typed serial
with a wrong check character is called a typo; the same code without the setting is plain "nothing found"."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.serials import OpaqueDigits
from serialtrace.station.models import ScanLog
from serialtrace.trace.models import Unit

from .conftest import csrf_from

TYPO = "check character wrong: mistyped serial?"


@pytest.fixture
def scheme():
    """Batches get twelve-digit serials whose last digit is a Damm check digit."""
    return OpaqueDigits(secret="test-key", check="damm")


# The app's settings ask for Damm check digits, as the batches have.
checked = pytest.mark.parametrize("settings_overrides", [{"serial_key": "test-key", "serial_check": "damm"}],
                                  ids=["damm"])


def _typo(serial: str) -> str:
    return serial[:3] + str((int(serial[3]) + 1) % 10) + serial[4:]


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@checked
def test_the_scan_api_calls_a_wrong_check_digit_a_typo(session, api, make_batch):
    _, serials = make_batch(2)
    session.commit()
    units, logs = _count(session, Unit), _count(session, ScanLog)
    typo = _typo(serials[0])
    resp = api("warehouse").post("/api/v1/scans", json={"code": typo, "station": "desk-1"})
    body = resp.get_json()
    assert resp.status_code == 200 and body["result"] == "not_found" and body["matches"] == []
    assert body["message"] == f"nothing found for {typo}: {TYPO}"
    assert _count(session, Unit) == units and _count(session, ScanLog) == logs + 1
    found = api("warehouse").post("/api/v1/scans", json={"code": serials[0], "station": "desk-1"}).get_json()
    assert found["result"] == "unit"


@checked
def test_frames_from_a_camera_are_not_called_typos(session, api, make_batch):
    _, serials = make_batch(1)
    session.commit()
    body = api("warehouse").post("/api/v1/scans", json={"code": _typo(serials[0]), "source": "camera"}).get_json()
    assert body["result"] == "not_found" and TYPO not in body["message"]


def test_without_the_setting_the_scan_api_says_nothing_found(session, api, make_batch):
    _, serials = make_batch(1)
    session.commit()
    typo = _typo(serials[0])
    body = api("warehouse").post("/api/v1/scans", json={"code": typo}).get_json()
    assert body["result"] == "not_found" and body["message"] == f"nothing found for {typo}"


@checked
def test_the_station_page_shows_the_typo(session, login, make_batch):
    _, serials = make_batch(1)
    session.commit()
    client = login("warehouse")
    typo = _typo(serials[0])
    token = csrf_from(client.get("/station").get_data(as_text=True))
    resp = client.post("/station", data={"code": typo, "csrf_token": token, "station": "desk"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404 and TYPO in html and f'value="{typo}"' in html


@checked
def test_the_dossier_api_calls_a_wrong_check_digit_a_typo(session, api, make_batch):
    _, serials = make_batch(1)
    session.commit()
    units, logs = _count(session, Unit), _count(session, ScanLog)
    typo = _typo(serials[0])
    resp = api("warehouse").get(f"/api/v1/units/{typo}")
    body = resp.get_json()
    assert resp.status_code == 404 and body["error"] == "not_found"
    assert body["message"] == f"no unit with serial {typo!r}: {TYPO}"
    assert body["details"] == {"serial": typo, "check": "wrong"}
    assert _count(session, Unit) == units and _count(session, ScanLog) == logs
    assert api("warehouse").get(f"/api/v1/units/{serials[0]}").status_code == 200


@checked
def test_an_unknown_serial_with_a_right_check_digit_is_plain_not_found(session, api, make_batch, scheme):
    make_batch(1)
    session.commit()
    unknown = scheme.format(10**6, 1, date(2025, 1, 13))[0]  # well-formed, never allocated
    body = api("warehouse").get(f"/api/v1/units/{unknown}").get_json()
    assert body["message"] == f"no unit with serial {unknown!r}" and "check" not in body["details"]


def test_without_the_setting_the_dossier_api_says_not_found(session, api, make_batch):
    _, serials = make_batch(1)
    session.commit()
    typo = _typo(serials[0])
    resp = api("warehouse").get(f"/api/v1/units/{typo}")
    assert resp.status_code == 404 and resp.get_json()["message"] == f"no unit with serial {typo!r}"


@checked
def test_the_dossier_page_shows_the_typo(session, login, make_batch):
    _, serials = make_batch(1)
    session.commit()
    client = login("warehouse")
    resp = client.get(f"/units/{_typo(serials[0])}")
    assert resp.status_code == 404 and TYPO in resp.get_data(as_text=True)
    assert client.get(f"/units/{serials[0]}").status_code == 200


@checked
def test_the_unit_search_calls_a_wrong_check_digit_a_typo(session, login, make_batch):
    _, serials = make_batch(2)
    session.commit()
    units = _count(session, Unit)
    client = login("warehouse")
    typo = _typo(serials[0])
    html = client.get("/units", query_string={"q": typo}).get_data(as_text=True)
    assert TYPO in html and f"No unit starts with {typo}" not in html
    # The right serial is found; a prefix of it is a search, not a typo.
    found = client.get("/units", query_string={"q": serials[0]}).get_data(as_text=True)
    assert TYPO not in found and serials[0] in found
    prefix = client.get("/units", query_string={"q": serials[0][:6]}).get_data(as_text=True)
    assert TYPO not in prefix
    assert _count(session, Unit) == units


def test_without_the_setting_the_unit_search_says_nothing_starts_with(session, login, make_batch):
    _, serials = make_batch(1)
    session.commit()
    typo = _typo(serials[0])
    html = login("warehouse").get("/units", query_string={"q": typo}).get_data(as_text=True)
    assert TYPO not in html and f"No unit starts with {typo}" in html
