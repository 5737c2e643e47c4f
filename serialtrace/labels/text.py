"""Fit human-readable lines into their width (Helvetica metrics, close enough for ZPL font 0)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import getFont

# Helvetica advance widths (1/1000 em) by character; reportlab's stringWidth is generic and
# several times slower for the one font we measure with.
_HELVETICA = {bytes([code]).decode("cp1252", errors="ignore"): width
              for code, width in enumerate(getFont("Helvetica").widths)}
_HELVETICA.pop("", None)


@lru_cache(maxsize=256)
def _width_per_dot(text: str) -> float:
    get = _HELVETICA.get
    return sum(get(c, 556) for c in text) / 1000.0


def fit(text: str, height: int, width: int, measure: Callable[[str], float] | None = None) -> str:
    """Cut `text` so that it fits `width` dots when set `height` dots tall (Helvetica unless `measure`)."""
    # No glyph of our fonts is much wider than 1 em, so short lines need no measuring.
    if len(text) * height * 1.05 <= width:
        return text
    measure = measure or _width_per_dot
    if measure(text) * height <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) * height <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low]
