"""Hostile images built on the spot: repeated JPEG scans, thin and over-wide PNGs, finder-pattern carpets."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def progressive_jpeg(width: int = 2000, height: int = 2000) -> bytes:
    """A plain grey progressive JPEG as libjpeg writes it (a handful of scans)."""
    out = io.BytesIO()
    Image.new("L", (width, height), 200).save(out, "JPEG", progressive=True, quality=90)
    return out.getvalue()


def repeated_scan_jpeg(repeats: int, width: int = 2000, height: int = 2000) -> bytes:
    """A progressive JPEG whose last scan is repeated `repeats` times before the end marker.

    Entropy-coded data never holds 0xFF 0xDA (an 0xFF in it is followed by 0x00), so the last
    start-of-scan marker in the file starts the last scan, which runs to the EOI marker.
    """
    data = progressive_jpeg(width, height)
    assert data.endswith(b"\xff\xd9")
    start = data.rfind(b"\xff\xda")
    scan = data[start:-2]
    return data[:-2] + scan * repeats + b"\xff\xd9"


def png(width: int, height: int, value: int = 255) -> bytes:
    """A real, complete one-colour greyscale PNG of the given size (any side up to 2**31 - 1)."""
    out = io.BytesIO()
    Image.new("L", (width, height), value).save(out, "PNG")
    return out.getvalue()


def finder_carpet(width: int = 3264, height: int = 2448) -> bytes:
    """A PNG tiled with 1-px QR finder-pattern look-alikes: zxing-cpp spends seconds per pass on it."""
    finder = np.zeros((7, 7), np.uint8)
    finder[1:6, 1:6] = 255
    finder[2:5, 2:5] = 0
    tile = np.pad(finder, 1, constant_values=255)
    pixels = np.tile(tile, (height // 9 + 1, width // 9 + 1))[:height, :width]
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()
