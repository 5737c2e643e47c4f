"""Fixtures for the scanner tests: rendered barcodes and the photo set in tests/data/barcodes."""

from __future__ import annotations

import csv
import re

import cv2
import numpy as np
import pytest
import zxingcpp

from tests.paths import BARCODES

_ESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")


def unescape(text: str) -> str:
    """Undo the manifest's escaping of backslashes and control characters."""
    return _ESCAPE.sub(lambda m: "\\" if m[1] == "\\" else chr(int(m[1][1:], 16)), text)


def render(content: str, fmt: str, *, gs1: bool = False, scale: int = 4) -> np.ndarray:
    """A clean greyscale image of one symbol, with a white margin."""
    barcode = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt), gs1=gs1)
    image = np.array(barcode.to_image(scale=scale))
    return cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)


def png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


@pytest.fixture(scope="session")
def manifest() -> list[dict[str, str]]:
    """The photo set's ground truth; the photos are in the repository, so a missing or empty set is a failure."""
    path = BARCODES / "manifest.csv"
    assert path.is_file(), f"barcode photo manifest missing: {path}"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, f"barcode photo manifest lists no images: {path}"
    return rows
