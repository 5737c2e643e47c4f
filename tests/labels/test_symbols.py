"""Every symbol we print decodes back to the same data with the right symbology identifier."""

from __future__ import annotations

import dataclasses

import pytest
from PIL import Image

from serialtrace.labels import LabelTemplate, builtin_templates, render_png, render_svg
from serialtrace.labels.code128 import plan

from .conftest import GS, GTIN, decode_png, pyzbar_decode

ELEMENT = f"01{GTIN}11250314" + f"10B>25_(7){GS}21SN000123"


@pytest.fixture
def tricky(unit):
    """A unit whose batch holds the characters ZPL and bracketed text treat specially."""
    return dataclasses.replace(unit, batch="B>25_(7)")


def _template(symbol: str, **extra) -> LabelTemplate:
    return LabelTemplate(name=symbol, width_mm=80, height_mm=40, dpi=300, symbol=symbol, **extra)


def test_gs1_datamatrix_decodes_as_d2(tricky):
    assert decode_png(render_png(tricky, _template("gs1-datamatrix"))) == [("]d2", ELEMENT)]


def test_gs1_qr_decodes_as_q3(tricky):
    assert decode_png(render_png(tricky, _template("gs1-qr"))) == [("]Q3", ELEMENT)]


def test_gs1_128_decodes_as_c1_with_fnc1_separator(tricky):
    template = LabelTemplate(name="wide", width_mm=120, height_mm=30, dpi=300, symbol="gs1-128", lines=())
    assert decode_png(render_png(tricky, template)) == [("]C1", ELEMENT)]


def test_gs1_128_too_wide_for_quarter_mm_modules_drops_the_production_date(tricky):
    found = decode_png(render_png(tricky, _template("gs1-128", lines=())))
    assert found == [("]C1", ELEMENT.replace("11250314", ""))]


def test_digital_link_qr_decodes_to_the_uri(unit):
    found = decode_png(render_png(unit, _template("digital-link-qr")))
    assert found == [("]Q1", f"https://id.gs1.org/01/{GTIN}/10/B2025-07/21/SN000123?11=250314")]


def test_label_without_gtin_has_code128_serial_and_url_qr(unit):
    plain = dataclasses.replace(unit, gtin=None, serial="A>B_1", url="https://trace.local/u/A%3EB_1")
    found = decode_png(render_png(plain, _template("gs1-datamatrix")))
    assert found == [("]C0", "A>B_1"), ("]Q1", "https://trace.local/u/A%3EB_1")]


def test_pyzbar_reads_the_linear_and_qr_symbols(unit, tmp_path):
    import io

    template = _template("digital-link-qr", linear="gs1-128")
    image = Image.open(io.BytesIO(render_png(unit, template))).convert("L")
    found = dict(pyzbar_decode(image))
    assert found["QRCODE"] == f"https://id.gs1.org/01/{GTIN}/10/B2025-07/21/SN000123?11=250314".encode()
    # zbar reports GS1-128 as CODE128 and passes FNC1 separators on as GS.
    assert found["CODE128"].replace(b"\x1d", b"").endswith(b"21SN000123")


@pytest.mark.parametrize("name", sorted(builtin_templates()))
def test_every_builtin_template_png_decodes(unit, name):
    found = decode_png(render_png(unit, builtin_templates()[name]))
    assert ("]d2", f"01{GTIN}11250314" + f"10B2025-07{GS}21SN000123") in found


def test_svg_is_vector_and_draws_the_same_modules_as_the_png(unit):
    template = builtin_templates()["roll-50x25"]
    svg = render_svg(unit, template)
    assert svg.startswith("<svg") and 'width="50mm"' in svg and "<image" not in svg
    assert "<text" in svg and "SN SN000123" in svg
    # Rasterise the path ourselves (M x y h w v h ... z) and decode it.
    import re

    from PIL import ImageDraw

    image = Image.new("L", (400, 200), 255)
    pen = ImageDraw.Draw(image)
    for x, y, w, h in re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)", svg):
        x, y, w, h = map(int, (x, y, w, h))
        pen.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
    assert decode_png(_png(image)) == [("]d2", f"01{GTIN}11250314" + f"10B2025-07{GS}21SN000123")]


def _png(image: Image.Image) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "gs1", "expected"),
    [
        (f"01{GTIN}10AB{GS}21X1", True, f">;>801{GTIN}10>6AB>821X1"),
        ("A>B", False, ">:A>0B"),
        ("123456", False, ">;123456"),
        ("AB123456", False, ">:AB>5123456"),
        ("AB12345", False, ">:AB1>52345"),
    ],
)
def test_zpl_code128_plan_switches_subsets_and_escapes(data, gs1, expected):
    assert plan(data, gs1=gs1).zpl == expected
