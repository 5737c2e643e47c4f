"""The dossier in Debian's headless Chromium: a returned, tested and replaced unit read at the desk, links followed."""

from __future__ import annotations

import pytest

from serialtrace.trace import service

from .dossier_data import CLAIM_NUMBER, CUSTOMER, DESCRIPTION, TEST_NOTES, make_history
from .live import live_app, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app in Moscow time, for a warehouse user, with the unit of tests/web/dossier_data.py."""
    lots = [service.LotInput("Shenzhen PCB Co.", "board", "L71033")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SERIALTRACE_TIMEZONE", "Europe/Moscow")
        with live_app(tmp_path_factory.mktemp("dossier") / "app.sqlite", lots=lots) as (base, serials, rt):
            with rt.transaction() as s:
                made = make_history(s, serials)
            yield base, made


def test_the_desk_reads_the_whole_story_of_a_unit_and_follows_its_links(live_server, browser, tmp_path):
    base, made = live_server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, base, f"/units/{made.serial}")
    text = page.inner_text("#dossier")
    assert DESCRIPTION in text and TEST_NOTES in text and "P2 · high" in text and "In inspection" in text
    assert CUSTOMER["phone"] in text and CUSTOMER["address"] in text
    # Claim opened 07:15 UTC: 10:15 in Moscow. Status changes read from and to.
    assert "2025-06-02 10:15" in text and "Returned → In test" in text
    page.screenshot(path=str(tmp_path / "dossier.png"), full_page=True)
    # The claim number in the tests table jumps to the claim's row, which the page highlights.
    page.click(f"table.tests a[href='#claim-{CLAIM_NUMBER}']")
    assert page.url.endswith(f"#claim-{CLAIM_NUMBER}")
    assert page.evaluate(f"document.querySelector('#claim-{CLAIM_NUMBER}').matches(':target')")
    # The replacement opens the other unit, whose dossier points back to the claim.
    page.click(f"ul.replacements a.serial:text('{made.replacement}')")
    page.wait_for_selector(f"#dossier[data-serial='{made.replacement}']")
    page.click(f"ul.replacements a:text('{CLAIM_NUMBER}')")
    page.wait_for_selector(f"#dossier[data-serial='{made.serial}']")
    assert page.url.endswith(f"/units/{made.serial}#claim-{CLAIM_NUMBER}")
    # The batch in the heading opens the batch page.
    page.click(".dossier-head .batch a")
    page.wait_for_selector("h1")
    assert "2501A00" in page.inner_text("h1")
    page.close()
