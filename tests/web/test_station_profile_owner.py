"""A station's scanner profile is changed only from the station's own device (the browser or client that calibrated
it first) or by an admin: the page form and the API."""

from __future__ import annotations

import pytest

from serialtrace.scanner.wedge import CALIBRATION_DATA
from serialtrace.station import service
from serialtrace.station.queries import find_station_profile

from .conftest import csrf_from

HASH_SCAN = "#]C1" + CALIBRATION_DATA.replace("\x1d", "^")  # prefix "#", "^" for GS
PLAIN_SCAN = "]C1" + CALIBRATION_DATA  # no prefix, GS as sent
REFUSED = "can be changed only from the station&#39;s own device"


def _calibrate(client, station: str, code: str):
    html = client.get("/station/calibrate").get_data(as_text=True)
    return client.post("/station/calibrate", data={"csrf_token": csrf_from(html), "station": station, "code": code})


def test_only_the_device_that_calibrated_a_station_or_an_admin_changes_its_profile(session, login):
    own, other, admin = login("warehouse"), login("warehouse"), login("admin")
    assert _calibrate(own, "desk-9", HASH_SCAN).status_code == 200
    assert find_station_profile(session, "desk-9")["prefix"] == "#"

    refused = _calibrate(other, "desk-9", PLAIN_SCAN)
    assert refused.status_code == 403 and REFUSED in refused.get_data(as_text=True)
    assert find_station_profile(session, "desk-9")["prefix"] == "#"
    # Naming the station by its cookie instead of the form field is refused the same way.
    other.set_cookie("st_station", "desk-9")
    assert _calibrate(other, "", PLAIN_SCAN).status_code == 403
    assert find_station_profile(session, "desk-9")["prefix"] == "#"

    assert _calibrate(own, "desk-9", PLAIN_SCAN).status_code == 200
    assert find_station_profile(session, "desk-9")["prefix"] == ""
    assert _calibrate(admin, "desk-9", HASH_SCAN).status_code == 200
    assert find_station_profile(session, "desk-9")["prefix"] == "#"
    # The admin's change left the station bound to its own device.
    assert _calibrate(own, "desk-9", PLAIN_SCAN).status_code == 200


def test_a_station_without_a_device_is_bound_by_the_next_admin(session, login, users):
    service.save_station_profile(session, name="desk-old", profile={"prefix": "!"})
    session.commit()
    assert _calibrate(login("supervisor"), "desk-old", HASH_SCAN).status_code == 403
    admin = login("admin")
    assert _calibrate(admin, "desk-old", HASH_SCAN).status_code == 200
    assert _calibrate(admin, "desk-old", PLAIN_SCAN).status_code == 200
    assert find_station_profile(session, "desk-old")["prefix"] == ""


def test_the_api_binds_a_new_station_to_its_caller_and_checks_the_key(session, api):
    first = api("warehouse").post("/api/v1/stations/calibration", json={"station": "desk-api", "code": HASH_SCAN})
    assert first.status_code == 201, first.get_json()
    key = first.get_json()["device_key"]
    assert key and first.get_json()["profile"]["prefix"] == "#"

    stranger = api("coordinator")
    refused = stranger.post("/api/v1/stations/calibration", json={"station": "desk-api", "code": PLAIN_SCAN})
    assert refused.status_code == 403 and "own device" in refused.get_json()["message"]
    wrong = stranger.client.post("/api/v1/stations/calibration", json={"station": "desk-api", "code": PLAIN_SCAN},
                                 headers={**stranger.headers, "X-Station-Key": "not-the-key"})
    assert wrong.status_code == 403
    assert find_station_profile(session, "desk-api")["prefix"] == "#"

    again = stranger.client.post("/api/v1/stations/calibration", json={"station": "desk-api", "code": PLAIN_SCAN},
                                 headers={**stranger.headers, "X-Station-Key": key})
    assert again.status_code == 200 and again.get_json()["device_key"] is None
    assert find_station_profile(session, "desk-api")["prefix"] == ""
    assert api("admin").post("/api/v1/stations/calibration",
                             json={"station": "desk-api", "code": HASH_SCAN}).status_code == 200


@pytest.mark.parametrize("body", [{"station": "d"}, {"station": "d", "code": PLAIN_SCAN, "extra": 1}])
def test_the_api_refuses_a_malformed_calibration(api, body):
    assert api("warehouse").post("/api/v1/stations/calibration", json=body).status_code == 422
