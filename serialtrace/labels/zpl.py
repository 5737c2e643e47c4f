"""ZPL II output for Zebra-compatible printers at 203, 300 or 600 dpi."""

from __future__ import annotations

import io
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import BinaryIO, TextIO

from . import code128
from .content import label_content
from .errors import LabelError
from .layout import Placement, linear_geometry, place
from .model import LabelContent, LabelData, SymbolSpec
from .spool import spooled
from .templates import DPIS, LabelTemplate
from .text import fit

# ECC 200 square symbols: (data codewords, modules per side).
_DATAMATRIX = [(3, 10), (5, 12), (8, 14), (12, 16), (18, 18), (22, 20), (30, 22), (36, 24), (44, 26),
               (62, 32), (86, 36), (114, 40), (144, 44), (174, 48), (204, 52), (280, 64), (368, 72),
               (456, 80), (576, 88), (696, 96), (816, 104), (1050, 120), (1304, 132), (1558, 144)]
_DATAMATRIX_CAPACITY = [c for c, _ in _DATAMATRIX]
_DIGIT_RUNS = re.compile(r"[0-9]{2,}")
# QR byte-mode capacity at error correction level M for versions 1..15.
_QR_BYTES_M = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412]
# ^FH turns _hh into a byte; these characters would otherwise be read as ZPL syntax.
_FH = str.maketrans({"_": "_5F", "^": "_5E", "~": "_7E"})


def datamatrix_size(spec: SymbolSpec) -> int:
    """Modules per side of the ECC 200 symbol a printer makes for `spec` (ASCII encodation bound)."""
    # ASCII encodation: a pair of digits is one codeword, anything else one each.
    pairs = sum(len(run) // 2 for run in _DIGIT_RUNS.findall(spec.data))
    codewords = len(spec.data) - pairs + (1 if spec.gs1 else 0)
    index = bisect_left(_DATAMATRIX_CAPACITY, codewords)
    if index == len(_DATAMATRIX):
        raise LabelError("symbol", "too much data for a Data Matrix")
    return _DATAMATRIX[index][1]


def qr_size(spec: SymbolSpec) -> int:
    """Modules per side of the QR code (byte mode, level M) for `spec`."""
    index = bisect_left(_QR_BYTES_M, len(spec.data.encode()))
    if index == len(_QR_BYTES_M):
        raise LabelError("url", "too long for a QR code on a label")
    return 17 + 4 * (index + 1)


def _datamatrix_field(spec: SymbolSpec) -> str:
    # `_` is the escape character set in ^BX: `_1` is FNC1, a literal underscore is `__`.
    data = spec.data.replace("_", "__")
    if spec.gs1:
        return "_1" + data.replace("\x1d", "_1")
    return data


def label_zpl(content: LabelContent, placement: Placement) -> str:
    """One label as a ZPL format (`^XA` ... `^XZ`)."""
    parts = [f"^XA^CI28^PW{placement.width}^LL{placement.height}^LH0,0\n"]
    box = placement.matrix
    if box is not None and content.matrix is not None:
        spec = content.matrix
        if spec.kind == "datamatrix":
            module = box.width // datamatrix_size(spec)
            if module < 1:
                raise LabelError("symbol_size_mm", "the Data Matrix does not fit its box")
            parts.append(f"^FO{box.x},{box.y}^BXN,{module},200,,,,_^FD{_datamatrix_field(spec)}^FS\n")
        elif spec.gs1:
            raise LabelError("symbol", "GS1 QR is not available in ZPL output; use gs1-datamatrix or digital-link-qr")
        else:
            module = min(10, box.width // qr_size(spec))
            if module < 1:
                raise LabelError("symbol_size_mm", "the QR code does not fit its box")
            parts.append(f"^FO{box.x},{box.y}^BQN,2,{module}^FH_^FDMA,{spec.data.translate(_FH)}^FS\n")
    if placement.linear is not None and content.linear is not None:
        spec = content.linear
        bars = code128.plan(spec.data, gs1=spec.gs1)
        line = placement.linear
        left, module = linear_geometry(line, bars.modules, max_module=10)  # ^BY takes 1 to 10 dots
        parts.append(f"^FO{left},{line.y}^BY{module}^BCN,{line.height},N,N,N,N^FD{bars.zpl}^FS\n")
    texts = placement.lines + ((placement.hri,) if placement.hri is not None else ())
    for t in texts:
        text = fit(t.text, t.height, t.width).translate(_FH)
        parts.append(f"^FO{t.x},{t.y}^A0N,{t.height},{t.height}^FH_^FD{text}^FS\n")
    parts.append("^XZ\n")
    return "".join(parts)


def render_zpl(
    labels: Iterable[LabelData],
    template: LabelTemplate,
    out: TextIO | BinaryIO,
    *,
    dpi: int = 203,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write one ZPL format per label (UTF-8, `^CI28`); return how many.

    Nothing reaches `out` unless every label is valid: the job is spooled first.
    """
    if dpi not in DPIS:
        raise LabelError("dpi", f"must be one of {', '.join(map(str, DPIS))}, got {dpi!r}")
    count = 0
    with spooled(out, text_encoding="utf-8") as spool:
        buffer: list[str] = []
        for index, label in enumerate(labels):
            try:
                content = label_content(label, template)
                buffer.append(label_zpl(content, place(content, template, dpi)))
            except LabelError as exc:
                raise LabelError(exc.field, exc.rule, index=index) from exc
            count += 1
            if count % 500 == 0:
                spool.write("".join(buffer).encode())
                buffer.clear()
                if progress is not None:
                    progress(count)
        if count == 0:
            raise LabelError("labels", "the job has no labels")
        spool.write("".join(buffer).encode())
    if progress is not None:
        progress(count)
    return count


def zpl_bytes(labels: Iterable[LabelData], template: LabelTemplate, *, dpi: int = 203) -> bytes:
    """Convenience: the ZPL of a (small) job as bytes, ready for `send_zpl`."""
    out = io.BytesIO()
    render_zpl(labels, template, out, dpi=dpi)
    return out.getvalue()
