"""Image and frame uploads: hostile images are a quick 422 with a clear message, and nothing is logged."""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select

from serialtrace.station.models import ScanLog

from .conftest import csrf_from
from tests.scanner import hostile

# Far above a refusal (milliseconds) or the deadline these tests set (1 s); far below what the
# hostile files cost before (49 s for the repeated-scan JPEG).
BOUND = 5.0

THIN = "a barcode needs at least 10 pixels on each side"
CASES = [
    pytest.param(lambda: hostile.repeated_scan_jpeg(20_000), "x.jpg",
                 "JPEG with more than 100 scans refused: a photo has about 10, "
                 "and decoding this many would take minutes",
                 id="repeated-scan-jpeg"),
    pytest.param(lambda: hostile.png(1000, 1), "a.png", f"image too thin: 1000x1 pixels; {THIN}", id="1000x1"),
    pytest.param(lambda: hostile.png(1, 500), "a.png", f"image too thin: 1x500 pixels; {THIN}", id="1x500"),
    pytest.param(lambda: hostile.png(70_000, 20), "a.png",
                 "image width 70000 pixels is over the limit of 65535 pixels per side", id="width-70000"),
]


def _logged(session) -> int:
    return session.scalar(select(func.count()).select_from(ScanLog))


def _post(caller, endpoint: str, field: str, data: bytes, name: str):
    started = time.monotonic()
    resp = caller.post(f"/api/v1/scans/{endpoint}", data={field: (io.BytesIO(data), name), "station": "desk-1"})
    return resp, time.monotonic() - started


@pytest.mark.parametrize(("make", "name", "message"), CASES)
@pytest.mark.parametrize(("endpoint", "field"), [("image", "image"), ("frame", "frame")])
def test_hostile_upload_is_a_quick_422_naming_the_problem(session, api, make, name, message, endpoint, field):
    before = _logged(session)
    resp, took = _post(api("warehouse"), endpoint, field, make(), name)
    assert took < BOUND
    assert resp.status_code == 422
    assert resp.get_json() == {"error": "invalid_image", "message": message, "details": {"field": "image"}}
    assert _logged(session) == before


def test_photo_that_stalls_the_readers_is_stopped_at_the_deadline(app, session, api):
    app.config["DECODE_TIMEOUT"] = 1.0
    before = _logged(session)
    resp, took = _post(api("warehouse"), "image", "image", hostile.finder_carpet(), "carpet.png")
    assert took < BOUND
    assert resp.status_code == 422
    assert resp.get_json()["message"] == ("decoding did not finish within 1 s and was stopped; "
                                          "send a photo of the label alone, closer and sharper")
    assert _logged(session) == before


def test_station_camera_frame_of_a_thin_image_is_422_for_the_page(login):
    # The station page posts camera frames with its login cookie and CSRF header.
    client = login("warehouse")
    token = csrf_from(client.get("/station").get_data(as_text=True))
    resp = client.post("/api/v1/scans/frame", data={"frame": (io.BytesIO(hostile.png(1280, 4)), "f.png")},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 422
    assert resp.get_json()["message"] == f"image too thin: 1280x4 pixels; {THIN}"
