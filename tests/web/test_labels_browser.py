"""The Labels page in Debian's headless Chromium: pick a batch by keyboard, preview, PDF download, print and resume."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from .live import GTIN, live_app, login
from tests.fakeprinter import FakePrinter

pytestmark = pytest.mark.browser
BATCH = "2501A00"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with a production user and batch 2501A00 of three units; yields (base URL, serials, runtime)."""
    with live_app(tmp_path_factory.mktemp("labels-browser") / "app.sqlite", role="production") as served:
        yield served


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="en-US")  # the page's English texts
    p = context.new_page()
    # Generous: a full test run on two shared cores can stall a step for seconds; a real failure still fails.
    p.set_default_timeout(30_000)
    yield p
    context.close()


@pytest.fixture
def printers():
    """FakePrinters made by the test, closed afterwards."""
    made: list[FakePrinter] = []

    def _make(**kw) -> FakePrinter:
        made.append(FakePrinter(**kw))
        return made[-1]

    yield _make
    for printer in made:
        printer.close()


def _pick_batch_by_keyboard(page, base: str) -> None:
    """Type the batch into the focused field, Tab to the template, choose 4x2in by typing, Tab to Show, Enter."""
    login(page, base, "/labels")
    assert page.evaluate("document.activeElement.name") == "batch"  # autofocus: no click needed
    page.keyboard.type(BATCH, delay=5)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "product"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "template"
    page.keyboard.type("4x2", delay=5)  # type-ahead on the closed <select>
    assert page.input_value("select[name=template]") == "4x2in"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Show"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#label-batch")
    assert f"Batch {BATCH}" in page.inner_text("#label-batch h2")
    assert "3 units" in page.inner_text("#label-batch h2")


def _job_row(page, printer: FakePrinter, state: str):
    """The print-jobs row of the job sent to `printer`, once it shows `state`."""
    row = page.locator(f"#print-jobs tbody tr.job-{state}", has_text=printer.address)
    row.wait_for()
    return row


def test_preview_and_pdf_download(live, page):
    base, serials, _ = live
    _pick_batch_by_keyboard(page, base)

    # The preview <img> loaded a real image.
    page.wait_for_function("() => { const i = document.getElementById('label-preview');"
                           " return i.complete && i.naturalWidth > 0; }")
    src = page.evaluate("document.getElementById('label-preview').src")
    assert "template=4x2in" in src
    resp = page.request.get(src)  # same cookies as the page
    assert resp.status == 200 and resp.headers["content-type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.body())).convert("L"), text_mode=zxingcpp.TextMode.HRI)
    matrix = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.DataMatrix]
    assert matrix == [f"(01){GTIN}(11)250113(10){BATCH}(21){serials[0]}"], [(b.format, b.text) for b in found]

    with page.expect_download() as info:
        page.click("button:has-text('Download PDF')")
    download = info.value
    assert download.suggested_filename == f"labels-{BATCH}.pdf"
    data = download.path().read_bytes()
    assert data.startswith(b"%PDF")
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    out = subprocess.run(["pdfinfo", download.path()], capture_output=True, text=True, check=True, timeout=10).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", out, flags=re.M).group(1))
    assert pages >= 1


def test_print_to_a_printer_then_resume_after_a_refusal(live, page, printers):
    base, serials, _ = live
    _pick_batch_by_keyboard(page, base)
    send_form = page.locator("form[action='/labels/print']")

    # A printer that answers: the job row reaches done with every label.
    good = printers()
    send_form.locator("input[name=printer]").fill(good.address)
    with page.expect_navigation():
        send_form.locator("button[type=submit]").click()
    row = _job_row(page, good, "done")
    assert "3/3" in row.inner_text()
    assert row.locator("progress").get_attribute("value") == "3"
    assert f"labels sent to {good.address}" in page.inner_text("main .flash.ok")
    good.wait_for(1)
    assert good.serials() == serials

    # A printer that refuses: the job fails with the reason and offers Resume.
    refusing = printers(listening=False)
    send_form = page.locator("form[action='/labels/print']")
    send_form.locator("input[name=printer]").fill(refusing.address)
    with page.expect_navigation():
        send_form.locator("button[type=submit]").click()
    row = _job_row(page, refusing, "failed")
    assert "cannot reach printer" in row.inner_text() and "0/3" in row.inner_text()
    assert "failed after 0 of 3 labels" in page.inner_text("main .flash.error")
    assert refusing.jobs == []

    # The printer comes back; Resume finishes the same job.
    job_id = row.locator("td").first.inner_text().strip()
    refusing.listen()
    with page.expect_navigation():
        row.locator("button:has-text('Resume')").click()
    row = _job_row(page, refusing, "done")
    assert row.locator("td").first.inner_text().strip() == job_id
    assert "3/3" in row.inner_text() and row.locator("button:has-text('Resume')").count() == 0
    assert f"print job {job_id}: 3 labels sent" in page.inner_text("main .flash.ok")
    refusing.wait_for(1)
    # Every serial reached the printer exactly once across the refused attempt and the resumed one.
    assert sorted(refusing.serials()) == sorted(serials) and len(refusing.serials()) == len(serials)
