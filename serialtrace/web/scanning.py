"""The app's station helpers: its scan log writer and camera frame trackers, and how a separator reads on a page."""

from __future__ import annotations

from flask import current_app

from ..scanner import FrameTrackers
from ..station.service import ScanLogWriter
from .i18n import _


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


def describe_separator(separator: str) -> str:
    """A readable name for what a scanner sends between GS1 fields."""
    if separator == "\x1d":
        return _("GS (0x1D), as the standard says")
    if separator == "":
        return _("nothing: the scanner drops separators")
    return _("%(char)r stands for GS", char=separator)
