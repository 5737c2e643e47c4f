"""Label content: GS1 rules, fallbacks without a GTIN, and errors that name the field."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import pytest

from serialtrace.labels import LabelError, builtin_templates, label_content, render_pdf, render_zpl
from serialtrace.labels.templates import LabelTemplate

from .conftest import GS, GTIN

ROLL = builtin_templates()["roll-50x25"]
WIDE = builtin_templates()["4x2in"]


def test_gs1_datamatrix_carries_gtin_date_batch_and_serial_in_order(unit):
    content = label_content(unit, ROLL)
    assert content.matrix.kind == "datamatrix" and content.matrix.gs1
    assert content.matrix.data == f"01{GTIN}11250314" + f"10B2025-07{GS}21SN000123"
    assert content.lines == ("Widget Pro", "LOT B2025-07", "SN SN000123", "MFD 2025-03-14")


def test_short_gtins_are_padded_to_14_digits(unit):
    content = label_content(dataclasses.replace(unit, gtin="9506000134352"), ROLL)
    assert content.matrix.data.startswith(f"01{GTIN}")


def test_gs1_128_drops_the_production_date_first_when_over_48_characters(unit):
    long = dataclasses.replace(unit, batch="B" * 10, serial="S" * 12)
    content = label_content(long, WIDE)
    assert [ai for ai, _ in content.linear.pairs] == ["01", "10", "21"]
    assert content.linear.hri == f"(01){GTIN}(10)BBBBBBBBBB(21)SSSSSSSSSSSS"
    # The 2D symbol keeps everything.
    assert "11250314" in content.matrix.data


def test_without_gtin_the_label_has_plain_code128_of_the_serial_and_a_url_qr(unit):
    content = label_content(dataclasses.replace(unit, gtin=None, url="https://trace.local/u/SN000123"), ROLL)
    assert (content.linear.kind, content.linear.gs1, content.linear.data) == ("code128", False, "SN000123")
    assert (content.matrix.kind, content.matrix.gs1, content.matrix.data) == ("qr", False,
                                                                             "https://trace.local/u/SN000123")


def test_digital_link_qr(unit):
    template = LabelTemplate(name="dl", width_mm=50, height_mm=25, symbol="digital-link-qr",
                             digital_link_domain="https://id.example.com")
    content = label_content(dataclasses.replace(unit, batch="B/7"), template)
    assert content.matrix.data == f"https://id.example.com/01/{GTIN}/10/B%2F7/21/SN000123?11=250314"


@pytest.mark.parametrize(
    ("change", "template", "field", "rule"),
    [
        ({"gtin": "09506000134353"}, ROLL, "gtin", "check digit"),
        ({"gtin": "123"}, ROLL, "gtin", "8, 12, 13 or 14 digits"),
        ({"batch": "B#1"}, ROLL, "batch", "character set 82"),
        ({"serial": "SN 1"}, ROLL, "serial", "character set 82"),
        ({"serial": "Ы1"}, ROLL, "serial", "character set 82"),
        ({"serial": "S" * 21}, ROLL, "serial", "at most 20"),
        ({"batch": ""}, ROLL, "batch", "empty"),
        ({"batch": "B" * 20, "serial": "S" * 20}, WIDE, "batch", "48"),
        ({"produced_on": "2025-02-30"}, ROLL, "produced_on", "not a valid date"),
        ({"product_name": "tab\there"}, ROLL, "product_name", "control characters"),
        ({"url": "not a url"}, ROLL, "url", "without spaces"),
    ],
)
def test_bad_label_data_names_the_field_and_the_rule(unit, change, template, field, rule):
    with pytest.raises(LabelError) as info:
        label_content(dataclasses.replace(unit, **change), template)
    assert info.value.field == field
    assert rule in info.value.rule


def test_a_bad_label_in_a_job_writes_nothing_and_names_its_index(unit):
    labels = [unit, unit, dataclasses.replace(unit, serial="bad serial"), unit]
    for render in (render_pdf, render_zpl):
        out = io.BytesIO()
        with pytest.raises(LabelError) as info:
            render(iter(labels), ROLL, out)
        assert out.getvalue() == b""
        assert info.value.index == 2 and info.value.field == "serial"
        assert str(info.value).startswith("label 2: serial:")


def test_label_error_is_a_value_error():
    assert issubclass(LabelError, ValueError)


def test_iso_strings_are_accepted_for_the_production_date(unit):
    content = label_content(dataclasses.replace(unit, produced_on="2024-02-29"), ROLL)
    assert "11240229" in content.matrix.data


def test_no_production_date_leaves_out_ai_11(unit):
    content = label_content(dataclasses.replace(unit, produced_on=None), ROLL)
    assert content.matrix.data == f"01{GTIN}10B2025-07{GS}21SN000123"
    assert date(2025, 3, 14).isoformat() not in " ".join(content.lines)
