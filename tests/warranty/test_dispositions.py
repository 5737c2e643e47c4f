"""Dispositions: proposed by the bench, approved by quality when needed, executed in one transaction that moves the
unit and writes its event; every refusal changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Shipment, ShipmentItem, Unit, UnitEvent
from serialtrace.warranty import bench, dispositions, service
from serialtrace.warranty.models import ClaimEvent, DispositionRecord, Replacement, UnitCase

from .bench_setup import good_steps, make_bench
from .tested_case import TODAY, make_tested


def _state(session) -> tuple:
    """What a refused action must leave as it was."""
    return (tuple(session.scalar(select(func.count()).select_from(t)) for t in (UnitEvent, ClaimEvent, Shipment)),
            tuple(session.execute(select(Unit.serial, Unit.status).order_by(Unit.id)).all()),
            tuple(session.execute(select(UnitCase.id, UnitCase.state).order_by(UnitCase.id)).all()),
            tuple(session.execute(select(DispositionRecord.id, DispositionRecord.state, DispositionRecord.decided_by_id,
                                         DispositionRecord.executed_by_id).order_by(DispositionRecord.id)).all()))


def _unit(session, serial) -> Unit:
    return session.scalars(select(Unit).where(Unit.serial == serial)).one()


def _events(session, serial) -> list[tuple]:
    return [(e.kind, e.payload.get("to_status"), e.payload.get("disposition"))
            for e in session.scalars(select(UnitEvent).where(UnitEvent.unit_id == _unit(session, serial).id)
                                     .order_by(UnitEvent.id))]


def _case_rows(session, claim) -> list[tuple]:
    return session.execute(select(ClaimEvent.kind, ClaimEvent.from_state, ClaimEvent.to_state, ClaimEvent.author)
                           .where(ClaimEvent.claim_id == claim.id, ClaimEvent.kind == "case_state")
                           .order_by(ClaimEvent.id)).all()


def test_propose_moves_the_case_and_takes_the_products_price_as_value(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="restock_refurbished",
                                  author=who["engineer"], notes=" cleaned, seal replaced ")
    assert (record.state, record.value, record.needs_approval, record.notes) == (
        "proposed", Decimal("120.00"), False, "cleaned, seal replaced")
    assert record.proposed_by_id == who["engineer"].id
    assert session.get(UnitCase, tested.case.id).state == "disposition_pending"
    assert _case_rows(session, tested.claim)[-1] == ("case_state", "tested", "disposition_pending", "engineer")


@pytest.mark.parametrize(("kind", "value", "limit", "needed"), [
    ("scrap", "1.00", 500, True), ("restock_refurbished", "500.00", 500, False),
    ("restock_refurbished", "500.01", 500, True), ("return_as_is", None, 100, True),
    ("hold_for_analysis", None, 500, False),
])
def test_scrap_and_values_above_the_limit_need_approval(session, tested, who, kind, value, limit, needed):
    record = dispositions.propose(session, case_id=tested.case.id, kind=kind, value=value, author=who["quality"],
                                  approval_value=limit)
    assert record.needs_approval is needed


def test_a_unit_of_unknown_worth_needs_approval(session, make_batch, who):
    tested = make_tested(session, make_batch, who["warehouse"], price=None)
    record = dispositions.propose(session, case_id=tested.case.id, kind="return_as_is", author=who["engineer"])
    assert (record.value, record.needs_approval) == (None, True)


@pytest.mark.parametrize(("value", "limit", "needed"), [("1.00", 100, True), ("0", 119, True), ("1.00", 120, False),
                                                        ("600.00", 500, True)])
def test_a_low_value_does_not_talk_a_priced_unit_out_of_approval(session, tested, who, value, limit, needed):
    record = dispositions.propose(session, case_id=tested.case.id, kind="restock_refurbished", value=value,
                                  author=who["engineer"], approval_value=limit)
    assert (record.value, record.needs_approval) == (Decimal(value).quantize(Decimal("0.01")), needed)


@pytest.mark.parametrize("kind", ["repair_return", "return_as_is"])
def test_a_unit_already_replaced_is_not_shipped_back_too(session, make_batch, kind):
    desk = make_bench(session, make_batch)
    _, case = desk.claim()
    bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(),
                      author=desk.people["engineer"])
    before = _state(session)
    with pytest.raises(ValidationError, match="already got a replacement for it") as exc:
        dispositions.propose(session, case_id=case.id, kind=kind, author=desk.people["engineer"])
    assert exc.value.details == {"field": "kind"} and _state(session) == before
    kept = dispositions.propose(session, case_id=case.id, kind="repair_swap_pool", author=desk.people["engineer"])
    assert kept.state == "proposed"


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"kind": "burn"}, "kind", "unknown disposition 'burn'; use one of restock_refurbished"),
    ({"kind": "scrap", "value": "-1"}, "value", "value must be an amount from 0 to 9999999999.99, not '-1'"),
    ({"kind": "scrap", "value": "lots"}, "value", "value must be an amount from 0"),
    ({"kind": "scrap", "notes": "x" * 4001}, "notes", "notes has at most 4000 characters, not 4001"),
])
def test_bad_proposals_are_422_naming_the_field_and_change_nothing(session, tested, who, kwargs, field, message):
    before = _state(session)
    with pytest.raises(ValidationError) as exc:
        dispositions.propose(session, case_id=tested.case.id, author=who["engineer"], **kwargs)
    assert str(exc.value).startswith(message) and exc.value.details["field"] == field
    assert _state(session) == before


def _scrap_refused(session, tested, author, error: type[Exception], match: str) -> None:
    """Proposing scrap as `author` is refused with `error` matching `match`, and nothing changes."""
    before = _state(session)
    with pytest.raises(error, match=match):
        dispositions.propose(session, case_id=tested.case.id, kind="scrap", author=author)
    assert _state(session) == before


def test_a_role_the_case_table_does_not_allow_may_not_propose(session, tested, who):
    _scrap_refused(session, tested, who["warehouse"], PermissionDenied,
                   r"the warehouse role may not move a case from tested to "
                   r"disposition_pending \(roles that may: engineer, quality, admin\)")


def test_a_case_not_tested_cannot_get_a_proposal(session, tested, who):
    dispositions.propose(session, case_id=tested.case.id, kind="scrap", author=who["engineer"])
    _scrap_refused(session, tested, who["engineer"], InvalidTransition,
                   r"cannot move a case from disposition_pending to disposition_pending")


def test_scrap_waits_for_approval_then_scraps_the_unit_in_one_step(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="scrap", author=who["engineer"])
    before = _state(session)
    with pytest.raises(InvalidTransition, match=rf"disposition {record.id} \(scrap\) needs quality's approval"):
        dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    with pytest.raises(PermissionDenied, match="the engineer role may not approve or reject a disposition"):
        dispositions.decide(session, disposition_id=record.id, approve=True, author=who["engineer"])
    assert _state(session) == before
    dispositions.decide(session, disposition_id=record.id, approve=True, reason="cracked board", author=who["quality"])
    assert (record.state, record.decided_by_id, record.decision_reason) == (
        "approved", who["quality"].id, "cracked board")
    assert session.get(UnitCase, tested.case.id).state == "disposition_pending"
    done = dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    assert (done.state, done.executed_by_id) == ("executed", who["engineer"].id)
    assert _unit(session, tested.serials[0]).status == "scrapped"
    assert _events(session, tested.serials[0])[-1] == ("disposed", "scrapped", "scrap")
    assert session.get(UnitCase, tested.case.id).state == "disposed"
    assert _case_rows(session, tested.claim)[-1] == ("case_state", "disposition_pending", "disposed", "engineer")


def test_a_second_execution_is_a_conflict_and_changes_nothing(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="hold_for_analysis", author=who["engineer"])
    dispositions.execute(session, disposition_id=record.id, author=who["quality"], today=TODAY)
    before = _state(session)
    with pytest.raises(InvalidTransition, match=rf"^disposition {record.id} is executed; only a proposed one can be "
                                                r"executed"):
        dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    assert _state(session) == before


def test_rejection_needs_a_reason_and_sends_the_case_back_for_another_proposal(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="scrap", author=who["engineer"])
    before = _state(session)
    with pytest.raises(ValidationError, match="say why the disposition is rejected") as exc:
        dispositions.decide(session, disposition_id=record.id, approve=False, reason="  ", author=who["quality"])
    assert exc.value.details == {"field": "reason"}
    assert _state(session) == before
    dispositions.decide(session, disposition_id=record.id, approve=False, reason="repairable",
                        author=who["quality"])
    assert record.state == "rejected"
    assert session.get(UnitCase, tested.case.id).state == "tested"
    assert _case_rows(session, tested.claim)[-1] == ("case_state", "disposition_pending", "tested", "quality")
    before = _state(session)
    with pytest.raises(InvalidTransition, match=rf"disposition {record.id} is rejected"):
        dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    with pytest.raises(InvalidTransition, match=rf"disposition {record.id} is rejected"):
        dispositions.decide(session, disposition_id=record.id, approve=True, author=who["quality"])
    assert _state(session) == before
    again = dispositions.propose(session, case_id=tested.case.id, kind="restock_refurbished", author=who["engineer"])
    assert [d.id for d in dispositions.list_dispositions(session, tested.case.id)] == [record.id, again.id]


def test_a_role_that_may_not_execute_gets_403_and_nothing_changes(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="restock_refurbished", author=who["engineer"])
    before = _state(session)
    with pytest.raises(PermissionDenied, match="the warehouse role may not move a case from disposition_pending to "
                                               "disposed"):
        dispositions.execute(session, disposition_id=record.id, author=who["warehouse"], today=TODAY)
    assert _state(session) == before


@pytest.mark.parametrize("unit_status", ["in_test", "returned"])
def test_a_refurbished_unit_is_replacement_stock(session, make_batch, who, unit_status):
    tested = make_tested(session, make_batch, who["warehouse"], unit_status=unit_status)
    record = dispositions.propose(session, case_id=tested.case.id, kind="restock_refurbished", author=who["engineer"])
    dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    refurbished = tested.serials[0]
    assert _unit(session, refurbished).status == "refurbished"
    assert _events(session, refurbished)[-1] == ("disposed", "refurbished", "restock_refurbished")
    # Another customer's claim: the refurbished unit is handed out as the replacement.
    other = tested.serials[1]
    trace_service.create_shipment(session, customer=tested.customer, shipped_on=TODAY, serials=[other], today=TODAY)
    claim = service.register_claim(session, serial=other, symptom="no_power", author=who["warehouse"],
                                   today=TODAY).claim
    service.replace_unit(session, claim_id=claim.id, replacement_serial=refurbished, author=who["warehouse"],
                         today=TODAY)
    link = session.scalars(select(Replacement).where(Replacement.claim_id == claim.id)).one()
    assert link.replacement_unit_id == _unit(session, refurbished).id
    assert _unit(session, refurbished).status == "shipped"


def test_repair_into_the_swap_pool(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="repair_swap_pool", author=who["engineer"])
    dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    assert _unit(session, tested.serials[0]).status == "swap_pool"


@pytest.mark.parametrize("kind", ["repair_return", "return_as_is"])
def test_return_dispositions_ship_the_unit_back_to_the_claims_customer(session, tested, who, kind):
    record = dispositions.propose(session, case_id=tested.case.id, kind=kind, author=who["engineer"])
    dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    unit = _unit(session, tested.serials[0])
    assert unit.status == "shipped"
    item = session.scalars(select(ShipmentItem).where(ShipmentItem.unit_id == unit.id)
                           .order_by(ShipmentItem.id.desc())).first()
    shipment = session.get(Shipment, item.shipment_id)
    assert (shipment.customer_id, shipment.reference, shipment.shipped_on) == (
        tested.customer.id, tested.claim.number, TODAY)
    assert _events(session, tested.serials[0])[-2:] == [("shipped", "shipped", None), ("disposed", None, kind)]
    disposed = session.scalars(select(UnitEvent).where(UnitEvent.unit_id == unit.id)
                               .order_by(UnitEvent.id.desc())).first()
    assert disposed.payload["shipment_id"] == shipment.id


def test_a_claim_without_customer_cannot_have_its_unit_returned(session, tested, who):
    tested.claim.customer_id = None
    record = dispositions.propose(session, case_id=tested.case.id, kind="return_as_is", author=who["engineer"])
    before = _state(session)
    with pytest.raises(Conflict, match=f"claim {tested.claim.number} has no customer to send the unit back to"):
        dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    assert _state(session) == before


def test_return_to_supplier_marks_the_unit_sent_with_the_notes(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="return_to_supplier",
                                  notes="Sensorika RMA 4411", author=who["engineer"])
    dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    unit = _unit(session, tested.serials[0])
    assert unit.status == "sent_to_supplier"
    event = session.scalars(select(UnitEvent).where(UnitEvent.unit_id == unit.id)
                            .order_by(UnitEvent.id.desc())).first()
    assert (event.kind, event.payload["notes"], event.payload["claim"]) == (
        "disposed", "Sensorika RMA 4411", tested.claim.number)


def test_hold_for_analysis_keeps_the_unit_where_it_is(session, tested, who):
    record = dispositions.propose(session, case_id=tested.case.id, kind="hold_for_analysis", author=who["engineer"])
    dispositions.execute(session, disposition_id=record.id, author=who["engineer"], today=TODAY)
    assert _unit(session, tested.serials[0]).status == "in_test"
    assert _events(session, tested.serials[0])[-1] == ("disposed", None, "hold_for_analysis")


def test_unknown_dispositions_and_cases_are_not_found(session, who):
    with pytest.raises(NotFound, match="no disposition with id 999999"):
        dispositions.execute(session, disposition_id=999999, author=who["engineer"], today=TODAY)
    with pytest.raises(NotFound, match="no unit case with id 999999"):
        dispositions.propose(session, case_id=999999, kind="scrap", author=who["engineer"])
