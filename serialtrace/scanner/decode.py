"""Decode barcodes in still images and camera frames: zxing-cpp first, pyzbar as the fallback."""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from PIL import Image

from serialtrace.i18n import _l
from serialtrace.scanner import symbology
from serialtrace.scanner.errors import ImageError, ImageTooLarge
from serialtrace.scanner.header import IMAGE_FORMATS, MAX_SIDE, MIN_SIDE, ensure_decodable, read_header
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
# What labels and retail packs carry (our GS1 DataMatrix/QR/128 labels, EAN/UPC, supplier
# Code 39): a first pass over these alone costs about half of one over every format.
_COMMON_FORMATS = zxingcpp.BarcodeFormats(
    (zxingcpp.DataMatrix, zxingcpp.QRCode, zxingcpp.Code128, zxingcpp.EANUPC, zxingcpp.Code39)
)
# A camera station reads our labels and retail packs; every extra 1D reader costs several ms
# on a cluttered 1280x720 frame.
FRAME_FORMATS = zxingcpp.BarcodeFormats(
    (zxingcpp.DataMatrix, zxingcpp.QRCode, zxingcpp.Code128, zxingcpp.EANUPC)
)
# Frames larger than this on the long side are shrunk first: a label that fills a 4K frame
# has modules far larger than the readers need, and decoding time grows with the pixels.
_FRAME_MAX_SIDE = 1280
# Stills above this many pixels are decoded at half size (libjpeg scales during the DCT, so
# JPEG photos also load faster); a 12 MP phone photo still keeps 3 MP, plenty for a label.
_REDUCE_ABOVE_PIXELS = 8_000_000
# Work allowed for the preprocessing retries, in pixels handed to a reader: three retries of
# a 640x480 photo, about 10 ms of CPU on the benchmark machine. Counting pixels instead of reading a clock keeps the
# result of a decode the same on a busy machine.
RETRY_BUDGET_PIXELS = 1_000_000
# Wall-clock cap on the whole still decode before another retry starts: the pixel budget bounds
# ordinary photos, but zxing's cost also grows with what the picture holds (thousands of
# finder-like squares cost seconds per pass). Never reached by a photo the readers handle
# in normal time, so results stay the same on a busy machine.
RETRY_TIME_BUDGET = 1.5


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
    started = time.monotonic()
    gray, factor = _load(data)
    found = decode_gray(gray, retries=retries, started=started)
    return found if factor == 1 else [_scaled(code, factor) for code in found]


def decode_frame(frame: np.ndarray) -> list[DecodedCode]:
    """Decode one camera frame (grey or BGR array) on the fast path, without retries.

    1D results are unconfirmed: one frame is not enough evidence (see FrameTracker).
    """
    gray = _frame_to_gray(frame)
    h, w = gray.shape
    if min(h, w) < MIN_SIDE:
        raise ImageError(_l("frame too thin: %(width)sx%(height)s pixels; a barcode needs at least %(limit)s pixels on "
                              "each side", width=w, height=h, limit=MIN_SIDE))
    factor = 1.0
    if max(h, w) > _FRAME_MAX_SIDE:
        factor = max(h, w) / _FRAME_MAX_SIDE
        size = (max(1, round(w / factor)), max(1, round(h / factor)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    found = _zxing(gray, thorough=False, formats=FRAME_FORMATS)
    return [
        _with_confirmed(code if factor == 1 else _scaled(code, factor), not code.is_linear)
        for code in found
    ]


def decode_gray(
    gray: np.ndarray, *, retries: bool = True, started: float | None = None
) -> list[DecodedCode]:
    """Decode a greyscale still: zxing, then pyzbar, then (optionally) preprocessing retries.

    The retries stop at RETRY_BUDGET_PIXELS of work or RETRY_TIME_BUDGET seconds after
    `started` (a time.monotonic() value; default: now), and return what was found by then.
    """
    deadline = (time.monotonic() if started is None else started) + RETRY_TIME_BUDGET
    # Cheapest first: the common formats upright, then every format with inverted (light on
    # dark) symbols, which the quick pass does not look for.
    found = _zxing(gray, thorough=False, formats=_COMMON_FORMATS) or _zxing(gray, thorough=True)
    if found:
        return found
    # zbar has no Reed-Solomon check on 1D symbols and sometimes reads a fragment, and it
    # turns Shift-JIS QR text into the wrong characters, so none of its reads is trusted.
    found = [_with_confirmed(c, False) for c in _pyzbar(gray, method="pyzbar")]
    if found or not retries:
        return found
    spent = 0
    for step in RETRY_STEPS:
        if time.monotonic() > deadline:
            break
        candidate = step.apply(gray)
        if candidate is None or max(candidate.image.shape) > MAX_SIDE:
            # An upscaled long strip would be wider than zxing accepts.
            continue
        # Images nothing reads would otherwise run every step: stop when the work budget is
        # used up (steps are ordered by how many photos each one rescued).
        spent += candidate.image.size
        if spent > RETRY_BUDGET_PIXELS:
            break
        if step.decoder == "pyzbar":
            decoder = _pyzbar
        elif step.decoder == "zxing-global":
            decoder = _zxing_global_for_retry
        else:
            decoder = _zxing_for_retry
        codes = decoder(candidate.image, method=f"retry:{step.name}")
        if codes:
            return [_unconfirmed_in_original(c, candidate) for c in codes]
    return []


def load_gray(data: bytes) -> np.ndarray:
    """Turn encoded image bytes into a greyscale array, enforcing the size limits.

    Very large images come back at half size (see decode_image, which maps positions back).
    """
    return _load(data)[0]


def _load(data: bytes) -> tuple[np.ndarray, int]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"expected image bytes, got {type(data).__name__}")
    size = len(data)
    if size == 0:
        raise ImageError(_l("empty image: no bytes"))
    if size > MAX_IMAGE_BYTES:
        raise ImageTooLarge(_l("image too large: %(size)s bytes (limit %(limit)s)", size=size, limit=MAX_IMAGE_BYTES))
    header = read_header(bytes(data))
    ensure_decodable(header, max_pixels=MAX_IMAGE_PIXELS)
    width, height, kind = header.width, header.height, header.kind
    buffer = np.frombuffer(data, np.uint8)
    factor = 1
    if width * height > _REDUCE_ABOVE_PIXELS:
        gray = cv2.imdecode(buffer, cv2.IMREAD_REDUCED_GRAYSCALE_2)
        factor = 2
    else:
        gray = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)
    if gray is None:
        gray, factor = _pil_decode(bytes(data), kind), 1
    if gray.size == 0:
        raise ImageError(_l("corrupt %(kind)s image: no pixels decoded", kind=kind))
    return gray, factor


def _pil_decode(data: bytes, kind: str) -> np.ndarray:
    # OpenCV refuses some valid formats (GIF, some TIFF/BMP variants); PIL reads them.
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as img:
            return np.asarray(img.convert("L"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ImageError(_l("corrupt %(kind)s image: cannot decode pixels", kind=kind)) from None


def _frame_to_gray(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray):
        raise ImageError(f"expected a numpy frame, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ImageError(f"expected an 8-bit frame, got dtype {frame.dtype}")
    if frame.size == 0:
        raise ImageError("empty frame")
    if frame.size > MAX_IMAGE_PIXELS * 4:
        raise ImageTooLarge(f"frame too large: shape {frame.shape}")
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    raise ImageError(f"unsupported frame shape {frame.shape}")


def _zxing(
    gray: np.ndarray,
    *,
    thorough: bool,
    method: str = "zxing",
    formats: zxingcpp.BarcodeFormats = _FORMATS,
) -> list[DecodedCode]:
    # The quick pass (no inversion search) finds most symbols in a third of the time; the
    # thorough pass only runs when it found nothing. Turning 1D symbols by 90 degrees is
    # left to zbar, which scans columns as well as rows at a fraction of zxing's cost.
    barcodes = zxingcpp.read_barcodes(
        np.ascontiguousarray(gray),
        formats=formats,
        text_mode=_TEXT_MODE,
        try_rotate=False,
        try_invert=thorough,
        try_downscale=True,
    )
    return [_from_zxing(b, method) for b in barcodes if b.valid]


def _zxing_for_retry(image: np.ndarray, *, method: str) -> list[DecodedCode]:
    return _zxing(image, thorough=False, method=method, formats=_COMMON_FORMATS)


def _zxing_global_for_retry(image: np.ndarray, *, method: str) -> list[DecodedCode]:
    # One threshold for the whole image instead of zxing's local averages: reads symbols
    # whose modules carry pictures or texture (designer QR codes) that the local binariser
    # breaks up.
    barcodes = zxingcpp.read_barcodes(
        np.ascontiguousarray(image),
        formats=_COMMON_FORMATS,
        text_mode=_TEXT_MODE,
        binarizer=zxingcpp.Binarizer.GlobalHistogram,
        try_rotate=False,
        try_invert=False,
        try_downscale=True,
    )
    return [_from_zxing(b, method) for b in barcodes if b.valid]


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
    codes = []
    for sym in _zbar_decode(np.ascontiguousarray(image)):
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


# zbar scans every row and column by default; every second one reads the same DEV photos in
# half the time, since a symbol spans many lines (every third one read a junk Code 39 "39").
_ZBAR_DENSITY = 2


def _zbar_decode(image: np.ndarray) -> list:
    # Imported late: loading libzbar costs time and most scans never need it.
    from pyzbar import pyzbar

    try:
        from pyzbar.pyzbar import _decode_symbols, _image, _image_scanner, _symbols_for_image
        from pyzbar.wrapper import (
            ZBarConfig,
            zbar_image_scanner_set_config,
            zbar_image_set_data,
            zbar_image_set_format,
            zbar_image_set_size,
            zbar_scan_image,
        )
    except ImportError:  # another pyzbar release: its public decode, at full density
        return pyzbar.decode(image, symbols=_zbar_symbols())
    from ctypes import c_void_p, cast

    pixels = image.tobytes()
    height, width = image.shape[:2]
    with _image_scanner() as scanner:
        # pyzbar.decode cannot set the scan density, so this is its body with that added.
        zbar_image_scanner_set_config(scanner, pyzbar.ZBarSymbol.NONE, ZBarConfig.CFG_ENABLE, 0)
        for symbol in _zbar_symbols():
            zbar_image_scanner_set_config(scanner, symbol, ZBarConfig.CFG_ENABLE, 1)
        for axis in (ZBarConfig.CFG_X_DENSITY, ZBarConfig.CFG_Y_DENSITY):
            zbar_image_scanner_set_config(scanner, pyzbar.ZBarSymbol.NONE, axis, _ZBAR_DENSITY)
        with _image() as img:
            zbar_image_set_format(img, pyzbar._FOURCC["L800"])
            zbar_image_set_size(img, width, height)
            # ctypes takes bytes here at run time, as pyzbar's own decode does; typeshed does not list them.
            zbar_image_set_data(img, cast(pixels, c_void_p), len(pixels), None)  # type: ignore[arg-type]
            if zbar_scan_image(scanner, img) < 0:
                return []
            return list(_decode_symbols(_symbols_for_image(img)))


@functools.cache
def _zbar_symbols() -> list:
    from pyzbar.pyzbar import ZBarSymbol

    # zbar's interleaved 2 of 5 reader finds "codes" in the bars of EAN photos; zxing still
    # reads ITF, so zbar is not asked for it.
    skip = {ZBarSymbol.I25, ZBarSymbol.NONE, ZBarSymbol.PARTIAL, ZBarSymbol.COMPOSITE}
    return [s for s in ZBarSymbol if s not in skip]


def _scaled(code: DecodedCode, factor: float) -> DecodedCode:
    # Positions found in a shrunk image, in the pixels of the image the caller gave.
    if code.position is None:
        return code
    points = tuple((int(round(x * factor)), int(round(y * factor))) for x, y in code.position)
    return DecodedCode(
        code.text, code.raw, code.format, code.symbology_id, points, code.confirmed, code.method
    )


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
