"""Instant replacement at the desk: one service call and one transaction, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, Shipment, Unit, UnitEvent
from serialtrace.warranty import queries, service
from serialtrace.warranty.models import ClaimEvent, Replacement, UnitCase

TODAY = date(2025, 6, 2)


@pytest.fixture
def desk(session):
    """A warehouse worker at the desk."""
    return accounts_service.create_user(session, username="desk", role="warehouse")


@pytest.fixture
def setup(session, make_batch, desk):
    """A claim on a unit shipped to a customer, and a second batch of stock to replace it from."""
    _, serials = make_batch(quantity=2)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:1],
                                  today=TODAY)
    stock_batch, stock = make_batch(quantity=3)
    claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
    return claim, serials[0], stock, stock_batch, customer


def _state(session) -> tuple:
    """What a refused replacement must leave as it was."""
    return (tuple(session.scalar(select(func.count()).select_from(t)) for t in (Replacement, Shipment, UnitEvent,
                                                                                 ClaimEvent)),
            tuple(session.execute(select(Unit.serial, Unit.status).order_by(Unit.id)).all()),
            tuple(session.execute(select(UnitCase.state)).scalars()))


def _unit(session, serial):
    return session.scalars(select(Unit).where(Unit.serial == serial)).one()


@pytest.mark.parametrize("on_desk", [False, True])
def test_replace_ships_links_writes_events_and_moves_claim_and_case(session, setup, desk, on_desk):
    claim, returned, stock, _, customer = setup
    done = service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk,
                                on_desk=on_desk, today=TODAY)
    # A unit handed over at the desk is received: its verification is pending.
    assert done.state == ("pending_verification" if on_desk else "replacement_shipped")
    link = session.scalars(select(Replacement)).one()
    shipment = session.get(Shipment, link.shipment_id)
    assert (shipment.customer_id, shipment.reference, shipment.shipped_on) == (customer.id, claim.number, TODAY)
    assert (link.claim_id, link.returned_unit_id, link.replacement_unit_id) == (
        claim.id, _unit(session, returned).id, _unit(session, stock[0]).id)
    assert _unit(session, stock[0]).status == "shipped"
    assert _unit(session, returned).status == ("returned" if on_desk else "shipped")
    kinds = session.scalars(select(UnitEvent.kind).where(UnitEvent.unit_id == _unit(session, returned).id)
                            .order_by(UnitEvent.id)).all()
    assert kinds[-2:] == ["replaced", "returned"] if on_desk else kinds[-1] == "replaced"
    assert session.scalars(select(UnitEvent.kind).where(UnitEvent.unit_id == _unit(session, stock[0]).id)
                           .order_by(UnitEvent.id.desc())).first() == "shipped"
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    assert case.state == ("received" if on_desk else "expected")
    # A registered claim is taken to triage as a system step on the way, both steps on the timeline.
    read = queries.claim_read(session, done, role="warehouse")
    changes = [e for e in read["timeline"] if e["kind"] == "state_change"]
    assert [(e["from"], e["to"]) for e in changes] == [
        (None, "registered"), ("registered", "triage"), ("triage", "replacement_shipped")] + (
        [("replacement_shipped", "pending_verification")] if on_desk else [])
    assert changes[2]["reason"] == f"{returned} replaced by {stock[0]}"
    assert [(e["returned_serial"], e["replacement_serial"], e["author"]) for e in read["timeline"]
            if e["kind"] == "replacement"] == [(returned, stock[0], "desk")]
    assert read["replacements"] == [{"returned_serial": returned, "replacement_serial": stock[0],
                                     "created_at": read["replacements"][0]["created_at"]}]
    # The dossiers of both units show the link, each from its side.
    assert [r["role"] for r in queries.unit_replacements(session, _unit(session, returned).id)] == ["returned"]
    assert [r["role"] for r in queries.unit_replacements(session, _unit(session, stock[0]).id)] == ["replacement"]


def test_a_unit_may_serve_as_a_replacement_again_after_it_came_back(session, setup, desk):
    claim, returned, stock, _, customer = setup
    service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    # The replacement fails in turn and is replaced too: a unit is returned and handed out more than once in life.
    second = service.register_claim(session, serial=stock[0], symptom="no_power", author=desk, today=TODAY).claim
    service.replace_unit(session, claim_id=second.id, replacement_serial=stock[1], author=desk, today=TODAY)
    assert session.scalar(select(func.count()).select_from(Replacement)) == 2


def test_replacement_already_shipped_is_a_conflict_and_nothing_changes(session, setup, desk):
    claim, returned, stock, _, customer = setup
    other = service.register_claim(session, serial=returned, symptom="leak", author=desk, today=TODAY).claim
    service.replace_unit(session, claim_id=other.id, replacement_serial=stock[0], author=desk, today=TODAY)
    before = _state(session)
    with pytest.raises(Conflict) as refused:
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[1], author=desk, today=TODAY)
    assert "already replaced by" in str(refused.value) and other.number in str(refused.value)
    assert _state(session) == before
    third = service.register_claim(session, serial=stock[2], symptom="leak", author=desk, today=TODAY).claim
    before = _state(session)
    with pytest.raises(Conflict, match=f"claim {third.number} has no customer"):
        service.replace_unit(session, claim_id=third.id, replacement_serial=stock[1], author=desk, today=TODAY)
    third = service.register_claim(session, serial=stock[2], symptom="leak", author=desk, customer_id=customer.id,
                                   today=TODAY).claim
    before = _state(session)
    with pytest.raises(Conflict) as refused:
        service.replace_unit(session, claim_id=third.id, replacement_serial=stock[0], author=desk, today=TODAY)
    assert f"{stock[0]} is already the replacement for {returned}" in str(refused.value)
    assert _state(session) == before


def test_held_batch_and_unit_not_in_stock_are_refused_naming_them(session, setup, desk):
    claim, returned, stock, stock_batch, _ = setup
    trace_service.set_unit_status(session, units=[_unit(session, stock[1]).id], to="in_test")
    before = _state(session)
    with pytest.raises(Conflict) as refused:
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[1], author=desk, today=TODAY)
    assert stock[1] in str(refused.value) and "not in stock" in str(refused.value)
    assert _state(session) == before
    trace_service.set_batch_status(session, batch=session.get(Batch, stock_batch.id), status="on_hold", reason="QC")
    before = _state(session)
    with pytest.raises(Conflict) as refused:
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    assert stock[0] in str(refused.value) and "on_hold" in str(refused.value)
    assert _state(session) == before


def test_other_product_the_returned_unit_itself_and_unknown_serial(session, setup, desk, scheme):
    claim, returned, stock, _, _ = setup
    trace_service.add_product(session, sku="PR-200", name="Heat meter", gtin="04601234560023")
    _, others = trace_service.register_batch(session, product="PR-200", quantity=1, scheme=scheme,
                                             produced_on=date(2025, 1, 13))
    before = _state(session)
    with pytest.raises(ValidationError) as refused:
        service.replace_unit(session, claim_id=claim.id, replacement_serial=others[0], author=desk, today=TODAY)
    assert "PR-200" in str(refused.value) and "same product" in str(refused.value)
    assert refused.value.details == {"field": "replacement_serial"}
    with pytest.raises(ValidationError, match="is the returned unit"):
        service.replace_unit(session, claim_id=claim.id, replacement_serial=returned, author=desk, today=TODAY)
    with pytest.raises(NotFound, match="NOPE-1"):
        service.replace_unit(session, claim_id=claim.id, replacement_serial="NOPE-1", author=desk, today=TODAY)
    with pytest.raises(NotFound):
        service.replace_unit(session, claim_id=10**6, replacement_serial=stock[0], author=desk, today=TODAY)
    assert _state(session) == before


def test_state_and_role_refusals(session, setup, desk):
    claim, _, stock, _, _ = setup
    engineer = accounts_service.create_user(session, username="bench", role="engineer")
    before = _state(session)
    with pytest.raises(PermissionDenied):
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=engineer, today=TODAY)
    assert _state(session) == before
    service.transition_claim(session, claim_id=claim.id, to="cancelled", author=None)
    before = _state(session)
    with pytest.raises(InvalidTransition, match="cancelled"):
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    assert _state(session) == before
