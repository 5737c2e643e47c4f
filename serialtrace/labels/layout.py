"""Place a label's symbols and text lines in printer dots, shared by every output format."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .errors import LabelError
from .model import LabelContent
from .templates import LabelTemplate

QUIET_MODULES = 10  # Code 128 quiet zone on each side, in modules
MIN_FONT_DOTS = 8


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in dots from the label's top-left corner."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class TextLine:
    """One human-readable line: top-left corner, height in dots, text."""

    x: int
    y: int
    height: int
    width: int
    text: str


@dataclass(frozen=True, slots=True)
class Placement:
    """Where everything of one label goes, in dots at `dpi`."""

    dpi: int
    width: int
    height: int
    matrix: Box | None
    linear: Box | None
    hri: TextLine | None
    lines: tuple[TextLine, ...]


def mm_to_dots(mm: float, dpi: int) -> int:
    """Millimetres to whole printer dots."""
    return int(round(mm * dpi / 25.4))


def place(content: LabelContent, template: LabelTemplate, dpi: int | None = None) -> Placement:
    """Lay out one label: linear band at the bottom, 2D symbol top left, text to its right."""
    dpi = dpi or template.dpi
    width, height, matrix, linear, hri_slot, slots = _geometry(
        template, dpi, content.matrix is not None, content.linear is not None, len(content.lines), bool(content.title)
    )
    texts = ((content.title,) if content.title else ()) + content.lines
    lines = tuple(TextLine(*slot, text) for slot, text in zip(slots, texts, strict=True))
    hri = TextLine(*hri_slot, content.linear.hri) if hri_slot is not None and content.linear is not None else None
    return Placement(dpi, width, height, matrix, linear, hri, lines)


Slot = tuple[int, int, int, int]  # x, y, height, width of a text line


@lru_cache(maxsize=256)
def _geometry(
    template: LabelTemplate, dpi: int, has_matrix: bool, has_linear: bool, line_count: int, has_title: bool
) -> tuple[int, int, Box | None, Box | None, Slot | None, tuple[Slot, ...]]:
    # Positions depend only on the template and on which parts a label has, so a job
    # computes them once.
    width, height = mm_to_dots(template.width_mm, dpi), mm_to_dots(template.height_mm, dpi)
    margin = mm_to_dots(template.margin_mm, dpi)
    gap = max(2, mm_to_dots(1.0, dpi))
    font = max(MIN_FONT_DOTS, int(template.font_size_pt * dpi / 72))
    top, bottom = margin, height - margin

    linear = hri = None
    if has_linear:
        hri_height = max(MIN_FONT_DOTS, int(font * 0.9))
        bar_height = mm_to_dots(template.linear_height_mm, dpi)
        if bottom - top < bar_height + hri_height + gap:
            raise LabelError("linear_height_mm", "the linear symbol does not fit on the label")
        hri = (margin, bottom - hri_height, hri_height, width - 2 * margin)
        # The bars may use the whole label width: their quiet zones are the margin.
        linear = Box(0, bottom - hri_height - bar_height - 1, width, bar_height)
        bottom = linear.y - gap

    title_height = 0
    if has_title:
        title_height = min(int(font * 1.6), max(MIN_FONT_DOTS, (bottom - top) // 3))
    matrix = None
    text_x = margin
    if has_matrix:
        size = bottom - top - title_height
        if template.symbol_size_mm is not None:
            size = min(size, mm_to_dots(template.symbol_size_mm, dpi))
        if size < 10:
            raise LabelError("symbol_size_mm", "no room for the 2D symbol on the label")
        matrix = Box(margin, top + title_height, size, size)
        text_x = margin + size + gap

    slots: list[Slot] = []
    text_width = width - margin - text_x
    if has_title:
        slots.append((margin, top, title_height, width - 2 * margin))
        top += title_height + gap // 2
    if line_count:
        if text_width < 4 * MIN_FONT_DOTS:
            raise LabelError("width_mm", "no room for the text lines beside the symbol")
        pitch = min(int(font * 1.2), (bottom - top) // line_count)
        line_height = int(pitch / 1.2)
        if line_height < MIN_FONT_DOTS:
            raise LabelError("lines", f"{line_count} text lines do not fit on the label")
        slots.extend((text_x, top + index * pitch, line_height, text_width) for index in range(line_count))
    return width, height, matrix, linear, hri, tuple(slots)


def matrix_module(box: Box, rows: int, columns: int) -> int:
    """Whole dots per module for a rows x columns symbol in `box`; LabelError if under one dot."""
    module = box.width // max(rows, columns)
    if module < 1:
        raise LabelError("symbol_size_mm", f"a {rows}x{columns} symbol does not fit in {box.width} dots")
    return module


def linear_geometry(box: Box, modules: int, max_module: int | None = None) -> tuple[int, int]:
    """(left edge, dots per module) of a linear symbol centred in `box` with its quiet zones."""
    module = box.width // (modules + 2 * QUIET_MODULES)
    if max_module is not None:
        module = min(module, max_module)
    if module < 1:
        raise LabelError("width_mm", f"a Code 128 of {modules} modules does not fit in {box.width} dots")
    return box.x + (box.width - module * modules) // 2, module


@dataclass(frozen=True, slots=True)
class Drawing:
    """A label as dark rectangles and text lines, in dots (for PNG and SVG)."""

    width: int
    height: int
    rects: tuple[tuple[int, int, int, int], ...]
    texts: tuple[TextLine, ...]
