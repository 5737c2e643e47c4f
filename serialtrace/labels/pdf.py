"""Streaming PDF writer: vector modules and text, pages written as they fill, memory flat."""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable, Iterable
from typing import IO, BinaryIO

from .content import label_content
from .errors import LabelError
from .layout import Placement, linear_geometry, matrix_module, place
from .model import LabelContent, LabelData
from .pdffont import EmbeddedTrueType, Helvetica, default_font
from .spool import spooled
from .symbols import linear_modules, matrix_modules, matrix_runs, runs
from .templates import LabelTemplate
from .text import fit

MM = 72 / 25.4
Font = Helvetica | EmbeddedTrueType


class PdfStream:
    """A PDF file written page by page; only object offsets are kept (8 bytes each)."""

    # Objects 1-3 are fixed; every page takes two more (content stream, page).
    CATALOG, PAGES, FONT, FIRST_PAGE = 1, 2, 3, 4

    def __init__(self, out: IO[bytes], width_pt: float, height_pt: float, font: Font | None = None) -> None:
        self.out = out
        self.font = font if font is not None else default_font()
        self.width_pt = width_pt
        self.height_pt = height_pt
        self.offsets = array("Q", [0, 0, 0])
        self.position = 0
        self.pages = 0
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._object(self.CATALOG, b"<< /Type /Catalog /Pages 2 0 R >>")
        head = self.font.head()
        if head is not None:
            self._object(self.FONT, head)

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)

    def _object(self, number: int, body: bytes) -> None:
        while len(self.offsets) < number:
            self.offsets.append(0)
        self.offsets[number - 1] = self.position
        self._write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def add_page(self, content: bytes) -> None:
        """Append one page whose content stream is `content` (PDF operators)."""
        number = self.FIRST_PAGE + 2 * self.pages
        packed = zlib.compress(content, 6)
        self._object(number, b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream")
        self._object(
            number + 1,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (self.width_pt, self.height_pt, number),
        )
        self.pages += 1

    def close(self) -> None:
        """Write the font objects that wait for the glyph list, the page tree, xref and trailer."""
        first = self.FIRST_PAGE + 2 * self.pages
        head, extra = self.font.tail(first)
        if head is not None:
            self._object(self.FONT, head)
        for index, body in enumerate(extra):
            self._object(first + index, body)
        self.offsets[self.PAGES - 1] = self.position
        self._write(b"2 0 obj\n<< /Type /Pages /Count %d /Kids [" % self.pages)
        for start in range(0, self.pages, 256):
            stop = min(self.pages, start + 256)
            self._write(b"".join(b"%d 0 R " % (self.FIRST_PAGE + 2 * i + 1) for i in range(start, stop)))
        self._write(b"] >>\nendobj\n")
        xref = self.position
        count = len(self.offsets) + 1
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for start in range(0, len(self.offsets), 256):
            self._write(b"".join(b"%010d 00000 n \n" % o for o in self.offsets[start : start + 256]))
        self._write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref))


def label_ops(
    content: LabelContent, placement: Placement, x_pt: float, top_pt: float, page_height_pt: float, font: Font
) -> bytes:
    """PDF operators drawing one label whose top-left corner is at (x_pt, top_pt) from the page top."""
    scale = 72 / placement.dpi
    origin_y = page_height_pt - top_pt  # y of the label's top edge in PDF space
    ops: list[bytes] = []
    if placement.matrix is not None and content.matrix is not None:
        modules = matrix_modules(content.matrix)
        rows, cols = modules.shape
        module = matrix_module(placement.matrix, rows, cols)
        size = module * scale
        # Work in module units: y grows downwards from the symbol's top-left corner.
        ops.append(b"q %.4f 0 0 %.4f %.3f %.3f cm\n" % (size, -size, x_pt + placement.matrix.x * scale,
                                                          origin_y - placement.matrix.y * scale))
        ops.append(b"".join(map(b"%d %d %d 1 re\n".__mod__, zip(*matrix_runs(modules), strict=True))))
        ops.append(b"f Q\n")
    if placement.linear is not None and content.linear is not None:
        pattern = linear_modules(content.linear)
        box = placement.linear
        left, module = linear_geometry(box, len(pattern))
        ops.append(b"q %.4f 0 0 %.4f %.3f %.3f cm\n" % (module * scale, box.height * scale, x_pt + left * scale,
                                                          origin_y - (box.y + box.height) * scale))
        ops.extend(b"%d 0 %d 1 re\n" % (c, n) for c, n in runs(pattern))
        ops.append(b"f Q\n")
    lines = placement.lines + ((placement.hri,) if placement.hri is not None else ())
    if lines:
        ops.append(b"BT\n")
        for line in lines:
            size = line.height * scale
            text = fit(line.text, line.height, line.width, font.width)
            ops.append(b"/F1 %.2f Tf 1 0 0 1 %.3f %.3f Tm %s Tj\n" % (
                size, x_pt + line.x * scale, origin_y - (line.y + line.height * 0.82) * scale, font.encode(text)))
        ops.append(b"ET\n")
    return b"".join(ops)


def render_pdf(
    labels: Iterable[LabelData],
    template: LabelTemplate,
    out: BinaryIO,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write labels as a PDF (multi-up sheet or one label per page); return how many.

    Nothing reaches `out` unless every label is valid: the job is spooled first.
    """
    sheet = template.sheet
    if sheet is None:
        page_w, page_h, per_page = template.width_mm * MM, template.height_mm * MM, 1
    else:
        page_w, page_h, per_page = sheet.page_width_mm * MM, sheet.page_height_mm * MM, sheet.per_page
    count = 0
    with spooled(out) as spool:
        pdf = PdfStream(spool, page_w, page_h)
        ops: list[bytes] = []
        for index, label in enumerate(labels):
            try:
                content = label_content(label, template)
                placement = place(content, template)
            except LabelError as exc:
                raise LabelError(exc.field, exc.rule, index=index) from exc
            slot = index % per_page
            if sheet is None:
                x, top = 0.0, 0.0
            else:
                col, row = slot % sheet.columns, slot // sheet.columns
                x = (sheet.left_mm + col * (sheet.column_pitch_mm or template.width_mm)) * MM
                top = (sheet.top_mm + row * (sheet.row_pitch_mm or template.height_mm)) * MM
            ops.append(label_ops(content, placement, x, top, page_h, pdf.font))
            count += 1
            if slot == per_page - 1:
                pdf.add_page(b"".join(ops))
                ops.clear()
            if progress is not None and count % 100 == 0:
                progress(count)
        if ops:
            pdf.add_page(b"".join(ops))
        if count == 0:
            raise LabelError("labels", "the job has no labels")
        pdf.close()
    if progress is not None:
        progress(count)
    return count
