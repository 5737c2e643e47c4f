"""Tables as XLSX workbooks: text stays text (never a formula), numbers stay numbers, one sheet with a header row."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

# Excel refuses a sheet name longer than 31 characters or holding one of these.
_SHEET_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _cell(sheet: Any, value: Any) -> WriteOnlyCell:
    """One cell: numbers and dates typed, anything else as text, never read as a formula (data comes from users)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones; the API's times are UTC
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # a string starting with "=" would otherwise be written as a formula
    return cell


def xlsx_bytes(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, sheet: str = "data") -> bytes:
    """The rows as one XLSX sheet (header row in bold, the columns in the given order)."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=(sheet.translate(_SHEET_BAD) or "data")[:31])
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=str(name))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append([_cell(ws, row.get(name)) for name in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
