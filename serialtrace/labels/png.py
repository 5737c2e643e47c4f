"""PNG previews and SVG drawings of single labels."""

from __future__ import annotations

import io
from functools import lru_cache
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from .content import label_content
from .drawing import draw
from .layout import Drawing, place
from .model import LabelData
from .templates import LabelTemplate


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:  # no DejaVu on this machine: Pillow's own scalable font
        return ImageFont.load_default(size)


def drawing_png(d: Drawing, dpi: int) -> bytes:
    """Rasterise a drawing at one pixel per printer dot."""
    image = Image.new("L", (d.width, d.height), 255)
    pen = ImageDraw.Draw(image)
    for x, y, w, h in d.rects:
        pen.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
    for t in d.texts:
        pen.text((t.x, t.y), t.text, fill=0, font=_font(t.height))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()


def drawing_svg(d: Drawing, width_mm: float, height_mm: float) -> str:
    """A drawing as SVG sized in mm, with one path for all modules and text as text."""
    path = "".join(f"M{x} {y}h{w}v{h}h-{w}z" for x, y, w, h in d.rects)
    texts = "".join(
        f'<text x="{t.x}" y="{t.y + round(t.height * 0.82)}" font-size="{t.height}">{escape(t.text)}</text>'
        for t in d.texts
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm" '
        f'viewBox="0 0 {d.width} {d.height}" shape-rendering="crispEdges">'
        f'<rect width="{d.width}" height="{d.height}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/>'
        f'<g font-family="Helvetica, Arial, DejaVu Sans, sans-serif" fill="#000">{texts}</g></svg>'
    )


def render_png(label: LabelData, template: LabelTemplate) -> bytes:
    """One label as a PNG at the template's DPI (one pixel per printer dot)."""
    content = label_content(label, template)
    return drawing_png(draw(content, place(content, template)), template.dpi)


def render_svg(label: LabelData, template: LabelTemplate) -> str:
    """One label as an SVG document sized in millimetres."""
    content = label_content(label, template)
    return drawing_svg(draw(content, place(content, template)), template.width_mm, template.height_mm)
