"""CSV exports that are safe to open in a spreadsheet: no cell is read as a formula, Cyrillic survives Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

# Spreadsheets run a cell starting with one of these as a formula (a leading tab or CR is stripped by some
# importers first, so those count too); customer names and references come from ERP data and users.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Excel reads a CSV file as UTF-8 only when it starts with the byte order mark; without it Cyrillic turns into
# mojibake in the Windows code page. Python's csv module and LibreOffice read the mark too (encoding
# "utf-8-sig"). A "sep=;" first line, which some tools write to pick Excel's delimiter, is deliberately not
# used: Excel then ignores the byte order mark and the Cyrillic is lost again.
BOM = "\ufeff"

# The field delimiter stays "," by default (RFC 4180, what scripts and the API's clients parse). Excel takes the
# delimiter of the reader's Windows region when it opens a file: ";" wherever the decimal mark is a comma, as in
# Russia, so the pages offer ";" for Russian readers and every export takes the delimiter as an option.
DELIMITERS = {"comma": ",", "semicolon": ";"}


def safe_cell(value: Any) -> Any:
    """`value` with a leading single quote when a spreadsheet would read it as a formula; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def text_cell(value: Any) -> Any:
    """A code made of digits written so Excel keeps it as text: ="00123" (a fixed formula of our own, never the
    data's), as Excel would otherwise drop leading zeros and show long numbers as 1.23E+11; anything else as is."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return f'="{value}"'
    return value


def csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, chunk_rows: int = 1000,
               delimiter: str = ",", bom: bool = False, code_columns: Collection[str] = ()) -> Iterator[str]:
    """Rows as CSV text chunks, header first, every cell made safe; streams, so a large export never sits in memory.

    `bom` starts the text with the byte order mark (for files Excel opens); the cells of `code_columns` that are
    all digits are kept as text in Excel (text_cell).
    """
    buf = io.StringIO()
    if bom:
        buf.write(BOM)
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(columns)
    for i, row in enumerate(rows, 1):
        writer.writerow([text_cell(safe_cell(row.get(name))) if name in code_columns else safe_cell(row.get(name))
                         for name in columns])
        if i % chunk_rows == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
