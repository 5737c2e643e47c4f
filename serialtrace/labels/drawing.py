"""Turn placed content into rectangles and text lines (the common ground of PNG and SVG)."""

from __future__ import annotations

from .layout import Drawing, Placement, linear_geometry, matrix_module
from .model import LabelContent
from .symbols import linear_modules, matrix_modules, matrix_runs, runs
from .text import fit


def draw(content: LabelContent, placement: Placement) -> Drawing:
    """Rectangles (x, y, width, height) of every dark module run, plus the fitted text lines."""
    rects: list[tuple[int, int, int, int]] = []
    if placement.matrix is not None and content.matrix is not None:
        modules = matrix_modules(content.matrix)
        rows, cols = modules.shape
        m = matrix_module(placement.matrix, rows, cols)
        x0, y0 = placement.matrix.x, placement.matrix.y
        rects.extend((x0 + c * m, y0 + r * m, n * m, m) for c, r, n in zip(*matrix_runs(modules), strict=True))
    if placement.linear is not None and content.linear is not None:
        pattern = linear_modules(content.linear)
        left, m = linear_geometry(placement.linear, len(pattern))
        box = placement.linear
        rects.extend((left + c * m, box.y, n * m, box.height) for c, n in runs(pattern))
    lines = placement.lines + ((placement.hri,) if placement.hri is not None else ())
    texts = tuple(
        type(line)(line.x, line.y, line.height, line.width, fit(line.text, line.height, line.width)) for line in lines
    )
    return Drawing(placement.width, placement.height, tuple(rects), texts)
