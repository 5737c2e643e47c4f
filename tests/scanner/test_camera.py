"""Frame confirmation and the camera loop, with times and captures supplied by the test."""

from __future__ import annotations

import numpy as np
import pytest

from serialtrace.scanner import CameraError, DecodedCode, FrameTracker, FrameTrackers, run_camera

from tests.scanner.conftest import render


def code(text: str, fmt: str = "Code128", sym_id: str | None = "]C0") -> DecodedCode:
    return DecodedCode(text, text.encode(), fmt, sym_id, None, confirmed=False)


GS1_DM = "010950600013435221SN1\x1d10LOT1"


def test_1d_code_confirms_after_n_frames_and_is_reported_once():
    tracker = FrameTracker(frames_needed=3)
    seen = [tracker.feed([code("SN1")], now=t / 30) for t in range(10)]
    assert [len(s) for s in seen] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert seen[2][0].confirmed and seen[2][0].text == "SN1"


def test_valid_gs1_2d_symbol_confirms_in_one_frame():
    tracker = FrameTracker(frames_needed=3)
    (got,) = tracker.feed([code(GS1_DM, "DataMatrix", "]d2")], now=0.0)
    assert got.confirmed


def test_gs1_2d_symbol_with_a_bad_check_digit_needs_n_frames():
    bad = code("010950600013435321SN1", "DataMatrix", "]d2")
    tracker = FrameTracker(frames_needed=2)
    assert tracker.feed([bad], now=0.0) == []
    assert len(tracker.feed([bad], now=0.1)) == 1


def test_sightings_outside_the_window_do_not_add_up():
    tracker = FrameTracker(frames_needed=2, window=0.5)
    assert tracker.feed([code("SN1")], now=0.0) == []
    assert tracker.feed([code("SN1")], now=2.0) == []
    assert len(tracker.feed([code("SN1")], now=2.1)) == 1


def test_same_code_again_after_leaving_view_is_reported_again():
    tracker = FrameTracker(frames_needed=1, repeat_after=1.0)
    assert len(tracker.feed([code("SN1")], now=0.0)) == 1
    assert tracker.feed([code("SN1")], now=0.5) == []  # still in view
    assert tracker.feed([], now=1.0) == []
    assert len(tracker.feed([code("SN1")], now=2.6)) == 1


def test_duplicates_within_one_frame_count_once():
    tracker = FrameTracker(frames_needed=2)
    assert tracker.feed([code("SN1"), code("SN1")], now=0.0) == []
    assert tracker.pending() == [("Code128", "SN1")]


def test_two_codes_are_tracked_separately():
    tracker = FrameTracker(frames_needed=2)
    tracker.feed([code("A1"), code("B2")], now=0.0)
    got = tracker.feed([code("A1")], now=0.1)
    assert [c.text for c in got] == ["A1"]


def test_bad_tracker_settings_are_refused():
    with pytest.raises(ValueError):
        FrameTracker(frames_needed=0)


class FakeCapture:
    """Stands in for cv2.VideoCapture: plays back a list of frames."""

    def __init__(self, frames, opened=True):
        self.frames = list(frames)
        self.opened = opened
        self.released = False

    def isOpened(self):
        return self.opened

    def set(self, prop, value):
        return True

    def read(self):
        if not self.frames:
            return False, None
        return True, self.frames.pop(0)

    def release(self):
        self.released = True


def test_run_camera_reports_confirmed_codes():
    blank = np.full((720, 1280), 200, np.uint8)
    frame = blank.copy()
    symbol = render("SN-CAM-7", "Code128", scale=3)
    frame[300 : 300 + symbol.shape[0], 200 : 200 + symbol.shape[1]] = symbol
    capture = FakeCapture([frame, blank, frame, frame, frame])
    ticks = iter(i / 30 for i in range(100))
    got: list[DecodedCode] = []
    count = run_camera(
        0, got.append, max_frames=5, open_capture=lambda i: capture, clock=lambda: next(ticks)
    )
    assert count == 1 and [(c.text, c.confirmed) for c in got] == [("SN-CAM-7", True)]
    assert capture.released


def test_missing_camera_is_a_clear_error():
    capture = FakeCapture([], opened=False)
    with pytest.raises(CameraError, match="camera 3 is not available"):
        run_camera(3, print, open_capture=lambda i: capture)
    assert capture.released


def test_camera_that_stops_delivering_frames_is_an_error():
    with pytest.raises(CameraError, match="stopped delivering"):
        run_camera(0, print, open_capture=lambda i: FakeCapture([]), max_failed_reads=3)


def test_real_videocapture_on_a_missing_device_is_a_camera_error():
    with pytest.raises(CameraError):
        run_camera(97, print, max_frames=1)


def test_frame_tracker_registry_is_bounded():
    trackers = FrameTrackers(size=3)
    for i in range(10):
        trackers.feed((f"s{i}", 1), [])
    assert len(trackers) == 3


def test_frame_trackers_keep_one_tracker_per_camera():
    clock = iter(i * 0.2 for i in range(100))
    trackers = FrameTrackers(clock=lambda: next(clock))
    for _ in range(2):
        assert trackers.feed(("cam-a", 1), [code("SN1")]) == ([], 1)
        trackers.feed(("cam-b", 1), [code("SN1")])
    confirmed, pending = trackers.feed(("cam-a", 1), [code("SN1")])
    assert [c.text for c in confirmed] == ["SN1"] and pending == 0
