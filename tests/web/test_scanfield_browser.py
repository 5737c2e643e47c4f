"""The scan field in every page's header, in Debian's headless Chromium: a wedge scan typed on any page opens what
it names; a scan that names nothing turns the field red and keeps the text; the station's loud signal."""

from __future__ import annotations

import pytest

from serialtrace.trace import service

from .live import PASSWORD, USER, live_app, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with a batch of three units (the first shipped) built from component lot L-77."""
    lots = [service.LotInput("Микрон", "MCU board", "L-77")]
    with live_app(tmp_path_factory.mktemp("scanfield") / "app.sqlite", lots=lots, ship_first=True) as served:
        yield served


def _wedge(page, code):
    """What a keyboard-wedge scanner does: types fast and presses Enter, into whatever has focus."""
    page.keyboard.type(code, delay=3)
    page.keyboard.press("Enter")


def test_a_wedge_scan_typed_on_the_batches_page_opens_the_unit(live, browser):
    base, serials, _ = live
    page = browser.new_page()
    login(page, base, "/batches")
    page.click("h1")  # focus on nothing in particular, as after reading the page
    assert page.evaluate("document.activeElement.tagName") == "BODY"
    _wedge(page, serials[1])
    page.wait_for_url(f"{base}/units/{serials[1]}")
    assert serials[1] in page.inner_text("#dossier")
    # The signal came along: amber (not shipped, so no warranty yet), in words, with the amber tone.
    assert "the warranty has not started" in page.inner_text(".flash.signal.amber")
    assert page.get_attribute("html", "data-tone") == "amber"
    page.close()


def test_a_lot_scan_opens_the_lot_page(live, browser):
    base, _, _ = live
    page = browser.new_page()
    login(page, base, "/units")
    page.click("h1")
    _wedge(page, "L-77")
    page.wait_for_url(f"{base}/lots/L-77")
    assert "MCU board" in page.inner_text("main") and "2501A00" in page.inner_text(".lot-batches")
    assert page.get_attribute("html", "data-tone") == "green"
    page.close()


def test_an_unknown_scan_turns_red_keeps_the_text_and_changes_nothing_else(live, browser, tmp_path):
    base, _, _ = live
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    login(page, base, "/batches")
    page.click("h1")
    before = page.inner_text("main")
    _wedge(page, "NO-SUCH-42")
    page.wait_for_selector("#scanfield.red #scanfield-result:not([hidden])")
    assert page.url == f"{base}/batches"
    assert page.input_value("#scanfield-code") == "NO-SUCH-42"
    assert "nothing found for NO-SUCH-42" in page.inner_text("#scanfield-result")
    assert page.get_attribute("html", "data-tone") == "red"
    assert page.inner_text("main") == before
    # The text is selected for correction: the next scan replaces it.
    _wedge(page, "L-77")
    page.wait_for_url(f"{base}/lots/L-77")
    page.close()


def test_the_station_shows_the_green_signal_and_the_recent_scans(live, browser, tmp_path):
    base, serials, _ = live
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    login(page, base)
    _wedge(page, serials[0])
    page.wait_for_selector("#dossier")
    assert page.get_attribute("#scan-result", "data-signal") == "green"
    assert "nothing open" in page.inner_text("#scan-reasons")
    assert page.get_attribute("html", "data-tone") == "green"
    assert serials[0] in page.inner_text("#recent-scans")
    page.screenshot(path=str(tmp_path / "station.png"), full_page=False)


def _login_again(context, base):
    """Log in again in another tab of the same browser: the session is new, the open tabs' form tokens are old."""
    other = context.new_page()
    other.goto(f"{base}/login")
    other.fill("input[name=username]", USER)
    other.fill("input[name=password]", PASSWORD)
    other.keyboard.press("Enter")
    other.wait_for_url(f"{base}/station")
    other.close()


def test_a_scan_on_pages_left_open_across_a_new_login_goes_through(live, browser):
    base, serials, _ = live
    context = browser.new_context()
    station = context.new_page()
    login(station, base)
    batches = context.new_page()
    batches.goto(f"{base}/batches")
    _login_again(context, base)
    # The station page: refused once, kept, sent again by itself with the fresh token.
    station.bring_to_front()
    _wedge(station, serials[2])
    station.wait_for_selector("#dossier")
    assert station.get_attribute("#scan-result", "data-result") == "unit"
    assert serials[2] in station.inner_text("#dossier")
    # The header field on another old page: the answer brings a fresh token and the scan is retried with it.
    _login_again(context, base)
    batches.bring_to_front()
    batches.click("h1")
    _wedge(batches, serials[1])
    batches.wait_for_url(f"{base}/units/{serials[1]}")
    context.close()
