"""Read an image's header before decoding it, and refuse what would cost too much or cannot hold a barcode."""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from serialtrace.i18n import _l
from serialtrace.scanner.errors import ImageError, ImageTooLarge

# Only raster formats: Pillow would hand EPS/PostScript to Ghostscript, which must never see uploads.
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
# zxing-cpp refuses images wider or taller than this (a ValueError deep in a decode), and JPEG
# cannot describe more; checked up front so the answer names the side.
MAX_SIDE = 65_535
# The smallest Data Matrix is 10x10 modules; an image thinner than this holds no symbol, and
# OpenCV's resizing steps fail on a side that rounds to zero.
MIN_SIDE = 10
# A progressive JPEG is a series of scans, and libjpeg walks every block of the image once per
# scan however little data the scan carries. Encoders write about 10 (libjpeg's default
# script; mozjpeg's searched scripts stay under 20); a file repeating a scan thousands of times
# costs minutes. Above this many the file is refused unread.
MAX_JPEG_SCANS = 100

# Magic numbers of the formats a label photo or camera frame comes in; an upload with anything else
# is refused before any decoder sees it (Pillow would otherwise open EPS and hand it to Ghostscript).
UPLOAD_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)

# A JPEG marker: 0xFF (any fill bytes), then a code that is not a stuffed zero.
_MARKER = re.compile(rb"\xff+([^\x00\xff])")
# Markers without a length field: restart markers inside scans, SOI and TEM.
_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
_EOI, _SOS = 0xD9, 0xDA


@dataclass(frozen=True, slots=True)
class ImageHeader:
    """What the header says: format, size in pixels and, for JPEG, the number of scans."""

    kind: str
    width: int
    height: int
    scans: int = 1


def read_header(data: bytes) -> ImageHeader:
    """The format and size of encoded image bytes, from the header alone; ImageError if not an image."""
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as img:
            width, height = img.size
            kind = img.format or "unknown"
    except Image.DecompressionBombError:
        # Pillow's own ceiling (about 179 MP) fired: read the size past it, so the answer names the size and our
        # limit (ensure_decodable) rather than Pillow's English text.
        kind, (width, height) = _size_past_bomb_check(data)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error):
        raise ImageError(_l("not an image: format not recognised")) from None
    if width <= 0 or height <= 0:
        raise ImageError(_l("corrupt %(kind)s image: size %(width)sx%(height)s", kind=kind, width=width,
                            height=height))
    scans = count_jpeg_scans(data) if data[:2] == b"\xff\xd8" else 1
    return ImageHeader(kind, width, height, scans)


def _size_past_bomb_check(data: bytes) -> tuple[str, tuple[int, int]]:
    """Format and size from the header by the format's own reader (Image.open adds the bomb check; the readers do
    not decode pixels)."""
    Image.init()
    for kind in IMAGE_FORMATS:
        factory, accept = Image.OPEN[kind]
        if accept is not None and accept(data[:16]):
            try:
                with factory(io.BytesIO(data), "") as img:
                    return kind, img.size
            except (OSError, ValueError, SyntaxError, struct.error):
                break
    raise ImageError(_l("not an image: format not recognised"))


def ensure_decodable(header: ImageHeader, *, max_pixels: int) -> None:
    """Refuse an image whose decoding would be slow, huge or pointless, naming the reason."""
    for side, size in (("width", header.width), ("height", header.height)):
        if size > MAX_SIDE:
            raise ImageError(_l("image %(side)s %(size)s pixels is over the limit of %(limit)s pixels per side",
                                side=side, size=size, limit=MAX_SIDE))
    if min(header.width, header.height) < MIN_SIDE:
        raise ImageError(
            _l("image too thin: %(width)sx%(height)s pixels; a barcode needs at least %(limit)s pixels on each side",
               width=header.width, height=header.height, limit=MIN_SIDE)
        )
    if header.width * header.height > max_pixels:
        raise ImageTooLarge(
            _l("image too large: %(width)sx%(height)s pixels (limit %(limit)s pixels)", width=header.width,
               height=header.height, limit=max_pixels)
        )
    if header.scans > MAX_JPEG_SCANS:
        raise ImageError(
            _l("JPEG with more than %(max_jpeg_scans)s scans refused: a photo has about 10, and decoding this many "
               "would take minutes", max_jpeg_scans=MAX_JPEG_SCANS)
        )


def ensure_image_upload(data: bytes, *, limit: int) -> None:
    """Refuse an empty, oversized or non-image upload by its first bytes, before any decoding."""
    if not data:
        raise ImageError(_l("empty upload: the image has no bytes"))
    if len(data) > limit:
        raise ImageTooLarge(_l("image too large: %(size)s bytes (limit %(limit)s)", size=len(data), limit=limit))
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if not webp and not any(data.startswith(magic) for magic, _kind in UPLOAD_MAGIC):
        raise ImageError(_l("not an image: send PNG, JPEG, WebP, GIF, BMP or TIFF"))


def count_jpeg_scans(data: bytes, *, stop_after: int = MAX_JPEG_SCANS) -> int:
    """Count the start-of-scan markers libjpeg would read, walking segments by their lengths.

    Segments are skipped by their length fields, so a thumbnail inside an APP segment does
    not count; the entropy-coded data after a scan header is skipped to the next marker.
    Counting stops at `stop_after` + 1: the caller only needs to know the file is over it.
    """
    scans = 0
    pos = 2
    end = len(data)
    while scans <= stop_after:
        found = _MARKER.search(data, pos)
        if found is None:
            break
        code = found.group(1)[0]
        pos = found.end()
        if code == _EOI:
            break
        if code in _STANDALONE:
            continue
        if pos + 2 > end:
            break
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise ImageError(_l("corrupt JPEG image: segment 0x%(code)s at byte %(value)s has length %(length)s",
                                code=format(code, "02X"), value=pos - 2, length=length))
        if code == _SOS:
            scans += 1
        pos += length
    return scans
