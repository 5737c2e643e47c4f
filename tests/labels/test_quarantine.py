"""Quarantine labels for returned units at the warranty desk."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from serialtrace.labels import LabelError, quarantine_label

from .conftest import decode, decode_png, render_zpl_images


def test_quarantine_png_carries_the_serial_as_code128():
    png = quarantine_label("CL-2025-0042", "SN000123", date(2025, 5, 6), "Desk 2", fmt="png")
    assert decode_png(png) == [("]C0", "SN000123")]


def test_quarantine_zpl_shows_claim_date_and_station_and_decodes():
    zpl = quarantine_label("CL-2025-0042", "SN>_1", "2025-05-06", "Desk 2", fmt="zpl", dpi=300)
    text = zpl.decode()
    assert "QUARANTINE" in text and "CLAIM CL-2025-0042" in text and "2025-05-06  Desk 2" in text
    [image] = render_zpl_images(zpl, 300)
    assert decode(image) == [("]C0", "SN>_1")]


def test_quarantine_pdf_is_one_page(tmp_path):
    path = tmp_path / "q.pdf"
    path.write_bytes(quarantine_label("CL-1", "SN1", date(2025, 5, 6), "Desk 2", fmt="pdf"))
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "CLAIM CL-1" in text and "QUARANTINE" in text


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "SN1", date(2025, 5, 6), "Desk"), "claim_number"),
        (("CL-1", "SN 1", date(2025, 5, 6), "Desk"), "serial"),
        (("CL-1", "SN1", "2025-13-01", "Desk"), "received_on"),
    ],
)
def test_bad_quarantine_input_names_the_field(args, field):
    with pytest.raises(LabelError) as info:
        quarantine_label(*args)
    assert info.value.field == field


def test_unknown_format_is_refused():
    with pytest.raises(LabelError, match="fmt"):
        quarantine_label("CL-1", "SN1", date(2025, 5, 6), "Desk", fmt="bmp")
