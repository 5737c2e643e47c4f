"""Quarantine labels for returned units at the warranty desk (claim, serial, date, station)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from . import gs1data
from .content import ensure_text, parse_date
from .drawing import draw
from .errors import LabelError
from .layout import place
from .model import LabelContent, SymbolSpec
from .pdf import MM, PdfStream, label_ops
from .png import drawing_png
from .templates import DPIS, LabelTemplate
from .zpl import label_zpl

QUARANTINE_TEMPLATE = LabelTemplate(
    name="quarantine-50x25", width_mm=50, height_mm=25, dpi=203, symbol="code128",
    lines=(), margin_mm=1.5, linear_height_mm=7, font_size_pt=7,
)


@dataclass(frozen=True, slots=True)
class QuarantineData:
    """What a quarantine label shows; the barcode carries the serial for the test bench."""

    claim_number: str
    serial: str
    received_on: date
    station: str


def quarantine_content(data: QuarantineData) -> LabelContent:
    """Validate and lay out the text and the Code 128 of the serial."""
    gs1data.ensure_set82("serial", data.serial)
    claim = ensure_text("claim_number", data.claim_number, 40)
    if not claim:
        raise LabelError("claim_number", "must not be empty")
    station = ensure_text("station", data.station, 40)
    received = parse_date("received_on", data.received_on)
    if received is None:
        raise LabelError("received_on", "is required")
    lines = (f"CLAIM {claim}", f"SN {data.serial}", f"{received.isoformat()}  {station}".rstrip())
    return LabelContent(
        matrix=None,
        linear=SymbolSpec("code128", False, data.serial, hri=data.serial),
        lines=lines,
        title="QUARANTINE",
    )


def quarantine_label(
    claim_number: str,
    serial: str,
    received_on: date | str,
    station: str,
    *,
    fmt: str = "zpl",
    dpi: int = 203,
    template: LabelTemplate = QUARANTINE_TEMPLATE,
) -> bytes:
    """One quarantine label as ZPL (at `dpi`), PDF or PNG bytes."""
    content = quarantine_content(QuarantineData(claim_number, serial, received_on, station))  # type: ignore[arg-type]
    if fmt == "zpl":
        if dpi not in DPIS:
            raise LabelError("dpi", f"must be one of {', '.join(map(str, DPIS))}, got {dpi!r}")
        return label_zpl(content, place(content, template, dpi)).encode()
    if fmt == "png":
        return drawing_png(draw(content, place(content, template)), template.dpi)
    if fmt == "pdf":
        out = io.BytesIO()
        page_w, page_h = template.width_mm * MM, template.height_mm * MM
        pdf = PdfStream(out, page_w, page_h)
        pdf.add_page(label_ops(content, place(content, template), 0.0, 0.0, page_h, pdf.font))
        pdf.close()
        return out.getvalue()
    raise LabelError("fmt", f"must be zpl, pdf or png, got {fmt!r}")
