"""Pure scanning library: scan payload parsing, image and frame decoding, the camera loop."""

from serialtrace.scanner.decode import DecodedCode, decode_frame, decode_image
from serialtrace.scanner.errors import CameraError, ImageError, ScanError

__all__ = [
    "CameraError",
    "DecodedCode",
    "ImageError",
    "ScanError",
    "decode_frame",
    "decode_image",
]
