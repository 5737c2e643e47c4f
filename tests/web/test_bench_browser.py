"""The test bench in Debian's headless Chromium, keyboard only: take a case from the queue, fill the procedure's
steps (Enter in a field moves on instead of sending the form half filled), choose a verdict and submit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from serialtrace.trace import queries as trace_queries
from serialtrace.warranty import procedures
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import TestRecord as Record
from serialtrace.warranty.models import UnitCase

from .live import confirm_defect, live_app, login, take_case

pytestmark = pytest.mark.browser
STEPS = [{"name": "Visual check", "kind": "pass_fail"},
         {"name": "Supply current", "kind": "measure", "low": 10, "high": 20, "unit": "mA"}]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with one engineer and one received case of a product with a two-step procedure."""
    with live_app(tmp_path_factory.mktemp("bench-browser") / "app.sqlite", ship_first=True,
                  role="engineer") as (base, serials, rt):
        with rt.transaction() as s:
            product_id = trace_queries.get_product(s, "PR-100").id
            procedures.publish_procedure(s, product_id=product_id, steps=STEPS, author=None)
            claim = warranty_service.register_claim(s, serial=serials[0], symptom="no_power", author=None,
                                                    today=date.today()).claim
            case_id = s.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one()
            warranty_service.receive_case(s, case_id=case_id, serial=serials[0], author=None)
        yield base, case_id, rt


def test_take_a_case_and_record_a_verdict_with_the_keyboard_only(live, browser):
    base, case_id, rt = live
    page = browser.new_page()
    login(page, base, "/test-queue")
    take_case(page, base, case_id)
    assert page.get_attribute("#case-state", "data-state") == "in_test"
    # The first step has focus: Space passes it, Tab goes on to the measured value.
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type("25")
    assert page.inner_text("#step-1-hint") == "outside the limits"
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("15")
    assert page.inner_text("#step-1-hint") == "within the limits"
    # Enter does not send the form half filled: it moves to the verdict.
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "verdict"
    assert page.url == f"{base}/cases/{case_id}"
    confirm_defect(page)
    assert "Defect confirmed" in page.inner_text("#case-verdict")
    with rt.transaction() as s:
        record = s.scalars(select(Record).where(Record.case_id == case_id)).one()
        assert (record.verdict, record.engineer_id is not None) == ("confirmed_defect", True)
    page.close()
