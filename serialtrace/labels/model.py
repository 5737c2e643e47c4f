"""Label input data and the symbol-level content derived from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class LabelData:
    """What one production label shows: product identity, batch and serial, and the expiry date (17) of products
    with a shelf life."""

    gtin: str | None
    batch: str
    serial: str
    produced_on: date | None
    product_name: str
    company: str = ""
    sku: str = ""
    url: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One barcode to draw: kind, GS1 or not, and the data it carries.

    `data` is the transmitted content (GS1 element string with GS separators for GS1
    symbols, plain text otherwise); `pairs` keeps the AI/value pairs for encoders that
    want them; `hri` is the human-readable line printed with linear symbols.
    """

    kind: str  # "datamatrix", "qr" or "code128"
    gs1: bool
    data: str
    pairs: tuple[tuple[str, str], ...] = ()
    hri: str = ""


@dataclass(frozen=True, slots=True)
class LabelContent:
    """Validated content of one label: at most one 2D symbol, one linear symbol, text lines."""

    matrix: SymbolSpec | None
    linear: SymbolSpec | None
    lines: tuple[str, ...]
    title: str = ""
