"""Decoding rendered symbols and synthetic camera frames; clear errors for bad input."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from serialtrace.scanner import DecodedCode, ImageError, ScanError, decode_frame, decode_image
from serialtrace.scanner import decode as decode_module

from tests.scanner.conftest import png, render

GS1_DATA = "(01)09506000134352(17)270131(10)LOT7(21)SN0042"
GS1_TEXT = "01095060001343521727013110LOT7\x1d21SN0042"


@pytest.mark.parametrize(
    ("fmt", "sym_id"), [("DataMatrix", "]d2"), ("QRCode", "]Q3"), ("Code128", "]C1")]
)
def test_gs1_symbols_keep_separators_and_report_the_gs1_identifier(fmt, sym_id):
    codes = decode_image(png(render(GS1_DATA, fmt, gs1=True)))
    assert [(c.text, c.symbology_id, c.format, c.confirmed) for c in codes] == [
        (GS1_TEXT, sym_id, fmt, True)
    ]
    assert codes[0].raw == GS1_TEXT.encode()
    assert len(codes[0].position) == 4


def test_ean13_is_read_with_its_identifier():
    (code,) = decode_image(png(render("4006381333931", "EAN13", scale=3)))
    assert (code.text, code.format, code.symbology_id) == ("4006381333931", "EAN13", "]E0")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty image"),
        (b"hello, this is not a picture", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image"),
        ("text instead of bytes", "expected image bytes"),
    ],
)
def test_bad_input_is_a_clear_image_error(data, message):
    with pytest.raises(ImageError, match=message) as info:
        decode_image(data)
    assert isinstance(info.value, ScanError) and isinstance(info.value, ValueError)


def test_truncated_image_is_an_image_error_not_a_traceback():
    data = png(render("ABC-123", "QRCode"))
    with pytest.raises(ImageError, match="corrupt|not an image"):
        decode_image(data[: len(data) // 2])


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"") + _chunk(b"IEND", b"")


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (9000, 5000)])
def test_pixel_bomb_is_refused_from_its_header(width, height):
    with pytest.raises(ImageError, match="too large"):
        decode_image(_png_header_only(width, height))


def test_oversized_upload_is_refused(monkeypatch):
    monkeypatch.setattr(decode_module, "MAX_IMAGE_BYTES", 1000)
    with pytest.raises(ImageError, match="too large"):
        decode_image(png(render("X" * 60, "QRCode", scale=8)))


def test_a_value_found_only_by_a_retry_is_unconfirmed(monkeypatch):
    # Hide the first readers so only the preprocessing retries can find the symbol.
    real = decode_module._zxing
    monkeypatch.setattr(decode_module, "_zxing", lambda gray, **kw: [])
    monkeypatch.setattr(decode_module, "_pyzbar", lambda image, **kw: [])
    monkeypatch.setattr(
        decode_module, "_zxing_for_retry", lambda image, *, method: real(image, thorough=False, method=method)
    )
    codes = decode_image(png(render("SN-RETRY-1", "DataMatrix")))
    assert [(c.text, c.confirmed) for c in codes] == [("SN-RETRY-1", False)]
    assert codes[0].method.startswith("retry:")
    assert decode_image(png(render("SN-RETRY-1", "DataMatrix")), retries=False) == []


# Synthetic camera frames: a 1280x720 scene with the symbol pasted on grey "desk".
def _frame(*symbols: tuple[np.ndarray, int, int], angle: float = 0.0) -> np.ndarray:
    frame = np.full((720, 1280), 170, np.uint8)
    for image, x, y in symbols:
        h, w = image.shape
        frame[y : y + h, x : x + w] = image
    if angle:
        m = cv2.getRotationMatrix2D((640, 360), angle, 1.0)
        frame = cv2.warpAffine(frame, m, (1280, 720), borderValue=170)
    return frame


def _texts(codes: list[DecodedCode]) -> set[str]:
    return {c.text for c in codes}


def test_frame_with_blur_noise_and_rotation_is_read():
    frame = _frame((render(GS1_DATA, "DataMatrix", gs1=True, scale=6), 500, 200), angle=23)
    frame = cv2.GaussianBlur(frame, (5, 5), 1.2)
    noise = np.random.default_rng(7).normal(0, 12, frame.shape)
    frame = np.clip(frame + noise, 0, 255).astype(np.uint8)
    assert _texts(decode_frame(frame)) == {GS1_TEXT}


def test_low_contrast_frame_is_read():
    symbol = render("SN-LOWCONTRAST-9", "QRCode", scale=6)
    dim = (symbol.astype(np.float32) * 0.25 + 110).astype(np.uint8)  # 110..174 grey levels
    assert _texts(decode_frame(_frame((dim, 300, 200)))) == {"SN-LOWCONTRAST-9"}


def test_two_codes_in_view_are_both_read_from_a_colour_frame():
    frame = _frame(
        (render(GS1_DATA, "DataMatrix", gs1=True, scale=6), 100, 150),
        (render("SN-SECOND-2", "QRCode", scale=6), 800, 200),
    )
    codes = decode_frame(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    assert _texts(codes) == {GS1_TEXT, "SN-SECOND-2"}
    assert all(c.confirmed for c in codes)


def test_a_1d_code_in_one_frame_is_unconfirmed():
    frame = _frame((render("SN12345678", "Code128", scale=3), 300, 300))
    codes = decode_frame(frame)
    assert [(c.text, c.format, c.confirmed) for c in codes] == [("SN12345678", "Code128", False)]


@pytest.mark.parametrize(
    "frame",
    [np.zeros((0, 0), np.uint8), np.zeros((10, 10), np.float32), np.zeros((4, 4, 2), np.uint8), "x"],
)
def test_bad_frames_are_image_errors(frame):
    with pytest.raises(ImageError):
        decode_frame(frame)


def test_blank_frame_gives_no_codes():
    assert decode_frame(np.full((720, 1280, 3), 200, np.uint8)) == []


def test_a_large_frame_is_shrunk_and_positions_are_in_its_own_pixels():
    frame = np.full((1440, 2560), 170, np.uint8)
    symbol = render("SN-BIGFRAME-1", "QRCode", scale=10)
    h, w = symbol.shape
    frame[400 : 400 + h, 1200 : 1200 + w] = symbol
    (code,) = decode_frame(frame)
    assert code.text == "SN-BIGFRAME-1"
    xs = [x for x, _ in code.position]
    ys = [y for _, y in code.position]
    assert 1200 <= min(xs) and max(xs) <= 1200 + w and 400 <= min(ys) and max(ys) <= 400 + h


def test_a_very_large_still_is_decoded_at_half_size_with_positions_in_full_size():
    image = np.full((3000, 3000), 255, np.uint8)
    symbol = render("SN-BIGPHOTO-1", "DataMatrix", scale=16)
    h, w = symbol.shape
    image[1000 : 1000 + h, 2000 : 2000 + w] = symbol
    (code,) = decode_image(png(image))
    assert code.text == "SN-BIGPHOTO-1" and code.confirmed
    xs = [x for x, _ in code.position]
    assert 2000 <= min(xs) and max(xs) <= 2000 + w


def test_an_inverted_symbol_is_read_and_confirmed():
    codes = decode_image(png(255 - render("SN-INVERTED-1", "QRCode")))
    assert [(c.text, c.confirmed) for c in codes] == [("SN-INVERTED-1", True)]


def test_zbar_reads_are_never_confirmed(monkeypatch):
    # zbar decodes Shift-JIS QR text into the wrong characters, so a 2D read by zbar is no
    # more trusted than a 1D one.
    monkeypatch.setattr(decode_module, "_zxing", lambda gray, **kw: [])
    codes = decode_image(png(render("SN-ZBAR-1", "QRCode")), retries=False)
    assert [(c.text, c.method, c.confirmed) for c in codes] == [("SN-ZBAR-1", "pyzbar", False)]


def test_retries_stop_at_the_work_budget(monkeypatch):
    real = decode_module._zxing
    monkeypatch.setattr(decode_module, "_zxing", lambda gray, **kw: [])
    monkeypatch.setattr(decode_module, "_pyzbar", lambda image, **kw: [])
    monkeypatch.setattr(
        decode_module, "_zxing_for_retry", lambda image, *, method: real(image, thorough=False, method=method)
    )
    data = png(render("SN-BUDGET-1", "DataMatrix"))
    assert [c.text for c in decode_image(data)] == ["SN-BUDGET-1"]
    monkeypatch.setattr(decode_module, "RETRY_BUDGET_PIXELS", 0)
    assert decode_image(data) == []


@pytest.mark.parametrize("angle", [-50.0, -25.0, 35.0, 60.0])
def test_deskew_retry_turns_a_skewed_1d_symbol_upright(monkeypatch, angle):
    from serialtrace.scanner import retries

    bars = render("SN-SKEW-42", "Code128", scale=3)
    page = np.full((480, 640), 235, np.uint8)
    h, w = bars.shape
    page[240 - h // 2 : 240 - h // 2 + h, 320 - w // 2 : 320 - w // 2 + w] = bars
    m = cv2.getRotationMatrix2D((320, 240), angle, 1.0)
    page = cv2.warpAffine(page, m, (640, 480), borderValue=235)
    candidate = retries._deskew(page)
    assert candidate is not None
    found = decode_module._zxing_for_retry(candidate.image, method="retry:deskew")
    assert [c.text for c in found] == ["SN-SKEW-42"]
    # The symbol's corners map back inside the original picture, around its centre.
    xs, ys = zip(*retries.map_points(found[0].position, candidate), strict=True)
    assert abs(sum(xs) / 4 - 320) < 40 and abs(sum(ys) / 4 - 240) < 40
