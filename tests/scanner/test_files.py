"""scan_files: the dicts behind `serialtrace scan FILE... --json`."""

from __future__ import annotations

import json

from serialtrace.scanner import scan_files

from tests.scanner.conftest import png, render


def test_scan_files_reports_codes_and_errors_and_goes_on(tmp_path):
    good = tmp_path / "label.png"
    good.write_bytes(png(render("(01)09506000134352(10)LOT1(21)SN9", "DataMatrix", gs1=True)))
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    missing = tmp_path / "missing.png"
    out = list(scan_files([good, corrupt, missing, str(good)]))
    assert out[0] == {
        "file": str(good),
        "codes": [
            {"text": "0109506000134352" + "10LOT1\x1d21SN9", "format": "DataMatrix",
             "symbology_id": "]d2", "confirmed": True}
        ],
        "error": None,
    }
    assert out[1]["codes"] == [] and "not an image" in out[1]["error"]
    assert out[2]["codes"] == [] and "cannot read file" in out[2]["error"]
    assert out[3]["codes"] == out[0]["codes"]
    json.dumps(out)  # JSON-ready as it is
