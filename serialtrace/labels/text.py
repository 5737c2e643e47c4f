"""Fit human-readable lines into their width (Helvetica metrics, close enough for ZPL font 0)."""

from __future__ import annotations

from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import stringWidth


@lru_cache(maxsize=256)
def _width_per_dot(text: str) -> float:
    return stringWidth(text, "Helvetica", 1.0)


def fit(text: str, height: int, width: int) -> str:
    """Cut `text` so that it fits `width` dots when set `height` dots tall."""
    # No Helvetica glyph is wider than 1 em, so short lines need no measuring.
    if len(text) * height <= width or _width_per_dot(text) * height <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _width_per_dot(text[:middle]) * height <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low]
