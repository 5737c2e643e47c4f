"""The origin story end to end in Debian's headless Chromium, keyboard and scanner only: at the desk a customer's
unit is scanned, the complaint registered and a replacement handed over on the spot; the returned unit arrives later
and is received; at the bench an engineer takes it from the queue, runs the procedure and records the verdict; the
claim is then settled at no charge."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from serialtrace.accounts import service as accounts_service
from serialtrace.trace import queries as trace_queries
from serialtrace.trace.models import Unit
from serialtrace.warranty import procedures
from serialtrace.warranty.models import Claim, Replacement, UnitCase

from .live import confirm_defect, focused, live_app, login, tab_to, take_case

pytestmark = pytest.mark.browser
ENGINEER, ENGINEER_PASSWORD = "erik", "bench-pass-1"
STEPS = [{"name": "Power on", "kind": "pass_fail"},
         {"name": "Supply current", "kind": "measure", "low": 10, "high": 20, "unit": "mA"}]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with a desk user, an engineer, a product with a procedure and its first unit shipped."""
    with live_app(tmp_path_factory.mktemp("origin-story") / "app.sqlite", ship_first=True) as (base, serials, rt):
        with rt.transaction() as s:
            accounts_service.create_user(s, username=ENGINEER, role="engineer", password=ENGINEER_PASSWORD)
            procedures.publish_procedure(s, product_id=trace_queries.get_product(s, "PR-100").id, steps=STEPS,
                                         author=None)
        yield base, serials, rt


def _claim(rt, number: str) -> tuple[str, str, list[str]]:
    """The claim's state, its case's state and the replacement serials, as stored."""
    with rt.transaction() as s:
        claim = s.scalars(select(Claim).where(Claim.number == number)).one()
        case = s.scalars(select(UnitCase.state).where(UnitCase.claim_id == claim.id)).one()
        handed = s.scalars(select(Unit.serial).join(Replacement, Replacement.replacement_unit_id == Unit.id)
                           .where(Replacement.claim_id == claim.id)).all()
    return claim.state, case, list(handed)


def test_desk_and_bench_walk_a_claim_from_scan_to_settled(live, browser):
    base, serials, rt = live
    returned, spare = serials[0], serials[1]

    # The desk: scan, F2 for the complaint, Ctrl+Enter registers it.
    desk = browser.new_page()
    login(desk, base)
    desk.keyboard.type(returned)
    desk.keyboard.press("Enter")
    desk.wait_for_selector(f"#dossier[data-serial='{returned}']")
    # The dossier is in the page before its script has bound F2; on a loaded machine the key came first.
    desk.wait_for_load_state("load")
    desk.keyboard.press("F2")
    desk.wait_for_url(f"{base}/station/complaint?serial={returned}")
    desk.keyboard.press("Control+Enter")
    desk.wait_for_selector("#desk-claim[data-state='registered']")
    number = desk.get_attribute("#desk-claim", "data-number")

    # The customer keeps the faulty unit for now (it is sent in later): untick the box, back to the scan field,
    # scan the replacement from stock.
    assert focused(desk) == "replacement-serial"
    tab_to(desk, "on-desk")
    desk.keyboard.press("Space")
    tab_to(desk, "replacement-serial", back=True)
    desk.keyboard.type(spare)
    desk.keyboard.press("Enter")
    desk.wait_for_selector("#desk-claim[data-state='replacement_shipped']")
    assert f"{returned} replaced by {spare}" in desk.inner_text("#replaced")
    assert _claim(rt, number) == ("replacement_shipped", "expected", [spare])

    # The unit comes back by post: on the claim page the receiving field has the focus; a scan receives it.
    desk.goto(f"{base}/claims/{number}")
    assert focused(desk).startswith("received-serial-")
    desk.keyboard.type(returned)
    desk.keyboard.press("Enter")
    desk.wait_for_selector("tr[id^='case-'][data-state='received']")
    assert _claim(rt, number)[1] == "received"
    desk.close()

    # The bench: the engineer takes the case from the queue and records the procedure and the verdict.
    bench = browser.new_context().new_page()
    login(bench, base, "/test-queue", user=ENGINEER, password=ENGINEER_PASSWORD)
    with rt.transaction() as s:
        case_id = s.scalar(select(UnitCase.id).join(Claim, Claim.id == UnitCase.claim_id)
                           .where(Claim.number == number))
    take_case(bench, base, case_id)
    bench.keyboard.press("Space")
    bench.keyboard.press("Tab")
    bench.keyboard.type("14.2")
    bench.keyboard.press("Enter")
    assert focused(bench) == "verdict"
    confirm_defect(bench)

    # The verdict settled the claim at no charge; its page says so and its timeline tells the whole story.
    bench.goto(f"{base}/claims/{number}")
    assert bench.get_attribute("#claim", "data-state") == "settled"
    timeline = bench.inner_text("#claim")
    assert spare in timeline and "Defect confirmed" in timeline
    with rt.transaction() as s:
        claim = s.scalars(select(Claim).where(Claim.number == number)).one()
        assert (claim.state, claim.billed_at, claim.billed_amount) == ("settled", None, None)
    assert _claim(rt, number) == ("settled", "tested", [spare])
    bench.close()
