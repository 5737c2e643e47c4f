"""Labels: GS1 content, barcode symbols, templates, PDF/ZPL/PNG/SVG output and printer transport."""

from .content import label_content
from .errors import LabelError, PrinterError
from .model import LabelContent, LabelData, SymbolSpec
from .pdf import render_pdf
from .png import render_png, render_svg
from .printer import send_zpl
from .quarantine import QUARANTINE_TEMPLATE, QuarantineData, quarantine_label
from .templates import LabelTemplate, SheetLayout, builtin_templates, load_template, template_from_mapping
from .zpl import render_zpl, zpl_bytes

__all__ = [
    "LabelContent", "LabelData", "LabelError", "LabelTemplate", "PrinterError", "QUARANTINE_TEMPLATE",
    "QuarantineData", "SheetLayout", "SymbolSpec", "builtin_templates", "label_content", "load_template",
    "quarantine_label", "render_pdf", "render_png", "render_svg", "render_zpl", "send_zpl",
    "template_from_mapping", "zpl_bytes",
]
