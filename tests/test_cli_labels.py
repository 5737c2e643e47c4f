"""`serialtrace labels`: files checked by page count and by decoding, clear errors, print jobs that resume."""

from __future__ import annotations

import json
import subprocess

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from serialtrace.cli import main

from tests.fakeprinter import FakePrinter

GTIN = "04601234560016"
GS = "\x1d"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("SERIALTRACE_LABEL_TEMPLATES", str(tmp_path / "templates"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def _run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert _run("init").exit_code == 0
    return _run


@pytest.fixture
def serials(run):
    """A batch 2501A00 of 30 units; its serials in unit id order."""
    assert run("products", "add", "--sku", "PR-100", "--name", "Flow meter", "--gtin", GTIN).exit_code == 0
    run("batch", "create", "--product", "PR-100", "--quantity", "30", "--number", "2501A00", "--produced-on",
        "2025-01-13")
    from sqlalchemy import select

    from serialtrace.runtime import Runtime
    from serialtrace.trace import queries
    from serialtrace.trace.models import Unit

    rt = Runtime.from_env()
    with rt.transaction() as s:
        batch = queries.get_batch(s, "2501A00")
        out = list(s.scalars(select(Unit.serial).where(Unit.batch_id == batch.id).order_by(Unit.id)))
    rt.engine.dispose()
    return out


def _pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def test_pdf_sheet_and_roll_have_the_right_page_counts(run, serials, tmp_path):
    result = run("labels", "render", "--batch", "2501A00", "--template", "a4-3x8", "--format", "pdf", "--out", "s.pdf")
    assert result.exit_code == 0 and "30 labels written" in result.output
    assert _pages(tmp_path / "s.pdf") == 2  # 24 labels a sheet
    run("labels", "render", "--batch", "2501A00", "--format", "pdf", "--out", "r.pdf", "--from", "3", "--to", "9")
    assert _pages(tmp_path / "r.pdf") == 7


def test_zpl_holds_every_serial_once(run, serials, tmp_path):
    rendered = run("labels", "render", "--batch", "2501A00", "--format", "zpl", "--out", "b.zpl", "--dpi", "300")
    assert rendered.exit_code == 0
    zpl = (tmp_path / "b.zpl").read_text()
    assert zpl.count("^XA") == 30
    assert all(zpl.count(f"SN {s}^FS") == 1 for s in serials)


def test_png_folder_has_one_decodable_label_per_unit(run, serials, tmp_path):
    result = run("labels", "render", "--batch", "2501A00", "--format", "png", "--out", "png")
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "png").iterdir())
    assert sorted(p.name for p in files) == sorted(f"{s}.png" for s in serials)
    for path in files[:5]:
        found = zxingcpp.read_barcodes(Image.open(path).convert("L"), text_mode=zxingcpp.TextMode.Plain)
        serial = path.stem
        assert [(b.symbology_identifier, b.text) for b in found] == [
            ("]d2", f"01{GTIN}11250113102501A00{GS}21{serial}")]


def test_renders_are_logged_as_jobs(run, serials):
    run("labels", "render", "--batch", "2501A00", "--format", "zpl", "--out", "b.zpl")
    jobs = run("labels", "jobs").output.splitlines()
    assert len(jobs) == 1 and "zpl file\tdone\t30/30" in jobs[0]


def test_unknown_template_field_is_one_line_and_writes_nothing(run, serials, tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"name": "x", "width_mm": 50, "height_mm": 25, "colour": "red"}))
    result = run("labels", "render", "--batch", "2501A00", "--template", "bad.json", "--format", "pdf",
                 "--out", "x.pdf")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("error: colour: unknown template field")
    assert not (tmp_path / "x.pdf").exists() and not list(tmp_path.glob(".x.pdf*"))


def test_a_template_file_that_does_not_parse_is_an_error(run, serials, tmp_path):
    (tmp_path / "broken.toml").write_text("name = \n")
    result = run("labels", "render", "--batch", "2501A00", "--template", "broken.toml", "--format", "zpl",
                 "--out", "x.zpl")
    assert result.exit_code == 1 and "error: path: broken.toml is not valid TOML" in result.output
    unknown = run("labels", "render", "--batch", "2501A00", "--template", "nope", "--format", "zpl", "--out", "x.zpl")
    assert unknown.exit_code == 1 and "error: template: unknown template 'nope'" in unknown.output
    assert not (tmp_path / "x.zpl").exists()


def test_a_bad_label_leaves_no_png_folder(run, tmp_path):
    run("products", "add", "--sku", "PR-7", "--name", "Meter\u0007", "--gtin", "04601234560023")
    run("batch", "create", "--product", "PR-7", "--quantity", "3", "--number", "B7")
    result = run("labels", "render", "--batch", "B7", "--format", "png", "--out", "out")
    assert result.exit_code == 1 and "error: product_name: control characters are not allowed" in result.output
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_folder_templates_are_listed_and_usable(run, serials, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "small.toml").write_text('name = "small"\nwidth_mm = 40\nheight_mm = 20\nsymbol = "gs1-datamatrix"\n'
                                       'lines = ["serial"]\n')
    (folder / "odd.json").write_text('{"name": "odd", "width_mm": -1, "height_mm": 20}')
    listing = run("labels", "templates").output
    assert "small\t40x20 mm" in listing and "odd\terror: width_mm: must be a positive number" in listing
    assert run("labels", "render", "--batch", "2501A00", "--template", "small", "--format", "zpl",
               "--out", "s.zpl").exit_code == 0


def test_print_to_a_silent_printer_fails_then_resumes(run, serials):
    printer = FakePrinter(listening=False)  # bound but not listening: every connection is refused
    result = run("labels", "print", "--batch", "2501A00", "--printer", printer.address, "--chunk", "8")
    assert result.exit_code == 1
    assert f"cannot reach printer {printer.address}" in result.output
    assert "serialtrace labels resume 1" in result.output
    assert "failed\t0/30" in run("labels", "jobs").output

    printer.listen()
    resumed = run("labels", "resume", "1", "--chunk", "8")
    assert resumed.exit_code == 0, resumed.output
    printer.wait_for(4)
    printer.close()
    assert printer.serials() == serials
    assert "done\t30/30" in run("labels", "jobs").output
    again = run("labels", "resume", "1")
    assert again.exit_code == 1 and "reprint a range" in again.output


def test_print_a_range(run, serials):
    printer = FakePrinter()
    result = run("labels", "print", "--batch", "2501A00", "--printer", printer.address, "--from", "10", "--to", "14")
    assert result.exit_code == 0 and "5 labels sent" in result.output
    printer.wait_for(1)
    printer.close()
    assert printer.serials() == serials[10:15]
    bad = run("labels", "print", "--batch", "2501A00", "--printer", printer.address, "--from", "10", "--to", "30")
    assert bad.exit_code == 1 and "to must be a unit index from 0 to 29" in bad.output


def test_print_with_an_impossible_dpi_or_printer_creates_no_job(run, serials):
    bad = run("labels", "print", "--batch", "2501A00", "--printer", "10.0.0.7:9100", "--dpi", "5")
    assert bad.exit_code == 1 and "'5' is not one of '203', '300', '600'" in bad.output
    port = run("labels", "print", "--batch", "2501A00", "--printer", "10.0.0.7:22")
    assert port.exit_code == 1 and "error: printer 10.0.0.7:22 must use port 9100" in port.output
    assert run("labels", "jobs").output == ""


def test_a_printer_on_another_port_needs_the_allow_list(run, serials, monkeypatch):
    printer = FakePrinter(port=0)
    refused = run("labels", "print", "--batch", "2501A00", "--printer", printer.address)
    assert refused.exit_code == 1
    assert "must use port 9100; list other printers in SERIALTRACE_PRINTERS" in refused.output
    monkeypatch.setenv("SERIALTRACE_PRINTERS", f"10.0.0.7:9100,{printer.address}")
    result = run("labels", "print", "--batch", "2501A00", "--printer", printer.address)
    assert result.exit_code == 0, result.output
    printer.wait_for(1)
    printer.close()
    assert printer.serials() == serials
    assert run("labels", "jobs").output.count("\n") == 1


def test_a_product_without_gtin_gets_code128_and_a_qr_of_its_unit_page(run, tmp_path, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_PUBLIC_URL", "https://trace.example.com/")
    assert run("products", "add", "--sku", "NOGTIN", "--name", "Cable gland").exit_code == 0
    out = run("batch", "create", "--product", "NOGTIN", "--quantity", "2", "--number", "NG1", "--json")
    serial = json.loads(out.output)["first_serial"]
    result = run("labels", "render", "--batch", "NG1", "--format", "png", "--out", "ng")
    assert result.exit_code == 0, result.output
    found = zxingcpp.read_barcodes(Image.open(tmp_path / "ng" / f"{serial}.png").convert("L"))
    texts = {(b.format.name if hasattr(b.format, "name") else str(b.format), b.text) for b in found}
    assert any(text == serial for _fmt, text in texts), texts
    assert any(text == f"https://trace.example.com/units/{serial}" for _fmt, text in texts), texts


def test_a_resolution_printers_do_not_have_is_refused(run, serials, tmp_path):
    result = run("labels", "render", "--batch", "2501A00", "--format", "zpl", "--out", "x.zpl", "--dpi", "0")
    assert result.exit_code == 1 and "'0' is not one of '203', '300', '600'" in result.output
    assert not (tmp_path / "x.zpl").exists()
