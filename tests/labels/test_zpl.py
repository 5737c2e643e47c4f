"""ZPL output: golden files, escaping, and offline rendering with zplkit that decodes back."""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import date
from pathlib import Path

import pytest

from serialtrace.labels import LabelData, LabelError, LabelTemplate, builtin_templates, render_zpl, zpl_bytes

from .conftest import GS, GTIN, decode, make_units, render_zpl_images

GOLDEN = Path(__file__).parent / "golden"
TEMPLATES = builtin_templates()


def _golden_units() -> list[LabelData]:
    return [
        LabelData(GTIN, "B>25_07", "SN000001", date(2025, 3, 14), "Widget ^Pro~ _x_", "Acme GmbH", "W-100"),
        LabelData(GTIN, "LOT9", "12345678901", None, "Прибор учёта", "ООО Ромашка"),
        LabelData(None, "B1", "A>B_C-1", None, "No GTIN item", url="https://trace.local/u/A_B"),
    ]


DPIS = (203, 300, 600)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("dpi", DPIS)
def test_zpl_matches_golden_file(name, dpi):
    produced = zpl_bytes(_golden_units(), TEMPLATES[name], dpi=dpi).decode()
    path = GOLDEN / f"{name}-{dpi}.zpl"
    # Rewriting is an explicit step (UPDATE_GOLDEN=1), and that run compares nothing: it reports a skip, so a
    # rewritten file is never what a passing run compared against. Review the diff before committing it.
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(produced, encoding="utf-8")
        pytest.skip(f"rewrote {path.name}; run again without UPDATE_GOLDEN to compare")
    assert path.is_file(), f"golden file {path.name} is missing: write it with UPDATE_GOLDEN=1 and review it"
    assert produced == path.read_text(encoding="utf-8"), f"ZPL differs from {path.name}"


def test_golden_files_are_exactly_the_compared_ones():
    """A golden file no test compares (a renamed template, a dropped resolution) is dead weight that looks checked."""
    expected = {f"{name}-{dpi}.zpl" for name in TEMPLATES for dpi in DPIS}
    assert {path.name for path in GOLDEN.glob("*.zpl")} == expected


def test_gs1_128_uses_start_c_and_fnc1_and_datamatrix_uses_fnc1_escape():
    zpl = zpl_bytes(_golden_units()[:1], TEMPLATES["4x2in"]).decode()
    assert f"^BCN,96,N,N,N,N^FD>;>801{GTIN}11250314" + "10>6B>025_07>821SN>5000001^FS" in zpl
    assert "^BXN," in zpl and ",200,,,,_^FD_101" in zpl
    # `_` inside the data is doubled for ^BX, `>` is >0 inside ^BC, text goes through ^FH.
    assert "10B>25__07_121SN000001" in zpl
    assert "B>025_07" in zpl
    assert "^FH_^FDWidget _5EPro_7E _5Fx_5F^FS" in zpl


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_rendered_zpl_decodes_to_the_same_data(name, dpi):
    # zplkit's resident font has no Cyrillic glyphs (a printer needs a Unicode font for them).
    units = _golden_units()
    units[1] = dataclasses.replace(units[1], product_name="Meter", company="Romashka")
    zpl = zpl_bytes(units, TEMPLATES[name], dpi=dpi)
    images = render_zpl_images(zpl, dpi)
    assert len(images) == 3
    first, second, third = (decode(image) for image in images)
    assert ("]d2", f"01{GTIN}11250314" + f"10B>25_07{GS}21SN000001") in first
    assert ("]d2", f"01{GTIN}10LOT9{GS}2112345678901") in second
    assert third == [("]C0", "A>B_C-1"), ("]Q1", "https://trace.local/u/A_B")]
    if name == "4x2in":
        assert ("]C1", f"01{GTIN}11250314" + f"10B>25_07{GS}21SN000001") in first


def test_digital_link_qr_in_zpl_decodes():
    template = LabelTemplate(name="dl", width_mm=50, height_mm=30, symbol="digital-link-qr")
    zpl = zpl_bytes(_golden_units()[:1], template)
    assert "^BQN,2," in zpl.decode()
    [image] = render_zpl_images(zpl, 203)
    assert decode(image) == [("]Q1", f"https://id.gs1.org/01/{GTIN}/10/B%3E25_07/21/SN000001?11=250314")]


def test_gs1_qr_is_refused_in_zpl_before_anything_is_written():
    template = LabelTemplate(name="q", width_mm=50, height_mm=30, symbol="gs1-qr")
    out = io.BytesIO()
    with pytest.raises(LabelError) as info:
        render_zpl(_golden_units()[:1], template, out)
    assert info.value.field == "symbol" and out.getvalue() == b""


def test_text_and_binary_outputs_hold_the_same_utf8_zpl():
    text_out, binary_out = io.StringIO(), io.BytesIO()
    render_zpl(_golden_units(), TEMPLATES["roll-50x25"], text_out)
    render_zpl(_golden_units(), TEMPLATES["roll-50x25"], binary_out)
    assert text_out.getvalue().encode() == binary_out.getvalue()
    assert "^CI28" in text_out.getvalue() and "Прибор учёта" in text_out.getvalue()


def test_bad_dpi_is_refused():
    with pytest.raises(LabelError, match="dpi"):
        render_zpl(_golden_units(), TEMPLATES["roll-50x25"], io.BytesIO(), dpi=250)


def test_progress_reports_counts_and_generators_are_consumed_once():
    seen: list[int] = []
    count = render_zpl((u for u in make_units(1200)), TEMPLATES["roll-50x25"], io.BytesIO(), progress=seen.append)
    assert count == 1200
    assert seen == [500, 1000, 1200]


def test_an_empty_job_is_an_error():
    with pytest.raises(LabelError, match="no labels"):
        render_zpl([], TEMPLATES["roll-50x25"], io.BytesIO())


def test_each_label_is_one_format_sized_for_the_printer():
    zpl = zpl_bytes(make_units(3), TEMPLATES["roll-50x25"], dpi=300).decode()
    assert zpl.count("^XA") == 3 and zpl.count("^XZ") == 3
    assert "^PW591^LL295" in zpl  # 50 x 25 mm at 300 dpi
