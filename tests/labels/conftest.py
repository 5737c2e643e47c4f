"""Fixtures and decoders shared by the label tests."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from serialtrace.labels import LabelData

GS = "\x1d"
GTIN = "09506000134352"


@pytest.fixture
def unit() -> LabelData:
    """A production unit with every field set."""
    return LabelData(GTIN, "B2025-07", "SN000123", date(2025, 3, 14), "Widget Pro", "Acme GmbH", "W-100")


def make_units(count: int, *, start: int = 0) -> list[LabelData]:
    """`count` units of one batch with consecutive serials."""
    return [LabelData(GTIN, "B2025-07", f"SN{start + i:06d}", date(2025, 3, 14), "Widget Pro", "Acme")
            for i in range(start, start + count)]


def decode(image: Image.Image | np.ndarray) -> list[tuple[str, str]]:
    """(symbology identifier, text with GS kept) of every symbol zxing-cpp finds."""
    found = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    return sorted((b.symbology_identifier, b.text) for b in found)


def decode_png(data: bytes) -> list[tuple[str, str]]:
    """Decode a PNG given as bytes."""
    return decode(Image.open(io.BytesIO(data)).convert("L"))


def pyzbar_decode(image: Image.Image) -> list[tuple[str, bytes]]:
    """(type, data) of every symbol zbar finds."""
    from pyzbar import pyzbar

    return sorted((s.type, s.data) for s in pyzbar.decode(image))


def render_zpl_images(zpl: bytes, dpi: int) -> list[Image.Image]:
    """Render ZPL offline with zplkit, one grey image per label."""
    import zplkit

    document = zplkit.render(zpl, zplkit.Options(profile="specification", dpi=dpi))
    images = []
    for scene in document.labels:
        raster = scene.rasterize()
        images.append(Image.frombytes("L", (raster.width, raster.height), raster.pixels))
    return images


def rasterise_pdf(path: Path, dpi: int = 300, first: int = 1, last: int = 1) -> list[Image.Image]:
    """Pages of a PDF as images, via poppler's pdftoppm."""
    prefix = path.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", str(first), "-l", str(last), "-png", str(path),
                    str(prefix)], check=True, capture_output=True)
    pages = sorted(path.parent.glob(prefix.name + "-*.png"))
    return [Image.open(p).convert("L") for p in pages]


def pdf_page_count(path: Path) -> int:
    """Page count as poppler's pdfinfo reports it."""
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
