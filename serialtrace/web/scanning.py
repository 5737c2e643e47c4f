"""The app's scanning state, shared by the station page and the scan API: its scan log writer and frame trackers."""

from __future__ import annotations

from flask import current_app

from ..scanner import FrameTrackers
from ..station.service import ScanLogWriter


def scan_log_writer() -> ScanLogWriter:
    """The app's scan log writer (one per app, made on first use)."""
    ext = current_app.extensions
    writer = ext.get("serialtrace_scan_log")
    if writer is None:
        # setdefault is atomic under the GIL: two first scans at once still share one writer and its queue.
        writer = ext.setdefault("serialtrace_scan_log", ScanLogWriter(ext["serialtrace"].sessions))
    return writer


def frame_trackers() -> FrameTrackers:
    """The app's frame trackers, one per station and user (one registry per app, made on first use)."""
    # setdefault is atomic under the GIL, so two first frames at once still share one registry.
    return current_app.extensions.setdefault("serialtrace_frames", FrameTrackers())

