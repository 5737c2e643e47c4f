"""Errors of the scanner package: every bad input ends in one of these, never in a traceback."""

from __future__ import annotations

from typing import Any


class ScanError(ValueError):
    """Scanned text that cannot be read as what it claims to be (names the offending part)."""

    status_code = 422
    code = "invalid_scan"

    def __init__(self, message: str, *, part: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.part = part
        self.details = details


class ImageError(ScanError):
    """An image or frame that cannot be decoded: empty, corrupt, too large or not an image."""

    code = "invalid_image"


class ImageTooLarge(ImageError):
    """An image or frame over the byte or pixel limit."""

    status_code = 413
    code = "image_too_large"


class CameraError(RuntimeError):
    """The camera cannot be opened or stopped delivering frames."""

    code = "camera_unavailable"
