"""Hostile images are refused from their header or stopped at a deadline, never decoded for minutes."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from serialtrace.scanner import ImageError, decode_frame, decode_image
from serialtrace.scanner import decode as decode_module
from serialtrace.scanner.header import MAX_JPEG_SCANS, count_jpeg_scans, read_header
from serialtrace.scanner.worker import DecoderBusy, DecoderPool, DecodeTimeout

from tests.scanner import hostile
from tests.scanner.conftest import png, render

# Far above what a refusal from the header costs (milliseconds), far below what decoding the
# hostile files used to cost (49 s for the repeated-scan JPEG below).
BOUND = 5.0


def _refused(data: bytes, match: str) -> ImageError:
    started = time.monotonic()
    with pytest.raises(ImageError, match=match) as info:
        decode_image(data)
    assert time.monotonic() - started < BOUND
    return info.value


def test_progressive_jpeg_repeating_one_scan_is_refused_unread():
    data = hostile.repeated_scan_jpeg(20_000)
    header = read_header(data)
    assert len(data) < 1_000_000 and (header.width, header.height) == (2000, 2000)
    error = _refused(data, "scans")
    assert error.message == (f"JPEG with more than {MAX_JPEG_SCANS} scans refused: a photo has about 10, "
                             "and decoding this many would take minutes")


def test_scan_count_follows_segments_not_stray_bytes():
    plain = hostile.progressive_jpeg(64, 64)
    scans = count_jpeg_scans(plain)
    assert 2 <= scans <= 12
    # An APP segment full of start-of-scan bytes (a thumbnail, a comment) is skipped by its length.
    body = b"\xff\xda" * 300
    app = b"\xff\xe5" + (len(body) + 2).to_bytes(2, "big") + body
    assert count_jpeg_scans(plain[:2] + app + plain[2:]) == scans
    assert count_jpeg_scans(hostile.repeated_scan_jpeg(5, 64, 64)) == scans + 5


def test_ordinary_progressive_and_baseline_jpegs_still_decode():
    label = render("SN-PROGRESSIVE-1", "DataMatrix", scale=6)
    for progressive in (True, False):
        out = io.BytesIO()
        Image.fromarray(label).save(out, "JPEG", progressive=progressive, quality=92)
        assert [c.text for c in decode_image(out.getvalue())] == ["SN-PROGRESSIVE-1"]


@pytest.mark.parametrize(("width", "height"), [(1000, 1), (1, 500), (9, 400), (2, 2)])
def test_thin_image_is_a_clear_error(width, height):
    error = _refused(hostile.png(width, height), "too thin")
    assert error.message == (f"image too thin: {width}x{height} pixels; "
                             "a barcode needs at least 10 pixels on each side")


@pytest.mark.parametrize(("width", "height", "side", "size"), [(70_000, 20, "width", 70_000),
                                                               (20, 65_536, "height", 65_536)])
def test_side_over_65535_is_a_clear_error(width, height, side, size):
    error = _refused(hostile.png(width, height), side)
    assert error.message == f"image {side} {size} pixels is over the limit of 65535 pixels per side"


@pytest.mark.parametrize(("width", "height"), [(60_000, 12), (12, 60_000), (5_000, 10)])
def test_long_strips_within_the_limits_decode_without_error(width, height):
    # The retries shrink, turn and upscale such strips; none of those steps may fail on them.
    assert decode_image(hostile.png(width, height)) == []


def test_thin_frame_is_a_clear_error():
    with pytest.raises(ImageError, match="frame too thin: 1280x4 pixels"):
        decode_frame(np.full((4, 1280), 255, np.uint8))


def test_retries_stop_at_the_time_budget(monkeypatch):
    real = decode_module._zxing
    monkeypatch.setattr(decode_module, "_zxing", lambda gray, **kw: [])
    monkeypatch.setattr(decode_module, "_pyzbar", lambda image, **kw: [])
    monkeypatch.setattr(
        decode_module, "_zxing_for_retry", lambda image, *, method: real(image, thorough=False, method=method)
    )
    data = png(render("SN-CLOCK-1", "DataMatrix"))
    assert [c.text for c in decode_image(data)] == ["SN-CLOCK-1"]
    monkeypatch.setattr(decode_module, "RETRY_TIME_BUDGET", 0.0)
    assert decode_image(data) == []


# --- worker processes with a deadline ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    pool = DecoderPool(2, timeout=1.0)
    yield pool
    pool.close()


def _label() -> bytes:
    return png(render("(01)09506000134352(21)SN-POOL-1", "DataMatrix", gs1=True))


def test_pool_decodes_like_the_library(pool):
    assert pool.decode_image(_label()) == decode_image(_label())
    frame = render("SN-FRAME-7", "QRCode", scale=6)
    assert [c.text for c in pool.decode_frame(png(frame))] == ["SN-FRAME-7"]


def test_pool_passes_header_refusals_on(pool):
    with pytest.raises(ImageError, match="too thin"):
        pool.decode_image(hostile.png(1000, 1))
    with pytest.raises(ImageError, match="scans"):
        pool.decode_frame(hostile.repeated_scan_jpeg(500))


@pytest.mark.slow  # waits for decode deadlines and worker restarts
def test_content_that_stalls_the_readers_is_stopped_at_the_deadline(pool):
    carpet = hostile.finder_carpet()
    started = time.monotonic()
    with pytest.raises(DecodeTimeout) as info:
        pool.decode_image(carpet)
    assert time.monotonic() - started < BOUND
    assert info.value.message == ("decoding did not finish within 1 s and was stopped; "
                                  "send a photo of the label alone, closer and sharper")
    assert info.value.status_code == 422
    # The stopped worker is replaced; the next photo is read as usual.
    assert [c.text for c in pool.decode_image(_label())] == ["0109506000134352" + "21SN-POOL-1"]


@pytest.mark.slow  # waits for decode deadlines and worker restarts
def test_a_worker_that_dies_mid_decode_is_an_image_error_and_is_replaced():
    pool = DecoderPool(1, timeout=30.0)
    try:
        pool.decode_image(_label())
        (worker,) = pool._idle
        killer = threading.Timer(0.3, worker.process.kill)
        killer.start()
        with pytest.raises(ImageError, match=r"the decoder stopped on this image \(exit status -9\)"):
            pool.decode_image(hostile.finder_carpet())
        assert len(pool.decode_image(_label())) == 1
    finally:
        pool.close()


@pytest.mark.slow  # waits for decode deadlines and worker restarts
def test_every_worker_busy_until_the_deadline_is_decoder_busy():
    pool = DecoderPool(1, timeout=3.0)
    try:
        pool.decode_image(_label())
        carpet, outcome = hostile.finder_carpet(), []

        def stall() -> None:
            try:
                pool.decode_image(carpet)
            except DecodeTimeout as exc:
                outcome.append(exc)

        slow = threading.Thread(target=stall)
        slow.start()
        started = time.monotonic()
        while pool._idle and time.monotonic() - started < BOUND:  # until the slow decode holds the worker
            time.sleep(0.01)
        with pytest.raises(DecoderBusy, match="every image decoder stayed busy for 0.5 s") as info:
            pool.decode_image(_label(), timeout=0.5)
        assert info.value.status_code == 503
        slow.join()
        assert len(outcome) == 1
        assert len(pool.decode_image(_label())) == 1
    finally:
        pool.close()


@pytest.mark.slow  # waits for decode deadlines and worker restarts
def test_a_decode_needing_more_memory_than_a_worker_may_use_is_refused():
    # A 6000x6000 progressive colour JPEG: libjpeg keeps 216 MB of coefficients for it.
    pixels = np.kron(np.random.default_rng(0).integers(0, 256, (150, 150, 3), np.uint8), np.ones((40, 40, 1), np.uint8))
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", progressive=True, quality=90, subsampling=0)
    pool = DecoderPool(1, timeout=30.0, memory=350 * 1024 * 1024)
    try:
        with pytest.raises(ImageError, match="more memory|cannot decode pixels"):
            pool.decode_image(out.getvalue())
        assert len(pool.decode_image(_label())) == 1
    finally:
        pool.close()
