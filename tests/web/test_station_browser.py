"""The station's camera and calibration in Debian's headless Chromium: no camera, a fake camera, a label on camera."""

from __future__ import annotations

import time

import numpy as np
import pytest

from serialtrace.labels.model import SymbolSpec
from serialtrace.labels.symbols import matrix_modules
from serialtrace.scanner.wedge import CALIBRATION_DATA
from serialtrace.station.queries import find_station_profile

from .live import BASE_ARGS, CHROMIUM, GTIN, live_app, login

FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on a real SQLite file served in a thread, with three units; yields (base URL, serials, runtime)."""
    with live_app(tmp_path_factory.mktemp("station-browser") / "app.sqlite") as served:
        yield served


@pytest.fixture
def launch(playwright):
    """Start Chromium with extra flags; closed after the test."""
    started = []

    def _launch(*extra: str):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS + list(extra))
        started.append(browser)
        return browser

    yield _launch
    for browser in started:
        browser.close()




def _y4m(path, gray: np.ndarray, frames: int = 10) -> None:
    """A Y4M video (what Chromium's fake camera plays) showing one greyscale picture."""
    height, width = gray.shape
    chroma = np.full((height // 2) * (width // 2), 128, dtype=np.uint8).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + gray.astype(np.uint8).tobytes() + chroma + chroma)


def _label_picture(serial: str) -> np.ndarray:
    spec = SymbolSpec(kind="datamatrix", gs1=True, data=f"01{GTIN}21{serial}", pairs=(("01", GTIN), ("21", serial)))
    modules = np.kron(matrix_modules(spec), np.ones((12, 12), dtype=bool))
    picture = np.full((480, 640), 255, dtype=np.uint8)
    top, left = (480 - modules.shape[0]) // 2, (640 - modules.shape[1]) // 2
    picture[top:top + modules.shape[0], left:left + modules.shape[1]][modules] = 0
    return picture


def test_camera_button_without_a_camera_says_so_clearly(live, launch):
    base, _, _ = live
    page = launch().new_page()
    login(page, base)
    page.click("#camera-button")
    page.wait_for_selector("#camera-message:not([hidden])")
    state = page.get_attribute("#camera-message", "data-state")
    text = page.inner_text("#camera-message")
    assert state in ("no-camera", "denied"), text
    assert "camera" in text.lower() or "Camera" in text
    # The typed scan still works: nothing was posted and the button is back.
    assert page.get_attribute("#camera", "data-frames-posted") is None
    assert page.is_visible("#camera-button")


def test_fake_camera_frames_are_posted_and_answered(live, launch):
    base, _, _ = live
    page = launch(*FAKE_CAMERA).new_page()
    login(page, base)
    page.click("#camera-button")
    # Polled from Python: wait_for_function would need eval, which the page's CSP forbids.
    deadline = time.monotonic() + 15
    while int(page.get_attribute("#camera", "data-frames-answered") or 0) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert int(page.get_attribute("#camera", "data-frames-answered") or 0) >= 3
    assert page.get_attribute("#camera-message", "data-state") == "looking"
    assert page.is_visible("#camera-stop")
    page.click("#camera-stop")
    assert page.is_visible("#camera-button") and not page.is_visible("#camera-video")


def test_label_held_to_the_camera_opens_the_unit(live, launch, tmp_path):
    base, serials, rt = live
    video = tmp_path / "label.y4m"
    _y4m(video, _label_picture(serials[2]))
    page = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}").new_page()
    login(page, base)
    page.click("#camera-button")
    page.wait_for_selector("#dossier", timeout=20_000)
    assert serials[2] in page.inner_text("#dossier")
    assert page.get_attribute("#scan-result", "data-result") == "unit"
    with rt.transaction() as s:
        from sqlalchemy import select

        from serialtrace.station.models import ScanLog

        sources = s.scalars(select(ScanLog.source).where(ScanLog.raw == f"]d201{GTIN}21{serials[2]}")).all()
    assert "camera" in sources


def test_calibration_by_keyboard_saves_the_profile(live, launch):
    base, _, rt = live
    page = launch().new_page()
    login(page, base, "/station/calibrate")
    assert page.evaluate("document.querySelectorAll('.calibration-symbols img').length") == 2
    # The name field has focus on a new station; Tab to the scan field; the scanner types and presses Enter.
    assert page.evaluate("document.activeElement.id") == "station"
    page.keyboard.type("browser-desk")
    page.keyboard.press("Tab")
    page.keyboard.type("]C1" + CALIBRATION_DATA.replace("\x1d", "|"), delay=2)
    page.keyboard.press("Enter")
    page.wait_for_selector("#learned")
    assert "'|' stands for GS" in page.inner_text("#learned-separator")
    with rt.transaction() as s:
        assert find_station_profile(s, "browser-desk") == {"prefix": "", "suffix": "", "separator": "|",
                                                          "layout": "latin"}
    page.goto(f"{base}/station")
    assert page.inner_text("#station-name") == "browser-desk"
