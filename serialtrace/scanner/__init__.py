"""Pure scanning library: scan payload parsing, image and frame decoding, the camera loop."""

from serialtrace.scanner.camera import FrameTracker, FrameTrackers, run_camera
from serialtrace.scanner.decode import DecodedCode, decode_frame, decode_image
from serialtrace.scanner.errors import CameraError, ImageError, ImageTooLarge, ScanError
from serialtrace.scanner.files import scan_files
from serialtrace.scanner.parse import ParsedScan, parse_scan
from serialtrace.scanner.wedge import RepeatFilter, ScannerProfile, calibrate

__all__ = [
    "CameraError",
    "DecodedCode",
    "FrameTracker",
    "FrameTrackers",
    "ImageError",
    "ImageTooLarge",
    "ParsedScan",
    "RepeatFilter",
    "ScanError",
    "ScannerProfile",
    "calibrate",
    "decode_frame",
    "decode_image",
    "parse_scan",
    "run_camera",
    "scan_files",
]
