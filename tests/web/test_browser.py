"""The real pages in Debian's headless Chromium: log in, scan a serial as a wedge scanner would, see the dossier."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.config import business_today
from serialtrace.trace import service

from .live import live_app, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app with one shipped unit whose batch has a component lot."""
    lots = [service.LotInput("Shenzhen PCB Co.", "board", "L71033")]
    with live_app(tmp_path_factory.mktemp("browser") / "app.sqlite", lots=lots, ship_first=True) as (base, serials, rt):
        yield base, serials, rt


def _expected_warranty(rt) -> str:
    """The one warranty line right for today: shipped 2025-03-14 with 24 months runs to 2027-03-14."""
    if business_today(rt.settings) <= date(2027, 3, 14):
        return "in warranty until 2027-03-14 (shipped 2025-03-14, 24 months)"
    return "warranty expired on 2027-03-14 (shipped 2025-03-14, 24 months)"


def test_wedge_scan_shows_the_dossier(live_server, browser):
    base, serials, rt = live_server
    page = browser.new_page()
    login(page, base)
    # The field has focus on arrival, so a wedge scanner's keystrokes land in it without a click.
    assert page.evaluate("document.activeElement.id") == "code"
    page.keyboard.type(serials[0], delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#dossier")
    text = page.inner_text("#dossier")
    assert serials[0] in text
    assert "2501A00" in text and "L71033" in text and "МУП «Горсети»" in text
    assert _expected_warranty(rt) in text
    assert page.get_attribute("#scan-result", "data-result") == "unit"
    # Ready for the next unit: the field is empty and focused again.
    assert page.evaluate("document.activeElement.id") == "code"
    assert page.input_value("#code") == ""
    page.close()


def test_unknown_code_says_not_found_and_keeps_it(live_server, browser):
    base, _, _ = live_server
    page = browser.new_page()
    login(page, base)
    page.keyboard.type("WRONG-42", delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-result")
    assert page.get_attribute("#scan-result", "data-result") == "not_found"
    assert "Not found" in page.inner_text("#scan-result")
    assert page.input_value("#code") == "WRONG-42"
    page.close()


def test_batch_page_from_the_dossier_link(live_server, browser):
    base, serials, _ = live_server
    page = browser.new_page()
    login(page, base)
    page.keyboard.type(serials[0], delay=5)
    page.keyboard.press("Enter")
    page.click("#dossier a:has-text('2501A00')")
    page.wait_for_selector("#inputs")
    assert "L71033" in page.inner_text("#inputs")
    assert "МУП «Горсети»" in page.inner_text("#customers")
    page.close()
