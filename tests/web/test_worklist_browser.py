"""The worklist in headless Chromium: a claim handed to me appears in my list without a reload."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.warranty import service, stages

from .live import USER, live_app, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with a coordinator and three units, the first shipped to a customer."""
    with live_app(tmp_path_factory.mktemp("worklist-browser") / "app.sqlite", ship_first=True,
                  role="coordinator") as served:
        yield served


def test_a_claim_handed_to_me_appears_without_a_reload(live, browser):
    base, serials, rt = live
    page = browser.new_page()
    login(page, base, "/worklist")
    page.wait_for_selector("#worklist-empty")
    page.evaluate("window.notReloaded = true")
    with rt.transaction() as s:
        claim = service.register_claim(s, serial=serials[0], symptom="no_power", author=None,
                                       today=date.today()).claim
        stages.reassign(s, claim_id=claim.id, reason="yours today", author=None, username=USER)
        number = claim.number
    # The page polls the change marker every 15 s and swaps in the fresh list.
    page.wait_for_selector(f"#worklist tr[data-claim] >> text={number}", timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    assert "left" in page.inner_text("#worklist td.left")
    assert page.inner_text("#worklist-status") == "The list was updated."
