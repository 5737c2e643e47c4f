"""Fit human-readable lines into their width (Helvetica metrics, close enough for ZPL font 0)."""

from __future__ import annotations

from collections.abc import Callable

from reportlab.pdfbase.pdfmetrics import getFont


class _Widths(dict):
    """Helvetica advance widths (1/1000 em) by character; unknown characters count as a digit's width."""

    def __missing__(self, char: str) -> int:
        return 556


# reportlab's stringWidth is generic and several times slower for the one font we measure with.
_HELVETICA = _Widths({bytes([code]).decode("cp1252", errors="ignore"): width
                      for code, width in enumerate(getFont("Helvetica").widths)})
_HELVETICA.pop("", None)


def _width_per_dot(text: str) -> float:
    # sum(map(...)) over a dict lookup keeps the loop in C: every label has new serial text, so no cache helps.
    return sum(map(_HELVETICA.__getitem__, text)) / 1000.0


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
