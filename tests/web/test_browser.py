"""The real pages in Debian's headless Chromium: log in, scan a serial as a wedge scanner would, see the dossier."""

from __future__ import annotations

import shutil
import threading
from datetime import date

import pytest
from werkzeug.serving import make_server

from serialtrace import accounts
from serialtrace.runtime import Runtime
from serialtrace.schema import upgrade
from serialtrace.trace import service
from serialtrace.web import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app on a real SQLite file, served by a WSGI server in a thread, with one shipped unit."""
    path = tmp_path_factory.mktemp("browser") / "app.sqlite"
    rt = Runtime.from_env({"database_url": f"sqlite:///{path}", "secret_key": "browser-test", "serial_key": "k"})
    upgrade(rt.engine)
    with rt.transaction() as s:
        accounts.create_user(s, username="anna", role="warehouse", password="desk-pass-1")
        service.add_product(s, sku="PR-100", name="Flow meter UR-100", gtin="04601234560016", warranty_months=24)
        _, serials = service.register_batch(
            s, product="PR-100", quantity=3, number="2501A00", produced_on=date(2025, 1, 13), line="Line 1",
            scheme=rt.serial_scheme(), inputs=[service.LotInput("Shenzhen PCB Co.", "board", "L71033")])
        customer = service.get_or_create_customer(s, name="МУП «Горсети»", tax_id="5401234567")
        service.create_shipment(s, customer=customer, shipped_on=date(2025, 3, 14), serials=serials[:1])
    server = make_server("127.0.0.1", 0, create_app(runtime=rt), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", serials
    server.shutdown()
    rt.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM,
                               args=["--headless", "--no-sandbox", "--disable-background-networking",
                                     "--disable-gpu", "--no-first-run", "--disable-component-update"])
        yield b
        b.close()


def _login(page, base):
    page.goto(f"{base}/station")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", "desk-pass-1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/station")


def test_wedge_scan_shows_the_dossier(live_server, browser):
    base, serials = live_server
    page = browser.new_page()
    _login(page, base)
    # The field has focus on arrival, so a wedge scanner's keystrokes land in it without a click.
    assert page.evaluate("document.activeElement.id") == "code"
    page.keyboard.type(serials[0], delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#dossier")
    text = page.inner_text("#dossier")
    assert serials[0] in text
    assert "2501A00" in text and "L71033" in text and "МУП «Горсети»" in text
    assert "in warranty until 2027-03-14 (shipped 2025-03-14, 24 months)" in text or "expired on 2027-03-14" in text
    assert page.get_attribute("#scan-result", "data-result") == "unit"
    # Ready for the next unit: the field is empty and focused again.
    assert page.evaluate("document.activeElement.id") == "code"
    assert page.input_value("#code") == ""
    page.close()


def test_unknown_code_says_not_found_and_keeps_it(live_server, browser):
    base, _ = live_server
    page = browser.new_page()
    _login(page, base)
    page.keyboard.type("WRONG-42", delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-result")
    assert page.get_attribute("#scan-result", "data-result") == "not_found"
    assert "Not found" in page.inner_text("#scan-result")
    assert page.input_value("#code") == "WRONG-42"
    page.close()


def test_batch_page_from_the_dossier_link(live_server, browser):
    base, serials = live_server
    page = browser.new_page()
    _login(page, base)
    page.keyboard.type(serials[0], delay=5)
    page.keyboard.press("Enter")
    page.click("#dossier a:has-text('2501A00')")
    page.wait_for_selector("#inputs")
    assert "L71033" in page.inner_text("#inputs")
    assert "МУП «Горсети»" in page.inner_text("#customers")
    page.close()
