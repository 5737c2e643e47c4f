"""CSV exports that are safe to open in a spreadsheet: no cell is read as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

# Spreadsheets run a cell starting with one of these as a formula (a leading tab or CR is stripped by some
# importers first, so those count too); customer names and references come from ERP data and users.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` with a leading single quote when a spreadsheet would read it as a formula; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, chunk_rows: int = 1000) -> Iterator[str]:
    """Rows as CSV text chunks, header first, every cell made safe; streams, so a large export never sits in memory."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for i, row in enumerate(rows, 1):
        writer.writerow([safe_cell(row.get(name)) for name in columns])
        if i % chunk_rows == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
