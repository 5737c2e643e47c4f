"""Decode barcodes in still images and camera frames: zxing-cpp first, pyzbar as the fallback."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import zxingcpp
from PIL import Image, UnidentifiedImageError

from serialtrace.scanner import symbology
from serialtrace.scanner.errors import ImageError
from serialtrace.scanner.retries import RETRY_STEPS, Candidate, map_points

# An upload larger than this is refused before it is decoded (a label photo is far smaller).
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# Pixel cap checked from the header, so a decompression bomb never reaches a decoder.
MAX_IMAGE_PIXELS = 40_000_000

Point = tuple[int, int]

_TEXT_MODE = zxingcpp.TextMode.Plain  # Plain keeps GS (0x1D) separators as real characters.
_FORMATS = zxingcpp.BarcodeFormats(
    (
        zxingcpp.DataMatrix,
        zxingcpp.QRCode,
        zxingcpp.MicroQRCode,
        zxingcpp.Aztec,
        zxingcpp.PDF417,
        zxingcpp.Code128,
        zxingcpp.EANUPC,
        zxingcpp.Code39,
        zxingcpp.Code93,
        zxingcpp.ITF,
        zxingcpp.Codabar,
        zxingcpp.DataBar,
        zxingcpp.DataBarExp,
        zxingcpp.DataBarLtd,
    )
)


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """One barcode found in an image or frame."""

    text: str
    raw: bytes
    format: str
    symbology_id: str | None
    position: tuple[Point, ...] | None
    confirmed: bool
    method: str = "zxing"

    @property
    def is_linear(self) -> bool:
        """True for 1D symbols, which carry no error correction and can misread."""
        return symbology.is_linear(self.format)


def decode_image(data: bytes, *, retries: bool = True) -> list[DecodedCode]:
    """Decode every barcode in an encoded still image (PNG, JPEG, WebP, ...).

    Raises ImageError for empty, corrupt, oversized or non-image input.
    """
    gray = load_gray(data)
    return decode_gray(gray, retries=retries)


def decode_frame(frame: np.ndarray) -> list[DecodedCode]:
    """Decode one camera frame (grey or BGR array) on the fast path, without retries.

    1D results are unconfirmed: one frame is not enough evidence (see FrameTracker).
    """
    gray = _frame_to_gray(frame)
    found = _zxing(gray, thorough=False)
    return [_with_confirmed(code, not code.is_linear) for code in found]


def decode_gray(gray: np.ndarray, *, retries: bool = True) -> list[DecodedCode]:
    """Decode a greyscale still: zxing, then pyzbar, then (optionally) preprocessing retries."""
    found = _zxing(gray, thorough=False) or _zxing(gray, thorough=True)
    if found:
        return found
    # zbar has no Reed-Solomon check on 1D symbols and sometimes reads a fragment, so only its
    # 2D reads are trusted.
    found = [_with_confirmed(c, not c.is_linear) for c in _pyzbar(gray, method="pyzbar")]
    if found or not retries:
        return found
    for step in RETRY_STEPS:
        candidate = step.apply(gray)
        if candidate is None:
            continue
        decoder = _pyzbar if step.decoder == "pyzbar" else _zxing_for_retry
        codes = decoder(candidate.image, method=f"retry:{step.name}")
        if codes:
            return [_unconfirmed_in_original(c, candidate) for c in codes]
    return []


def load_gray(data: bytes) -> np.ndarray:
    """Turn encoded image bytes into a greyscale array, enforcing the size limits."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"expected image bytes, got {type(data).__name__}")
    size = len(data)
    if size == 0:
        raise ImageError("empty image: no bytes")
    if size > MAX_IMAGE_BYTES:
        raise ImageError(f"image too large: {size} bytes (limit {MAX_IMAGE_BYTES})")
    width, height, kind = _probe_header(bytes(data))
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"image too large: {width}x{height} pixels (limit {MAX_IMAGE_PIXELS} pixels)"
        )
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        gray = _pil_decode(bytes(data), kind)
    if gray.size == 0:
        raise ImageError(f"corrupt {kind} image: no pixels decoded")
    return gray


def _probe_header(data: bytes) -> tuple[int, int, str]:
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            kind = img.format or "unknown"
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large: {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageError("not an image: format not recognised") from None
    if width <= 0 or height <= 0:
        raise ImageError(f"corrupt {kind} image: size {width}x{height}")
    return width, height, kind


def _pil_decode(data: bytes, kind: str) -> np.ndarray:
    # OpenCV refuses some valid formats (GIF, some TIFF/BMP variants); PIL reads them.
    try:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("L"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ImageError(f"corrupt {kind} image: cannot decode pixels") from None


def _frame_to_gray(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray):
        raise ImageError(f"expected a numpy frame, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ImageError(f"expected an 8-bit frame, got dtype {frame.dtype}")
    if frame.size == 0:
        raise ImageError("empty frame")
    if frame.size > MAX_IMAGE_PIXELS * 4:
        raise ImageError(f"frame too large: shape {frame.shape}")
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    raise ImageError(f"unsupported frame shape {frame.shape}")


def _zxing(gray: np.ndarray, *, thorough: bool, method: str = "zxing") -> list[DecodedCode]:
    # The quick pass (no rotation or inversion search) finds most symbols in a third of the
    # time; the thorough pass only runs when it found nothing.
    barcodes = zxingcpp.read_barcodes(
        np.ascontiguousarray(gray),
        formats=_FORMATS,
        text_mode=_TEXT_MODE,
        try_rotate=thorough,
        try_invert=thorough,
        try_downscale=True,
    )
    return [_from_zxing(b, method) for b in barcodes if b.valid]


def _zxing_for_retry(image: np.ndarray, *, method: str) -> list[DecodedCode]:
    return _zxing(image, thorough=False, method=method)


def _from_zxing(barcode: zxingcpp.Barcode, method: str) -> DecodedCode:
    pos = barcode.position
    points = tuple(
        (int(p.x), int(p.y))
        for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    )
    name = symbology.format_name(barcode.format.name)
    sym_id = barcode.symbology_identifier or None
    if barcode.content_type == zxingcpp.ContentType.GS1 and sym_id not in symbology.GS1_IDENTIFIERS:
        # zxing-cpp reports some GS1 Data Matrix symbols as ]d8 (an ECI or DMRE variant);
        # downstream only needs to know the content is GS1, which the plain identifier says.
        sym_id = symbology.GS1_IDENTIFIER_BY_FORMAT.get(name, sym_id)
    return DecodedCode(
        text=barcode.text,
        raw=bytes(barcode.bytes),
        format=name,
        symbology_id=sym_id,
        position=points,
        confirmed=True,
        method=method,
    )


def _pyzbar(image: np.ndarray, *, method: str) -> list[DecodedCode]:
    from pyzbar import pyzbar  # imported late: loading libzbar costs time and most scans never need it

    codes = []
    for sym in pyzbar.decode(np.ascontiguousarray(image), symbols=_zbar_symbols()):
        name = symbology.format_name(sym.type)
        raw = bytes(sym.data)
        text = raw.decode("utf-8", errors="replace")
        sym_id = symbology.guess_identifier(name, text)
        if sym_id in symbology.GS1_IDENTIFIERS and text.startswith("\x1d"):
            # zbar reports FNC1 in first position as a leading GS; the AIM id already says GS1.
            text = text[1:]
        points = tuple((int(p.x), int(p.y)) for p in sym.polygon) or None
        codes.append(
            DecodedCode(
                text=text,
                raw=raw,
                format=name,
                symbology_id=sym_id,
                position=points,
                confirmed=True,
                method=method,
            )
        )
    return codes


def _zbar_symbols() -> list:
    from pyzbar.pyzbar import ZBarSymbol

    # zbar's interleaved 2 of 5 reader finds "codes" in the bars of EAN photos; zxing still
    # reads ITF, so zbar is not asked for it.
    skip = {ZBarSymbol.I25, ZBarSymbol.NONE, ZBarSymbol.PARTIAL, ZBarSymbol.COMPOSITE}
    return [s for s in ZBarSymbol if s not in skip]


def _with_confirmed(code: DecodedCode, confirmed: bool) -> DecodedCode:
    if code.confirmed == confirmed:
        return code
    return DecodedCode(
        code.text, code.raw, code.format, code.symbology_id, code.position, confirmed, code.method
    )


def _unconfirmed_in_original(code: DecodedCode, candidate: Candidate) -> DecodedCode:
    points: Sequence[Point] | None = code.position
    if points is not None:
        points = map_points(points, candidate)
    return DecodedCode(
        code.text,
        code.raw,
        code.format,
        code.symbology_id,
        tuple(points) if points is not None else None,
        False,
        code.method,
    )
