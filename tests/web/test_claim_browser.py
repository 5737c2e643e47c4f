"""The desk's origin story in headless Chromium, keyboard only: scan a shipped unit, register a complaint, replace it
on the spot by scanning the replacement, and see the claim shipped and the returned unit received."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from serialtrace.warranty.models import Claim, UnitCase

from .live import live_app, login, tab_to, wait_focused

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with three units, the first shipped to a customer; yields (base URL, serials, runtime)."""
    with live_app(tmp_path_factory.mktemp("claim-browser") / "app.sqlite", ship_first=True) as served:
        yield served


def test_scan_register_and_replace_on_the_spot_without_a_mouse(live, browser):
    base, serials, rt = live
    page = browser.new_page()
    login(page, base)
    # A wedge scanner types the serial into the focused station field and presses Enter.
    page.keyboard.type(serials[0])
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#dossier[data-serial='{serials[0]}']")
    page.wait_for_load_state("load")  # the page's script binds F2 only once it has run
    page.keyboard.press("F2")
    page.wait_for_url(f"{base}/station/complaint?serial={serials[0]}")
    assert page.evaluate("document.activeElement.id") == "symptom"
    page.keyboard.press("ArrowDown")  # the second symptom
    tab_to(page, "description", limit=12)
    page.keyboard.type("switches off after a minute")
    tab_to(page, "register-button", limit=12)
    page.keyboard.press("Enter")
    page.wait_for_selector("#desk-claim[data-state='registered']")
    number = page.get_attribute("#desk-claim", "data-number")
    # The replacement's scan field has the focus: the scanner types the serial and Enter ships it.
    wait_focused(page, "replacement-serial")
    page.keyboard.type(serials[1])
    page.keyboard.press("Enter")
    # The unit handed over at the desk is received at once: the claim waits on its verification.
    page.wait_for_selector("#desk-claim[data-state='pending_verification']")
    text = page.inner_text("#replaced")
    assert f"{serials[0]} replaced by {serials[1]}, shipped to customer" in text
    assert page.is_visible("button[id^='quarantine-']")
    with rt.transaction() as s:
        claim = s.scalars(select(Claim).where(Claim.number == number)).one()
        assert (claim.state, claim.description) == ("pending_verification", "switches off after a minute")
        assert s.scalars(select(UnitCase.state).where(UnitCase.claim_id == claim.id)).one() == "received"
    page.close()


def test_a_refused_replacement_keeps_the_scan_field_focused(live, browser):
    base, serials, _ = live
    page = browser.new_page()
    login(page, base)
    page.goto(f"{base}/station/complaint?serial={serials[0]}")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#desk-claim[data-state='registered']")
    wait_focused(page, "replacement-serial")
    # The returned unit itself scanned by mistake: refused in place, the scan kept and selected for the next one.
    page.keyboard.type(serials[0])
    page.keyboard.press("Enter")
    page.wait_for_selector("#form-error")
    assert "is the returned unit" in page.inner_text("#form-error")
    assert page.evaluate("document.activeElement.id") == "replacement-serial"
    assert page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart") == len(
        serials[0])
    assert page.get_attribute("#desk-claim", "data-state") == "registered"
    page.close()
