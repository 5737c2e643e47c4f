"""Scanning in the web app: scan log, repeats, station profiles, calibration, image and frame uploads, CLI station."""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from serialtrace.labels.model import SymbolSpec
from serialtrace.labels.symbols import linear_modules, matrix_modules
from serialtrace.scanner import ImageError, ImageTooLarge, ScanError
from serialtrace.scanner.wedge import CALIBRATION_DATA
from serialtrace.scanner.worker import DecoderBusy
from serialtrace.station.models import ScanLog
from serialtrace.station.queries import find_station_profile
from serialtrace.station.service import save_station_profile
from serialtrace.web.ui import calibration

from .conftest import csrf_from

GTIN = "04601234560016"


def _png(dark: np.ndarray, scale: int, quiet: int, fmt: str = "PNG") -> bytes:
    dark = np.pad(dark, quiet, constant_values=False)
    pixels = np.where(np.kron(dark, np.ones((scale, scale), dtype=bool)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(out, format=fmt)
    return out.getvalue()


def datamatrix_png(serial: str, fmt: str = "PNG") -> bytes:
    """A GS1 DataMatrix of (01) GTIN (21) serial, drawn with serialtrace.labels."""
    spec = SymbolSpec(kind="datamatrix", gs1=True, data=f"01{GTIN}21{serial}", pairs=(("01", GTIN), ("21", serial)))
    return _png(matrix_modules(spec), 8, 2, fmt)


def code128_png(text: str, fmt: str = "PNG") -> bytes:
    """A plain Code 128 symbol (1D: needs several camera frames to be confirmed)."""
    bits = np.frombuffer(linear_modules(SymbolSpec(kind="code128", gs1=False, data=text)).encode(), np.uint8) == 49
    return _png(np.tile(bits, (40, 1)), 3, 10, fmt)


def _logs(session, **where):
    stmt = select(ScanLog).order_by(ScanLog.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(ScanLog, key) == value)
    return session.scalars(stmt).all()


def _station_post(client, code, **extra):
    token = csrf_from(client.get("/station").get_data(as_text=True))
    return client.post("/station", data={"code": code, "csrf_token": token, **extra})


# --- scan log and repeats -------------------------------------------------------------------------------------


def test_every_scan_is_logged_with_who_where_and_what_it_matched(session, api, users, make_batch):
    batch, serials = make_batch(quantity=2, number="2501A00")
    session.commit()
    caller = api("warehouse")
    assert caller.post("/api/v1/scans", json={"code": serials[0], "station": "desk-1"}).get_json()["result"] == "unit"
    assert caller.post("/api/v1/scans", json={"code": "2501A00", "station": "desk-1"}).get_json()["result"] == "batch"
    missing = caller.post("/api/v1/scans", json={"code": "ZZZ999", "station": "desk-1"}).get_json()
    assert missing["result"] == "not_found"
    assert caller.post("/api/v1/scans", json={"code": "]C1019", "station": "desk-1"}).get_json()["result"] == "invalid"
    rows = _logs(session, station="desk-1")
    assert [(r.raw, r.result, r.kind, r.source) for r in rows] == [
        (serials[0], "unit", "plain", "api"), ("2501A00", "batch", "plain", "api"),
        ("ZZZ999", "not_found", "plain", "api"), ("]C1019", "invalid", None, "api")]
    assert rows[0].unit_id is not None and rows[0].batch_id is None
    assert rows[1].batch_id == batch.id and rows[1].unit_id is None
    assert all(r.user_id == users["warehouse"].id for r in rows)
    assert rows[0].scanned_at is not None


def test_station_page_scan_is_logged_with_the_station_name(session, login, make_batch):
    _, serials = make_batch(quantity=1)
    session.commit()
    client = login("engineer")
    resp = _station_post(client, serials[0], station="return-desk")
    assert resp.status_code == 200
    [row] = _logs(session, station="return-desk")
    assert row.raw == serials[0] and row.result == "unit" and row.source == "typed"


def test_same_code_from_same_station_within_a_second_is_a_repeat_and_logged_once(session, api, make_batch):
    _, serials = make_batch(quantity=1)
    session.commit()
    caller = api("warehouse")
    first = caller.post("/api/v1/scans", json={"code": serials[0], "station": "desk-1"}).get_json()
    second = caller.post("/api/v1/scans", json={"code": serials[0], "station": "desk-1"}).get_json()
    assert first["result"] == "unit"
    assert second["result"] == "repeat" and second["repeat_of"] == "unit"
    assert "within a second" in second["message"]
    # Another station scanning the same unit at the same moment is a scan of its own.
    assert caller.post("/api/v1/scans", json={"code": serials[0], "station": "desk-2"}).get_json()["result"] == "unit"
    assert len(_logs(session, raw=serials[0], station="desk-1")) == 1
    assert len(_logs(session, raw=serials[0], station="desk-2")) == 1


def test_unnamed_api_clients_do_not_swallow_each_others_scans(session, api, make_batch):
    _, serials = make_batch(quantity=1)
    session.commit()
    assert api("warehouse").post("/api/v1/scans", json={"code": serials[0]}).get_json()["result"] == "unit"
    assert api("engineer").post("/api/v1/scans", json={"code": serials[0]}).get_json()["result"] == "unit"
    assert api("engineer").post("/api/v1/scans", json={"code": serials[0]}).get_json()["result"] == "repeat"


def test_repeat_on_the_station_page_keeps_showing_the_dossier(session, login, make_batch):
    _, serials = make_batch(quantity=1)
    session.commit()
    client = login("engineer")
    _station_post(client, serials[0], station="desk")
    html = _station_post(client, serials[0], station="desk").get_data(as_text=True)
    assert 'data-result="repeat"' in html and 'id="dossier"' in html and serials[0] in html
    assert len(_logs(session, station="desk")) == 1


# --- station profiles -----------------------------------------------------------------------------------------


def test_station_profile_with_caret_separator_and_prefix_resolves_the_scan(session, api, make_batch):
    make_batch(quantity=1)
    unit_serial = "ABC"
    from serialtrace.trace.models import Unit

    unit = session.scalars(select(Unit)).first()
    unit.serial = unit_serial
    save_station_profile(session, name="desk-caret", profile={"prefix": "#", "suffix": "", "separator": "^",
                                                              "layout": "latin"})
    session.commit()
    raw = "#]C10104601234560016^21ABC"
    body = api("warehouse").post("/api/v1/scans", json={"code": raw, "station": "desk-caret"}).get_json()
    assert body["result"] == "unit", body
    assert body["parsed"]["serial"] == "ABC" and body["parsed"]["gtin"] == GTIN
    # Without the station's profile the prefix is data, and the same text does not name the unit.
    other = api("warehouse").post("/api/v1/scans", json={"code": raw, "station": "desk-other"}).get_json()
    assert other["result"] != "unit"


def test_profile_without_prefix_reads_the_caret_as_gs(session, api, make_batch):
    make_batch(quantity=1)
    from serialtrace.trace.models import Unit

    session.scalars(select(Unit)).first().serial = "ABC"
    save_station_profile(session, name="desk-caret", profile={"separator": "^", "layout": "latin"})
    session.commit()
    body = api("warehouse").post("/api/v1/scans", json={"code": "]C10104601234560016^21ABC",
                                                        "station": "desk-caret"}).get_json()
    assert body["result"] == "unit" and body["matches"][0]["serial"] == "ABC"


def test_station_with_unknown_api_field_type_is_422(api, users):
    resp = api("warehouse").post("/api/v1/scans", json={"code": "X", "station": 5})
    assert resp.status_code == 422 and resp.get_json()["message"] == "field station must be a string"


# --- calibration page -----------------------------------------------------------------------------------------


def test_calibration_symbols_decode_to_the_calibration_data():
    from serialtrace.scanner import decode_image

    linear = decode_image(calibration.linear_png())
    matrix = decode_image(calibration.matrix_png())
    assert [(c.symbology_id, c.text) for c in linear] == [("]C1", CALIBRATION_DATA)]
    assert [(c.symbology_id, c.text) for c in matrix] == [("]d2", CALIBRATION_DATA)]


def test_calibration_page_learns_and_saves_the_profile_then_the_station_uses_it(session, login, scheme):
    from datetime import date

    from serialtrace.trace import service
    from serialtrace.trace.models import Unit

    service.add_product(session, sku="CAL-1", name="Calibration product", gtin="09506000134352")
    service.register_batch(session, product="CAL-1", quantity=1, number="Ab12Cd", scheme=scheme,
                           produced_on=date(2025, 1, 13))
    unit = session.scalars(select(Unit).order_by(Unit.id.desc())).first()
    unit.serial = "xY3z9"
    session.commit()
    client = login("warehouse")
    page = client.get("/station/calibrate")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('src="data:image/png;base64,') == 2
    # A scanner with a "#" prefix, "^" for GS and a "!" suffix, behind a Russian keyboard layout.
    russian = str.maketrans("AbCdxYz", "ФиСвчНя")
    typed = ("#]C1" + CALIBRATION_DATA.replace("\x1d", "^") + "!").translate(russian)
    resp = client.post("/station/calibrate", data={"csrf_token": csrf_from(html), "station": "desk-7", "code": typed})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200, body
    assert 'id="learned"' in body and "&#39;^&#39; stands for GS" in body and "Russian" in body
    assert find_station_profile(session, "desk-7") == {"prefix": "#", "suffix": "!", "separator": "^", "layout": "ru"}
    assert "st_station=desk-7" in resp.headers["Set-Cookie"]
    # The cookie names the station, whose profile reads that scanner's text for the unit.
    station_page = client.get("/station").get_data(as_text=True)
    assert 'id="station-name">desk-7<' in station_page
    resp = client.post("/station", data={"code": typed, "csrf_token": csrf_from(station_page)})
    assert resp.status_code == 200 and 'data-result="unit"' in resp.get_data(as_text=True)
    [row] = _logs(session, station="desk-7")
    assert row.kind == "gs1" and row.result == "unit" and row.unit_id == unit.id


def test_calibration_with_a_wrong_scan_says_so_and_saves_nothing(session, login):
    client = login("engineer")
    html = client.get("/station/calibrate").get_data(as_text=True)
    resp = client.post("/station/calibrate", data={"csrf_token": csrf_from(html), "station": "desk-8",
                                                   "code": "SOMETHING-ELSE"})
    assert resp.status_code == 422
    assert "not the test symbol" in resp.get_data(as_text=True)
    assert find_station_profile(session, "desk-8") is None


def test_calibration_needs_a_station_name_and_a_scan(login):
    client = login("engineer")
    html = client.get("/station/calibrate").get_data(as_text=True)
    resp = client.post("/station/calibrate", data={"csrf_token": csrf_from(html), "station": " ", "code": "x"})
    assert resp.status_code == 422 and "station name is required" in resp.get_data(as_text=True)
    resp = client.post("/station/calibrate", data={"csrf_token": csrf_from(html), "station": "d", "code": ""})
    assert resp.status_code == 422 and "scan the test symbol" in resp.get_data(as_text=True)


def test_calibration_without_csrf_is_refused(login):
    resp = login("engineer").post("/station/calibrate", data={"station": "d", "code": CALIBRATION_DATA})
    assert resp.status_code == 400


def test_calibration_needs_a_login(app, users):
    resp = app.test_client().get("/station/calibrate")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- not found on the station page ----------------------------------------------------------------------------


def test_not_found_shows_what_was_read_and_offers_searches(login, users):
    client = login("engineer")
    resp = _station_post(client, "]C10104601234560016\x1d21NOPE1")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert 'id="scan-read"' in html and "NOPE1" in html
    assert 'href="/units?q=NOPE1"' in html and 'href="/batches?q=NOPE1"' in html
    assert 'id="dossier"' not in html


def test_unit_search_lists_units_by_serial_prefix(session, login, make_batch):
    _, serials = make_batch(quantity=3)
    session.commit()
    html = login("engineer").get(f"/units?q={serials[0][:4]}").get_data(as_text=True)
    assert serials[0] in html
    assert "No unit starts with" in login("engineer").get("/units?q=%25_none").get_data(as_text=True)


# --- /scans/image ---------------------------------------------------------------------------------------------


def test_scan_image_with_a_datamatrix_of_a_unit_resolves_the_unit(session, api, make_batch):
    _, serials = make_batch(quantity=2)
    session.commit()
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(datamatrix_png(serials[1])),
                                                                        "label.png"), "station": "photo-desk"})
    assert resp.status_code == 200, resp.get_json()
    [code] = resp.get_json()["codes"]
    assert code["text"] == f"01{GTIN}21{serials[1]}" and code["format"] == "DataMatrix"
    assert code["symbology_id"] == "]d2" and code["confirmed"] is True and "action" not in code
    assert code["result"] == "unit" and code["matches"][0]["serial"] == serials[1]
    [row] = _logs(session, station="photo-desk")
    assert row.source == "image" and row.result == "unit"


def test_scan_image_accepts_jpeg(session, api, make_batch):
    _, serials = make_batch(quantity=1)
    session.commit()
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(datamatrix_png(serials[0], "JPEG")),
                                                                        "x.bin")})
    assert resp.get_json()["codes"][0]["result"] == "unit"


def test_unconfirmed_code_is_returned_for_a_rescan_and_not_resolved(session, api, make_batch, monkeypatch):
    _, serials = make_batch(quantity=1)
    session.commit()
    from serialtrace.scanner import DecodedCode
    from serialtrace.web.api import scans as api_module

    fake = DecodedCode(text=serials[0], raw=serials[0].encode(), format="Code128", symbology_id="]C0",
                       position=None, confirmed=False, method="retry:threshold")
    monkeypatch.setattr(api_module, "decode_image", lambda data: [fake])
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(code128_png("X")), "a.png")})
    [code] = resp.get_json()["codes"]
    assert code["confirmed"] is False and code["action"] == "rescan"
    assert "matches" not in code and "result" not in code
    assert _logs(session, raw="]C0" + serials[0]) == []


def test_scan_image_with_no_barcode_says_so(api, users):
    blank = _png(np.zeros((20, 20), dtype=bool), 4, 0)
    body = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(blank), "a.png")}).get_json()
    assert body["codes"] == [] and "no barcode found" in body["message"]


def test_scan_image_corrupt_bytes_is_422_with_message(api, users):
    corrupt = datamatrix_png("X")[:60]
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(corrupt), "a.png")})
    assert resp.status_code == 422
    assert resp.get_json() == {"error": "invalid_image", "message": "corrupt PNG image: cannot decode pixels",
                               "details": {"field": "image"}}


def test_scan_image_refuses_postscript_before_any_decoder_sees_it(api, users):
    # Pillow would open EPS and render it with Ghostscript; an upload must never reach that.
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(eps), "a.png")})
    assert resp.status_code == 422 and resp.get_json()["message"].startswith("not an image")


def test_scan_image_text_file_named_png_is_422(api, users):
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(b"serial,batch\n1,2\n"), "a.png")})
    assert resp.status_code == 422
    assert resp.get_json() == {"error": "invalid_image", "details": {"field": "image"},
                               "message": "not an image: send PNG, JPEG, WebP, GIF, BMP or TIFF"}


def test_scan_image_empty_and_missing_field_are_422(api, users):
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(b""), "a.png")})
    assert resp.status_code == 422 and "empty upload" in resp.get_json()["message"]
    resp = api("warehouse").post("/api/v1/scans/image", data={"photo": (io.BytesIO(b"x"), "a.png")})
    assert resp.status_code == 422 and "field image" in resp.get_json()["message"]


def test_scan_image_over_the_limit_is_413(runtime, tokens):
    from serialtrace.web import create_app

    small = create_app({"max_upload_bytes": 10_000}, runtime=runtime)
    small.config["MAX_CONTENT_LENGTH"] = 10_000
    resp = small.test_client().post("/api/v1/scans/image", headers={"Authorization": f"Bearer {tokens['warehouse']}"},
                                    data={"image": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 20_000), "a.png")})
    assert resp.status_code == 413
    assert resp.get_json()["message"] == "upload too large: the limit is 10000 bytes"


def test_scan_image_with_too_many_pixels_is_413(api, users):
    header = io.BytesIO()
    Image.new("1", (9000, 9000)).save(header, format="PNG")
    resp = api("warehouse").post("/api/v1/scans/image", data={"image": (io.BytesIO(header.getvalue()), "a.png")})
    assert resp.status_code == 413 and "pixels" in resp.get_json()["message"]


def test_scan_image_needs_a_login(app, users):
    resp = app.test_client().post("/api/v1/scans/image", data={"image": (io.BytesIO(b"x"), "a.png")})
    assert resp.status_code == 401


# --- /scans/frame ---------------------------------------------------------------------------------------------


def _frame(caller, png, station="cam-1"):
    return caller.post("/api/v1/scans/frame", data={"frame": (io.BytesIO(png), "frame.jpg"), "station": station})


@pytest.fixture
def frame_trackers(request):
    """The app's frame trackers: the real clock, or with `stepped_clock` one that moves 0.2 s per reading."""
    from serialtrace.scanner import FrameTrackers

    if getattr(request, "param", None) != "stepped":
        return None
    ticks = iter(i * 0.2 for i in range(1000))
    return FrameTrackers(clock=lambda: next(ticks))


# Frame confirmation counts time between frames; a stepped clock makes it independent of the machine's speed.
stepped_clock = pytest.mark.parametrize("frame_trackers", ["stepped"], indirect=True)


@stepped_clock
def test_a_1d_code_is_confirmed_only_after_several_frames(app, api, users):
    caller = api("warehouse")
    jpeg = code128_png("SN-4711", "JPEG")
    answers = [_frame(caller, jpeg).get_json() for _ in range(3)]
    assert [a["codes"][0]["text"] for a in answers] == ["SN-4711"] * 3
    assert answers[0]["confirmed"] == [] and answers[0]["pending"] == 1 and answers[0]["codes"][0]["action"] == "rescan"
    assert answers[1]["confirmed"] == []
    assert [c["code"] for c in answers[2]["confirmed"]] == ["]C0SN-4711"]
    # Held in view, the same label is not reported again.
    assert _frame(caller, jpeg).get_json()["confirmed"] == []


@stepped_clock
def test_frames_are_tracked_per_station(app, api, users):
    caller = api("warehouse")
    jpeg = code128_png("SN-4711", "JPEG")
    _frame(caller, jpeg, "cam-a")
    _frame(caller, jpeg, "cam-b")
    assert _frame(caller, jpeg, "cam-a").get_json()["confirmed"] == []
    assert _frame(caller, jpeg, "cam-a").get_json()["confirmed"] != []


@stepped_clock
def test_a_checked_gs1_datamatrix_is_confirmed_in_one_frame(app, api, session, make_batch):
    _, serials = make_batch(quantity=1)
    session.commit()
    body = _frame(api("warehouse"), datamatrix_png(serials[0], "JPEG")).get_json()
    assert [c["code"] for c in body["confirmed"]] == [f"]d201{GTIN}21{serials[0]}"]
    # The page submits the confirmed code like a typed scan; it names the unit.
    scan = api("warehouse").post("/api/v1/scans", json={"code": body["confirmed"][0]["code"],
                                                        "source": "camera"}).get_json()
    assert scan["result"] == "unit", scan


def test_frame_from_a_cookie_session_needs_the_csrf_header(login):
    client = login("engineer")
    jpeg = code128_png("SN-1", "JPEG")
    resp = client.post("/api/v1/scans/frame", data={"frame": (io.BytesIO(jpeg), "f.jpg")})
    assert resp.status_code == 400 and resp.get_json()["error"] == "csrf"
    token = csrf_from(client.get("/station").get_data(as_text=True))
    resp = client.post("/api/v1/scans/frame", data={"frame": (io.BytesIO(jpeg), "f.jpg")},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json()["codes"][0]["text"] == "SN-1"


def test_frame_that_is_not_an_image_is_422(api, users):
    resp = _frame(api("warehouse"), b"<html>")
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_image"


def test_openapi_lists_the_image_and_frame_endpoints(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "multipart/form-data" in doc["paths"]["/scans/image"]["post"]["requestBody"]["content"]
    assert "413" in doc["paths"]["/scans/image"]["post"]["responses"]
    assert "/scans/frame" in doc["paths"]


# --- scanner errors in the one error handler ------------------------------------------------------------------


def _raising_app(runtime, exc):
    """The app with one extra view that changes the database, then meets a scanner error raised below web."""
    from serialtrace.station.service import save_station_profile as save
    from serialtrace.web import create_app
    from serialtrace.web.database import db

    app = create_app(runtime=runtime)

    def fails():
        save(db(), name="half-done", profile={"separator": "^"})
        raise exc

    app.add_url_rule("/api/v1/fails", "api_fails", fails)
    app.add_url_rule("/fails", "page_fails", fails)
    return app


@pytest.mark.parametrize(("exc", "status", "body"), [
    (ScanError("(01) check digit 7 is wrong; expected 6", part="01"), 422,
     {"error": "invalid_scan", "message": "(01) check digit 7 is wrong; expected 6", "details": {"part": "01"}}),
    (ImageError("corrupt PNG image: cannot decode pixels"), 422,
     {"error": "invalid_image", "message": "corrupt PNG image: cannot decode pixels", "details": {"field": "image"}}),
    (ImageTooLarge("image too large: 9000x9000 pixels (limit 40000000 pixels)"), 413,
     {"error": "image_too_large", "message": "image too large: 9000x9000 pixels (limit 40000000 pixels)",
      "details": {"field": "image"}}),
    (DecoderBusy("every image decoder stayed busy for 1 s; try again shortly"), 503,
     {"error": "decoder_busy", "message": "every image decoder stayed busy for 1 s; try again shortly",
      "details": {"field": "image"}}),
], ids=["scan", "image", "too-large", "busy"])
def test_scanner_errors_from_below_web_answer_their_envelope_and_change_nothing(runtime, session, exc, status, body):
    resp = _raising_app(runtime, exc).test_client().get("/api/v1/fails")
    assert resp.status_code == status
    assert resp.get_json() == body
    assert find_station_profile(session, "half-done") is None


def test_a_scanner_error_on_a_page_is_the_error_page_with_its_message(runtime, session):
    resp = _raising_app(runtime, ScanError("(17) 251399 is not a valid date", part="17")).test_client().get("/fails")
    assert resp.status_code == 422
    assert "(17) 251399 is not a valid date" in resp.get_data(as_text=True)
    assert find_station_profile(session, "half-done") is None


# --- CLI station ----------------------------------------------------------------------------------------------


def test_cli_station_with_a_missing_camera_exits_1_with_one_line():
    from serialtrace.cli import main

    result = CliRunner().invoke(main, ["station", "--camera", "97"])
    assert result.exit_code == 1
    assert "error: camera 97 is not available" in result.output
    assert "Traceback" not in result.output


def test_cli_station_prints_beeps_and_posts_confirmed_codes(monkeypatch):
    from serialtrace import cli
    from serialtrace.cli import scanning
    from serialtrace.scanner import DecodedCode

    code = DecodedCode(text="SN-1", raw=b"SN-1", format="Code128", symbology_id="]C0", position=None, confirmed=True)

    def fake_run_camera(index, on_code, **kw):
        on_code(code)
        return 1

    posted = []

    def fake_post(server, token, body):
        posted.append((server, token, body))
        return {"result": "unit", "message": "PR-100 SN-1"}

    monkeypatch.setattr("serialtrace.scanner.run_camera", fake_run_camera)
    monkeypatch.setattr(scanning, "_post_scan", fake_post)
    result = CliRunner().invoke(cli.main, ["station", "--camera", "0", "--server", "http://h:5000", "--token", "t",
                                           "--station", "cli-desk"])
    assert result.exit_code == 0, result.output
    assert "\a" in result.output and "]C0SN-1" in result.output and "unit: PR-100 SN-1" in result.output
    assert posted == [("http://h:5000", "t", {"code": "]C0SN-1", "station": "cli-desk", "source": "camera"})]
    result = CliRunner().invoke(cli.main, ["station", "--camera", "0", "--json"])
    line = result.output.strip().splitlines()[-1]
    import json

    assert json.loads(line.strip("\a")) == {"code": "]C0SN-1", "text": "SN-1", "format": "Code128",
                                            "symbology_id": "]C0", "confirmed": True}


def test_cli_station_reports_an_unreachable_server_and_goes_on(monkeypatch):
    from serialtrace import cli
    from serialtrace.scanner import DecodedCode

    code = DecodedCode(text="SN-1", raw=b"SN-1", format="Code128", symbology_id="]C0", position=None, confirmed=True)
    monkeypatch.setattr("serialtrace.scanner.run_camera", lambda index, on_code, **kw: on_code(code) or 1)
    result = CliRunner().invoke(cli.main, ["station", "--camera", "0", "--server", "http://127.0.0.1:9",
                                           "--token", "t"])
    assert result.exit_code == 0
    assert "error: server http://127.0.0.1:9" in result.output
