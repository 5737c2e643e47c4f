"""Return deadlines: a claim's case is due back within warranty_return_days; past it the case becomes not_returned
and an advance-replaced claim is billed. Receiving the unit moves a claim that waited for it into inspection."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.errors import PermissionDenied
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product
from serialtrace.warranty import bench, queries, service
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase

from .bench_setup import TODAY, make_bench


@pytest.fixture
def desk(session, make_batch):
    """A priced product and shipped units to claim."""
    return make_bench(session, make_batch, claims=5)


def _states(session) -> list[tuple]:
    return list(session.execute(select(UnitCase.state, Claim.state, Claim.billed_amount)
                                .join(Claim, Claim.id == UnitCase.claim_id).order_by(UnitCase.id)).all())


def test_the_return_deadline_starts_when_the_claim_waits_for_the_unit(session, desk):
    _, case = desk.claim(receive=False)
    assert case.return_due == TODAY + timedelta(days=14)
    assert queries.case_read(session, case.id)["return_due"] == "2025-06-16"
    # Registering starts no clock: the customer is not asked to send anything yet.
    claim = service.register_claim(session, serial=desk.serials[desk.used], symptom="leak", author=None,
                                   today=TODAY).claim
    due = select(UnitCase.return_due).where(UnitCase.claim_id == claim.id)
    assert session.scalars(due).one() is None
    later = TODAY + timedelta(days=9)
    for to in ("triage", "waiting_customer", "triage"):
        service.transition_claim(session, claim_id=claim.id, to=to, author=desk.people["coordinator"], today=later)
    assert session.scalars(due).one() is None
    service.transition_claim(session, claim_id=claim.id, to="awaiting_return", author=desk.people["coordinator"],
                             today=later, return_days=3)
    assert session.scalars(due).one() == later + timedelta(days=3)
    # A replacement handed out starts it too, from the day it ships.
    other = service.register_claim(session, serial=desk.serials[desk.used + 2], symptom="leak", author=None,
                                   today=TODAY).claim
    service.replace_unit(session, claim_id=other.id, replacement_serial=desk.serials[desk.used + 3],
                         author=desk.people["warehouse"], today=later, return_days=5)
    assert session.scalars(select(UnitCase.return_due).where(UnitCase.claim_id == other.id)).one() == \
        later + timedelta(days=5)


def test_receiving_moves_a_claim_awaiting_return_into_inspection(session, desk):
    claim, case = desk.claim(advance=False, receive=False)
    assert claim.state == "awaiting_return"
    service.receive_case(session, case_id=case.id, serial=desk.serials[desk.used + 1], author=desk.people["warehouse"])
    session.refresh(claim)
    assert claim.state == "awaiting_return"  # a wrong unit: the claim still waits
    service.receive_case(session, case_id=case.id, serial=case.expected_serial, author=desk.people["warehouse"])
    session.refresh(claim)
    assert claim.state == "in_inspection"
    last = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)
                           .order_by(ClaimEvent.id.desc())).first()
    assert (last.from_state, last.to_state, last.author) == ("awaiting_return", "in_inspection", "system")


def test_expire_returns_marks_late_cases_and_bills_advance_replaced_claims(session, desk):
    replaced, replaced_case = desk.claim(receive=False)
    waiting, waiting_case = desk.claim(advance=False, receive=False)
    received, _ = desk.claim()
    later, later_case = desk.claim(receive=False, today=TODAY + timedelta(days=5))
    due = TODAY + timedelta(days=14)
    # On the due day itself nothing is late yet.
    assert bench.expire_returns(session, today=due, author=desk.people["coordinator"]) == []
    moved = bench.expire_returns(session, today=due + timedelta(days=1), author=desk.people["coordinator"])
    assert [(m.case.id, m.case.state, m.claim.state, m.claim.billed_amount) for m in moved] == [
        (replaced_case.id, "not_returned", "billed", Decimal("120.00")),
        (waiting_case.id, "not_returned", "awaiting_return", None)]
    assert all(m.warnings == [] for m in moved)
    session.refresh(later_case)
    assert later_case.state == "expected"
    timeline = [(e["kind"], e["from"], e["to"], e["reason"])
                for e in queries.claim_read(session, replaced, role=None)["timeline"]][-3:]
    why = f"{replaced_case.expected_serial} not returned by {due.isoformat()}"
    assert timeline == [("case_state", "expected", "not_returned", why),
                        ("state_change", "replacement_shipped", "pending_verification", why),
                        ("state_change", "pending_verification", "billed", why)]
    assert session.get(Claim, replaced.id).billed_at is not None
    assert received.state == "pending_verification" and later.state == "replacement_shipped"
    # Run again: nothing new.
    before = _states(session)
    assert bench.expire_returns(session, today=due + timedelta(days=1)) == []
    assert _states(session) == before


def test_a_wrong_unit_case_past_its_deadline_is_not_returned_too(session, desk):
    _, case = desk.claim(receive=False)
    service.receive_case(session, case_id=case.id, serial=desk.serials[desk.used + 1],
                         author=desk.people["warehouse"])
    moved = bench.expire_returns(session, today=TODAY + timedelta(days=15))
    assert [(m.case.id, m.case.state) for m in moved] == [(case.id, "not_returned")]


def test_a_product_without_a_price_bills_with_no_amount_and_a_warning(session, desk):
    desk.product.price = None
    claim, _ = desk.claim(receive=False)
    moved = bench.expire_returns(session, today=TODAY + timedelta(days=15))
    assert (moved[0].claim.state, moved[0].claim.billed_amount) == ("billed", None)
    assert [w["code"] for w in moved[0].warnings] == ["no_price"]


def test_a_role_that_may_not_mark_not_returned_changes_nothing(session, desk):
    desk.claim(receive=False)
    before = _states(session)
    with pytest.raises(PermissionDenied):
        bench.expire_returns(session, today=TODAY + timedelta(days=15), author=desk.people["engineer"])
    assert _states(session) == before


def test_billed_claims_list_what_to_invoice(session, desk):
    claim, _ = desk.claim(receive=False)
    tested, tested_case = desk.claim()
    bench.record_test(session, case_id=tested_case.id, verdict="not_covered", steps=[
        {"name": "Power on", "passed": False}, {"name": "Supply current", "value": 0}],
        author=desk.people["engineer"])
    bench.expire_returns(session, today=TODAY + timedelta(days=15))
    rows = queries.billed_claims(session)
    assert [(r["number"], r["customer"], r["customer_tax_id"], r["product"], r["amount"], r["verdict"])
            for r in rows] == [(tested.number, "Vodokanal", "7701234567", "PR-100", "120.00", "not_covered"),
                               (claim.number, "Vodokanal", "7701234567", "PR-100", "120.00", None)]
    assert rows[0]["serial"] == tested_case.expected_serial
    late = session.get(Claim, claim.id).billed_at
    assert [r["number"] for r in queries.billed_claims(session, since=late)] == [claim.number]


def test_two_runs_at_once_move_each_case_once(fresh_db_url):
    rt = Runtime.from_env({"database_url": fresh_db_url, "secret_key": "returns", "serial_key": "k"})
    with rt.transaction() as s:
        desk = accounts_service.create_user(s, username="desk", role="warehouse")
        product = trace_service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")
        product.price = Decimal("99.50")
        _, serials = trace_service.register_batch(s, product="PR-100", quantity=8, number="2501A00",
                                                  produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
        customer = trace_service.get_or_create_customer(s, name="ACME", tax_id="5401234567")
        trace_service.create_shipment(s, customer=customer, shipped_on=TODAY, serials=serials[:4], today=TODAY)
        for serial, stock in zip(serials[:4], serials[4:], strict=True):
            claim = service.register_claim(s, serial=serial, symptom="no_power", author=desk, today=TODAY).claim
            service.replace_unit(s, claim_id=claim.id, replacement_serial=stock, author=desk, today=TODAY)
    start = threading.Barrier(2)
    out: list = [None, None]

    def run(i: int) -> None:
        start.wait()
        with rt.transaction() as s:
            out[i] = len(bench.expire_returns(s, today=TODAY + timedelta(days=30)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(out) == [0, 4], out
    with rt.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Claim).where(Claim.state == "billed")) == 4
        assert s.scalar(select(func.count()).select_from(ClaimEvent).where(ClaimEvent.to_state == "billed")) == 4
        assert s.scalar(select(func.sum(Claim.billed_amount))) == Decimal("398.00")
        assert s.get(Product, product.id).price == Decimal("99.50")
    rt.engine.dispose()
