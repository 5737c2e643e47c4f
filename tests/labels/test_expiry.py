"""The expiry date (17): its place among the AIs, GS1-128 fitting that never drops it, and every output carrying
it so that decoding a rendered label gives it back."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from serialtrace.labels import (
    LabelError,
    LabelTemplate,
    builtin_templates,
    label_content,
    render_pdf,
    render_png,
    zpl_bytes,
)
from serialtrace.scanner import parse_scan

from .conftest import GS, GTIN, decode, decode_png, rasterise_pdf, render_zpl_images

TEMPLATES = builtin_templates()
# Produced 2025-03-14 with a 24-month shelf life: expires 2027-03-14.
ELEMENT = f"01{GTIN}11250314" + "17270314" + f"10B2025-07{GS}21SN000123"
WITHOUT_11 = ELEMENT.replace("11250314", "")


@pytest.fixture
def expiring(unit):
    return dataclasses.replace(unit, expires_on=date(2027, 3, 14))


def test_the_expiry_date_follows_the_production_date_among_the_fixed_length_ais(expiring):
    content = label_content(expiring, TEMPLATES["roll-50x25"])
    assert [ai for ai, _ in content.matrix.pairs] == ["01", "11", "17", "10", "21"]
    assert content.matrix.data == ELEMENT
    assert content.matrix.hri == f"(01){GTIN}(11)250314(17)270314(10)B2025-07(21)SN000123"
    assert content.lines == ("Widget Pro", "LOT B2025-07", "SN SN000123", "MFD 2025-03-14", "EXP 2027-03-14")


def test_gs1_128_drops_the_production_date_and_keeps_the_expiry_date(expiring):
    # 16 + 8 + 8 + 11 + 10 = 53 characters: over 48, so (11) goes, (17) stays.
    content = label_content(expiring, TEMPLATES["4x2in"])
    assert [ai for ai, _ in content.linear.pairs] == ["01", "17", "10", "21"]
    assert content.linear.data == WITHOUT_11
    assert content.matrix.data == ELEMENT  # the 2D symbol keeps everything


def test_a_label_whose_gs1_128_cannot_hold_the_expiry_date_is_refused(expiring):
    # Without (11) still 16 + 8 + 13 + 14 = 51 characters; dropping (17) would fit but is never done.
    long = dataclasses.replace(expiring, batch="B" * 10, serial="S" * 12)
    with pytest.raises(LabelError) as info:
        label_content(long, TEMPLATES["4x2in"])
    assert info.value.field == "serial"
    assert "at most 48 data characters, this label needs 51 with the expiry date (17)" in info.value.rule
    # The same data without an expiry date fits, as before.
    assert label_content(dataclasses.replace(long, expires_on=None), TEMPLATES["4x2in"]).linear is not None


@pytest.mark.parametrize(("change", "rule"), [
    ({"expires_on": date(2025, 3, 13)}, "2025-03-13 is before the production date 2025-03-14"),
    ({"expires_on": "2027-02-30"}, "not a valid date"),
    ({"expires_on": 20270314}, "must be a date"),
])
def test_a_bad_expiry_date_names_the_field(expiring, change, rule):
    with pytest.raises(LabelError) as info:
        label_content(dataclasses.replace(expiring, **change), TEMPLATES["roll-50x25"])
    assert info.value.field == "expires_on" and rule in info.value.rule


def test_the_digital_link_carries_the_expiry_date_as_an_attribute(expiring):
    template = LabelTemplate(name="dl", width_mm=50, height_mm=30, symbol="digital-link-qr")
    found = decode_png(render_png(expiring, template))
    assert found == [("]Q1", f"https://id.gs1.org/01/{GTIN}/10/B2025-07/21/SN000123?11=250314&17=270314")]


def test_a_product_without_a_gtin_shows_the_date_in_text_only(expiring):
    content = label_content(dataclasses.replace(expiring, gtin=None), TEMPLATES["roll-50x25"])
    assert content.linear.data == "SN000123" and "EXP 2027-03-14" in content.lines


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_builtin_template_png_decodes_with_the_expiry_date(expiring, name):
    found = decode_png(render_png(expiring, TEMPLATES[name]))
    assert ("]d2", ELEMENT) in found
    if name == "4x2in":
        assert ("]C1", WITHOUT_11) in found
    # What a scanner sends for each symbol (identifier, then data) reads back as (17) with the unit's serial.
    for symbology_id, text in found:
        scan = parse_scan(symbology_id + text)
        assert scan.ai["17"] == "270314" and scan.serial == "SN000123"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_zpl_carries_the_expiry_date_and_decodes(expiring, name):
    zpl = zpl_bytes([expiring], TEMPLATES[name], dpi=203)
    assert "EXP 2027-03-14" in zpl.decode()
    [image] = render_zpl_images(zpl, 203)
    found = decode(image)
    assert ("]d2", ELEMENT) in found
    if name == "4x2in":
        assert ("]C1", WITHOUT_11) in found


def test_pdf_carries_the_expiry_date_and_decodes(expiring, tmp_path):
    import subprocess

    path = tmp_path / "wide.pdf"
    with path.open("wb") as out:
        render_pdf([expiring], TEMPLATES["4x2in"], out)
    found = decode(rasterise_pdf(path, dpi=400)[0])
    assert found == [("]C1", WITHOUT_11), ("]d2", ELEMENT)]
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "EXP 2027-03-14" in text and "MFD 2025-03-14" in text


def test_labels_without_an_expiry_date_are_unchanged(unit):
    content = label_content(unit, TEMPLATES["roll-50x25"])
    assert "17" not in dict(content.matrix.pairs) and not any(line.startswith("EXP") for line in content.lines)
