"""Camera station: confirm codes across frames, and the capture loop around cv2.VideoCapture."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from serialtrace.scanner.decode import DecodedCode, decode_frame
from serialtrace.scanner.errors import CameraError, ScanError
from serialtrace.scanner.symbology import GS1_IDENTIFIERS

_Key = tuple[str, str]
# The largest number of cameras FrameTrackers keeps a tracker for.
TRACKERS_MAX = 256


def is_checked_gs1_2d(code: DecodedCode) -> bool:
    """True for a 2D GS1 symbol whose element string validates (check digits included)."""
    if code.is_linear or code.symbology_id not in GS1_IDENTIFIERS:
        return False
    from serialtrace.scanner.parse import parse_scan  # late: parse pulls in the GS1 rules

    try:
        scan = parse_scan(code.symbology_id + code.text)
    except ScanError:
        return False
    return scan.kind == "gs1" and not scan.ambiguous


@dataclass
class FrameTracker:
    """Confirms codes seen across camera frames and reports each one once while it stays in view.

    A code is confirmed when it was decoded in `frames_needed` of the frames fed within the
    last `window` seconds; a 2D GS1 symbol that validates needs only `frames_needed_gs1_2d`.
    Once reported, a code is not reported again until it has been out of view for
    `repeat_after` seconds, so a label held under the camera counts as one scan.
    """

    frames_needed: int = 3
    frames_needed_gs1_2d: int = 1
    window: float = 1.0
    repeat_after: float = 2.0
    fast_confirm: Callable[[DecodedCode], bool] = is_checked_gs1_2d
    _sightings: dict[_Key, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _reported: dict[_Key, float] = field(default_factory=dict, init=False, repr=False)
    _fast_ok: dict[_Key, bool] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.frames_needed < 1 or self.frames_needed_gs1_2d < 1:
            raise ValueError("frames_needed must be at least 1")
        if self.window <= 0 or self.repeat_after < 0:
            raise ValueError("window must be positive and repeat_after not negative")

    def feed(self, codes: Iterable[DecodedCode], now: float) -> list[DecodedCode]:
        """Add one frame's decoded codes (seen at time `now`); return codes confirmed by it."""
        self._forget(now)
        confirmed: list[DecodedCode] = []
        in_frame: dict[_Key, DecodedCode] = {}
        for code in codes:
            in_frame.setdefault((code.format, code.text), code)
        for key, code in in_frame.items():
            if key in self._reported:
                self._reported[key] = now
                continue
            seen = self._sightings.setdefault(key, deque())
            seen.append(now)
            while seen and now - seen[0] > self.window:
                seen.popleft()
            if len(seen) >= self._needed(key, code):
                del self._sightings[key]
                self._reported[key] = now
                confirmed.append(replace(code, confirmed=True))
        return confirmed

    def pending(self) -> list[_Key]:
        """(format, text) of codes seen but not yet confirmed, for an on-screen hint."""
        return list(self._sightings)

    def _needed(self, key: _Key, code: DecodedCode) -> int:
        if key not in self._fast_ok:
            # Validation is the expensive part; do it once per code, not once per frame.
            self._fast_ok[key] = self.fast_confirm(code)
        return self.frames_needed_gs1_2d if self._fast_ok[key] else self.frames_needed

    def _forget(self, now: float) -> None:
        for key in [k for k, last in self._reported.items() if now - last > self.repeat_after]:
            del self._reported[key]
        for key in [k for k, seen in self._sightings.items() if now - seen[-1] > self.window]:
            del self._sightings[key]
            self._fast_ok.pop(key, None)


class FrameTrackers:
    """A FrameTracker per camera (any hashable key), least recently used dropped beyond `size`; thread-safe."""

    def __init__(
        self,
        size: int = TRACKERS_MAX,
        clock: Callable[[], float] = time.monotonic,
        factory: Callable[[], FrameTracker] = FrameTracker,
    ) -> None:
        self.size = size
        self.clock = clock
        self._factory = factory
        self._trackers: OrderedDict[Any, FrameTracker] = OrderedDict()
        self._lock = threading.Lock()

    def feed(self, key: Any, codes: list[DecodedCode]) -> tuple[list[DecodedCode], int]:
        """Feed one frame's codes to the tracker of `key`; return the confirmed codes and how many are pending."""
        # FrameTracker is not thread-safe and a threaded server may get two frames of one camera at once.
        with self._lock:
            tracker = self._trackers.pop(key, None) or self._factory()
            self._trackers[key] = tracker
            while len(self._trackers) > self.size:
                self._trackers.popitem(last=False)
            confirmed = tracker.feed(codes, self.clock())
            return confirmed, len(tracker.pending())

    def __len__(self) -> int:
        return len(self._trackers)


def run_camera(
    index: int,
    on_code: Callable[[DecodedCode], Any],
    *,
    tracker: FrameTracker | None = None,
    width: int = 1280,
    height: int = 720,
    max_frames: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_failed_reads: int = 30,
    open_capture: Callable[[int], Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Read frames from camera `index`, call `on_code` for every confirmed code; return their count.

    Runs until `should_stop()` is true or `max_frames` frames were read. Raises CameraError
    when the camera cannot be opened or stops delivering frames.
    """
    import cv2  # only the capture loop needs the video backend

    opener = open_capture or cv2.VideoCapture
    tracker = tracker or FrameTracker()
    capture = opener(index)
    try:
        if capture is None or not capture.isOpened():
            raise CameraError(f"camera {index} is not available (no device or no permission)")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        frames = failures = reported = 0
        while max_frames is None or frames < max_frames:
            if should_stop is not None and should_stop():
                break
            ok, frame = capture.read()
            if not ok or frame is None:
                failures += 1
                if failures >= max_failed_reads:
                    raise CameraError(f"camera {index} stopped delivering frames")
                continue
            failures = 0
            frames += 1
            for code in tracker.feed(decode_frame(frame), clock()):
                reported += 1
                on_code(code)
        return reported
    finally:
        if capture is not None:
            capture.release()
