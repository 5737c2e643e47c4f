"""`serialtrace scan`: a hostile or thin image is one line with its error, then the next file; exit code 1."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.scanner import hostile
from tests.scanner.conftest import png, render

THIN = "image too thin: 1000x1 pixels; a barcode needs at least 10 pixels on each side"
SCANS = "JPEG with more than 100 scans refused: a photo has about 10, and decoding this many would take minutes"


def _files(tmp_path):
    thin, jpeg, label = tmp_path / "thin.png", tmp_path / "scans.jpg", tmp_path / "label.png"
    thin.write_bytes(hostile.png(1000, 1))
    jpeg.write_bytes(hostile.repeated_scan_jpeg(20_000))
    label.write_bytes(png(render("SN-CLI-1", "QRCode")))
    return thin, jpeg, label


def _scan(*args):
    return subprocess.run([sys.executable, "-m", "serialtrace.cli", "scan", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_scan_json_reports_hostile_files_and_goes_on(tmp_path):
    thin, jpeg, label = _files(tmp_path)
    done = _scan(thin, jpeg, label, "--json")
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"file": str(thin), "codes": [], "error": THIN},
        {"file": str(jpeg), "codes": [], "error": SCANS},
        {"file": str(label), "codes": [{"text": "SN-CLI-1", "format": "QRCode", "symbology_id": "]Q1",
                                        "confirmed": True}], "error": None},
    ]
    assert done.stderr == ""
    assert done.returncode == 1


def test_scan_text_output_is_one_line_per_file(tmp_path):
    thin, jpeg, label = _files(tmp_path)
    done = _scan(thin, jpeg, label)
    assert done.stdout.splitlines() == [f"{thin}: error: {THIN}", f"{jpeg}: error: {SCANS}",
                                        f"{label}: QRCode ]Q1 'SN-CLI-1'"]
    assert "Traceback" not in done.stderr and done.returncode == 1


def test_scan_of_readable_files_exits_0(tmp_path):
    _, _, label = _files(tmp_path)
    assert _scan(label, "--json").returncode == 0
