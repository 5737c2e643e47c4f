"""Tables as XLSX: the same rows, text in a cell never a formula, numbers kept as numbers."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from serialtrace.trace.xlsxexport import xlsx_bytes


def _sheet(data: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(data))
    return list(book.active.iter_rows(values_only=True))


def test_xlsx_keeps_text_as_text_and_numbers_as_numbers():
    rows = [{"name": "=HYPERLINK(\"http://x\")", "units": 12, "rate": 0.25, "cost": Decimal("1.50"), "code": "00123"},
            {"name": "Завод №1", "units": 0, "rate": None, "cost": Decimal("0"), "code": "@SUM(A1)"}]
    sheet = _sheet(xlsx_bytes(rows, ["name", "units", "rate", "cost", "code"], sheet="quality/batches"))
    assert sheet[0] == ("name", "units", "rate", "cost", "code")
    assert sheet[1] == ('=HYPERLINK("http://x")', 12, 0.25, 1.5, "00123")
    assert sheet[2] == ("Завод №1", 0, None, 0, "@SUM(A1)")
    book = load_workbook(io.BytesIO(xlsx_bytes(rows, ["name"])))
    assert book.active["A2"].data_type == "s"  # stored as a string, not as a formula


def test_an_empty_table_is_a_header_row():
    assert _sheet(xlsx_bytes([], ["batch", "units"])) == [("batch", "units")]
