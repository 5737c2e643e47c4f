"""PDF output: page count, vector modules, text, and barcodes decoded after rasterising."""

from __future__ import annotations

import subprocess
import tracemalloc

from serialtrace.labels import LabelTemplate, builtin_templates, render_pdf, spool
from serialtrace.labels.templates import SheetLayout

from .conftest import GS, GTIN, decode, make_units, pdf_page_count, rasterise_pdf

TEMPLATES = builtin_templates()


def _element(serial: str) -> str:
    return f"01{GTIN}11250314" + f"10B2025-07{GS}21{serial}"


def test_a4_sheet_puts_24_labels_on_a_page_and_all_of_them_decode(tmp_path):
    path = tmp_path / "sheet.pdf"
    with path.open("wb") as out:
        assert render_pdf(make_units(30), TEMPLATES["a4-3x8"], out) == 30
    assert pdf_page_count(path) == 2
    [page] = rasterise_pdf(path, dpi=200)
    assert page.size == (1654, 2339)  # A4 at 200 dpi
    found = decode(page)
    assert sorted(found) == sorted(("]d2", _element(f"SN{i:06d}")) for i in range(24))


def test_roll_has_one_label_per_page_sized_like_the_label(tmp_path):
    path = tmp_path / "roll.pdf"
    with path.open("wb") as out:
        render_pdf(make_units(5), TEMPLATES["roll-50x25"], out)
    assert pdf_page_count(path) == 5
    pages = rasterise_pdf(path, dpi=254, first=3, last=3)
    assert abs(pages[0].size[0] - 500) <= 1 and abs(pages[0].size[1] - 250) <= 1
    assert decode(pages[0]) == [("]d2", _element("SN000002"))]


def test_4x2_label_carries_datamatrix_and_gs1_128(tmp_path):
    path = tmp_path / "wide.pdf"
    with path.open("wb") as out:
        render_pdf(make_units(1), TEMPLATES["4x2in"], out)
    found = decode(rasterise_pdf(path, dpi=400)[0])
    # 48 characters do not fit 4 inches at 0.25 mm modules, so GS1-128 leaves out (11).
    assert found == [("]C1", _element("SN000000").replace("11250314", "")), ("]d2", _element("SN000000"))]


def test_modules_are_vector_rectangles_and_text_is_text(tmp_path):
    path = tmp_path / "v.pdf"
    with path.open("wb") as out:
        render_pdf(make_units(2), TEMPLATES["roll-50x25"], out)
    raw = path.read_bytes()
    assert b"/Image" not in raw and b"/XObject" not in raw
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "SN SN000001" in text and "LOT B2025-07" in text and "Widget Pro" in text


def test_sheet_from_a_user_template_fills_pages_in_rows(tmp_path):
    template = LabelTemplate(name="2x2", width_mm=50, height_mm=30, dpi=300, symbol="gs1-qr",
                             sheet=SheetLayout(page_width_mm=110, page_height_mm=70, columns=2, rows=2,
                                               left_mm=5, top_mm=5, column_pitch_mm=50, row_pitch_mm=30))
    path = tmp_path / "qr.pdf"
    with path.open("wb") as out:
        render_pdf(make_units(5), template, out)
    assert pdf_page_count(path) == 2
    found = decode(rasterise_pdf(path, dpi=300, first=2, last=2)[0])
    assert found == [("]Q3", _element("SN000004"))]


def test_progress_is_reported(tmp_path):
    seen: list[int] = []
    with (tmp_path / "p.pdf").open("wb") as out:
        render_pdf(make_units(250), TEMPLATES["a4-3x8"], out, progress=seen.append)
    assert seen == [100, 200, 250]


def test_memory_stays_flat_as_the_job_grows(tmp_path, monkeypatch):
    monkeypatch.setattr(spool, "SPOOL_MEMORY", 64 * 1024)  # spill the spool to disk early

    def peak(count: int) -> int:
        units = (make_units(1, start=i)[0] for i in range(count))
        tracemalloc.start()
        with (tmp_path / f"m{count}.pdf").open("wb") as out:
            render_pdf(units, TEMPLATES["roll-50x25"], out)
        _, high = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return high

    peak(300)  # warm up: free lists and bounded caches fill once, whatever the job size
    small, large = peak(100), peak(600)
    # Six times the labels may only add the cross-reference offsets (16 bytes a page).
    assert large < small + 100_000, (small, large)


def test_cyrillic_text_is_embedded_and_extractable(tmp_path):
    from datetime import date

    from serialtrace.labels import LabelData

    unit = LabelData(GTIN, "B1", "SN1", date(2025, 3, 14), "Прибор учёта", "ООО «Ромашка»")
    path = tmp_path / "ru.pdf"
    with path.open("wb") as out:
        render_pdf([unit], TEMPLATES["a4-3x8"], out)
    run = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True)
    assert "Прибор учёта" in run.stdout and "ООО «Ромашка»" in run.stdout
    assert run.stderr == ""
    assert b"/FontFile2" in path.read_bytes()


def test_without_dejavu_the_writer_falls_back_to_helvetica(tmp_path, monkeypatch):
    from serialtrace.labels import pdffont

    monkeypatch.setattr(pdffont, "DEJAVU_PATHS", ())
    path = tmp_path / "h.pdf"
    with path.open("wb") as out:
        render_pdf(make_units(2), TEMPLATES["roll-50x25"], out)
    assert b"/BaseFont /Helvetica" in path.read_bytes()
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "SN SN000001" in text
    assert decode(rasterise_pdf(path)[0]) == [("]d2", _element("SN000000"))]
