"""Dashboard tables download as CSV and as XLSX with the same header."""

from __future__ import annotations

import io

from openpyxl import load_workbook


def test_quality_tables_download_in_both_formats(login):
    client = login("quality")
    for table in ("batches", "component-lots"):
        csv_answer = client.get(f"/quality/{table}.csv")
        xlsx_answer = client.get(f"/quality/{table}.xlsx")
        assert csv_answer.status_code == 200 and xlsx_answer.status_code == 200
        assert xlsx_answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert f'filename="quality-{table}.xlsx"' in xlsx_answer.headers["Content-Disposition"]
        header = csv_answer.get_data(as_text=True).lstrip("\ufeff").splitlines()[0].split(",")
        assert [c.value for c in next(load_workbook(io.BytesIO(xlsx_answer.data)).active.iter_rows())] == header
    assert client.get("/quality/batches.pdf").status_code == 404
