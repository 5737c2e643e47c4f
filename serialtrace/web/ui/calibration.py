"""The calibration test symbols (GS1-128 and GS1 DataMatrix of the scanner's known element string) as PNG data URLs."""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np
from PIL import Image

from ... import gs1
from ...labels.model import SymbolSpec
from ...labels.symbols import linear_modules, matrix_modules
from ...scanner.wedge import CALIBRATION_DATA

# Screen pixels per module: big enough for a handheld scanner to read off a monitor at arm's length.
LINEAR_MODULE_PX = 3
LINEAR_HEIGHT_PX = 110
MATRIX_MODULE_PX = 10
# Quiet zones in modules (GS1-128 needs 10, Data Matrix 1; 2 is kinder to phone cameras).
LINEAR_QUIET = 10
MATRIX_QUIET = 2


def calibration_spec(kind: str) -> SymbolSpec:
    """The symbol spec of the calibration element string, as a "code128" (GS1-128) or "datamatrix" symbol."""
    pairs = tuple(gs1.parse_element_string(CALIBRATION_DATA))
    return SymbolSpec(kind=kind, gs1=True, data=CALIBRATION_DATA, pairs=pairs)


def _png(dark: np.ndarray) -> bytes:
    image = Image.fromarray(np.where(dark, 0, 255).astype(np.uint8), mode="L")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def linear_png() -> bytes:
    """The GS1-128 calibration symbol as PNG bytes."""
    bits = np.frombuffer(linear_modules(calibration_spec("code128")).encode(), dtype=np.uint8) == ord("1")
    row = np.concatenate([np.zeros(LINEAR_QUIET, bool), bits, np.zeros(LINEAR_QUIET, bool)])
    return _png(np.repeat(np.tile(row, (LINEAR_HEIGHT_PX, 1)), LINEAR_MODULE_PX, axis=1))


def matrix_png() -> bytes:
    """The GS1 DataMatrix calibration symbol as PNG bytes."""
    dark = np.pad(matrix_modules(calibration_spec("datamatrix")), MATRIX_QUIET, constant_values=False)
    return _png(np.kron(dark, np.ones((MATRIX_MODULE_PX, MATRIX_MODULE_PX), dtype=bool)))


@lru_cache(maxsize=1)
def test_symbols() -> tuple[tuple[str, str], ...]:
    """(kind, data URL) of both calibration symbols; computed once, they never change."""
    return tuple((kind, "data:image/png;base64," + base64.b64encode(png()).decode("ascii"))
                 for kind, png in (("GS1-128", linear_png), ("GS1 DataMatrix", matrix_png)))


def human_readable() -> str:
    """The calibration data in bracketed form, printed under the symbols."""
    return "".join(f"({ai}){value}" for ai, value in gs1.parse_element_string(CALIBRATION_DATA))
