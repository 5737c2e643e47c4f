"""Encode symbols to modules: 2D matrices with zxing-cpp, Code 128 / GS1-128 bars with python-barcode."""

from __future__ import annotations

import numpy as np
import zxingcpp
from barcode import Code128, Gs1_128

from .errors import LabelError
from .model import SymbolSpec

_FORMATS = {"datamatrix": zxingcpp.BarcodeFormat.DataMatrix, "qr": zxingcpp.BarcodeFormat.QRCode}
# python-barcode's marker for FNC1; in GS1-128 it stands for the GS separator.
_FNC1 = Gs1_128.FNC1_CHAR


def zxing_input(spec: SymbolSpec) -> str:
    """Input for zxing-cpp's GS1 mode: `[AI]value` (square brackets are outside set 82)."""
    if not spec.gs1:
        return spec.data
    return "".join(f"[{ai}]{value}" for ai, value in spec.pairs)


def matrix_modules(spec: SymbolSpec) -> np.ndarray:
    """Dark modules of a 2D symbol as a boolean array (rows, columns), without quiet zone."""
    try:
        symbol = zxingcpp.create_barcode(zxing_input(spec), _FORMATS[spec.kind], gs1=spec.gs1)
    except Exception as exc:  # zxing-cpp raises a bare RuntimeError-like type with the encoder's message
        raise LabelError("symbol", f"cannot encode {spec.kind}: {exc}") from exc
    return np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) < 128


def linear_modules(spec: SymbolSpec) -> str:
    """Module pattern ('1' bar, '0' space) of a Code 128 or GS1-128 symbol, without quiet zone."""
    if spec.gs1:
        # Gs1_128 adds the leading FNC1; separators become FNC1 inside the symbol.
        return Gs1_128(spec.data.replace("\x1d", _FNC1)).build()[0]
    return Code128(spec.data).build()[0]


def runs(row: str | np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    bits = np.frombuffer(row.encode(), dtype=np.uint8) == 49 if isinstance(row, str) else np.asarray(row, dtype=bool)
    padded = np.concatenate(([False], bits, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), (edges[1::2] - edges[0::2]).tolist(), strict=True))


def matrix_runs(modules: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Dark runs of every row of a matrix at once: (columns, rows, lengths)."""
    rows, cols = modules.shape
    padded = np.zeros((rows, cols + 2), dtype=np.int8)
    padded[:, 1:-1] = modules
    edges = np.diff(padded, axis=1)
    start_rows, start_cols = np.nonzero(edges == 1)
    _, end_cols = np.nonzero(edges == -1)  # row-major order pairs each end with its start
    return start_cols.tolist(), start_rows.tolist(), (end_cols - start_cols).tolist()

