"""GS1 labels at the desk and the bench: a GS1 element string or Digital Link names its unit like the plain serial."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product, Unit
from serialtrace.warranty import queries, service
from serialtrace.warranty.models import Replacement, UnitCase

TODAY = date(2025, 6, 2)
GS = "\x1d"


def gs1_codes(session, serial: str) -> list[str]:
    """The ways a label of the unit with `serial` reaches the desk: GS1 DataMatrix text and a Digital Link."""
    unit = session.scalars(select(Unit).where(Unit.serial == serial)).one()
    gtin = session.get(Product, unit.product_id).gtin
    return [f"]d201{gtin}21{serial}", f"01{gtin}21{serial}{GS}10B1", f"https://id.gs1.org/01/{gtin}/21/{serial}"]


@pytest.fixture
def claimed(session, make_batch, who):
    """A claim on a shipped unit (its case expected) and the serials of its batch; the rest is stock."""
    _, serials = make_batch(quantity=4)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:2],
                                  today=TODAY)
    claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=who["warehouse"],
                                   today=TODAY).claim
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    return claim, case, serials


@pytest.mark.parametrize("form", range(3))
def test_a_gs1_scan_of_the_expected_unit_receives_the_case(session, claimed, who, form):
    claim, case, serials = claimed
    done = service.receive_case(session, case_id=case.id, serial=gs1_codes(session, serials[0])[form],
                                author=who["warehouse"])
    assert (done.case.state, done.message) == ("received", None)


def test_a_gs1_scan_of_another_unit_is_a_wrong_unit_named_by_its_serial(session, claimed, who):
    claim, case, serials = claimed
    done = service.receive_case(session, case_id=case.id, serial=gs1_codes(session, serials[1])[0],
                                author=who["warehouse"])
    assert done.case.state == "wrong_unit"
    assert str(done.message).startswith(f"unit {serials[1]} is not the expected unit {serials[0]}")


@pytest.mark.parametrize("form", range(3))
def test_a_gs1_scan_of_the_replacement_hands_it_out(session, claimed, who, form):
    claim, _, serials = claimed
    done = service.replace_unit(session, claim_id=claim.id, replacement_serial=gs1_codes(session, serials[3])[form],
                                author=who["warehouse"], today=TODAY)
    assert done.state == "replacement_shipped"
    link = session.scalars(select(Replacement)).one()
    assert session.get(Unit, link.replacement_unit_id).serial == serials[3]


def test_a_gs1_scan_finds_the_case_in_the_test_queue(session, claimed, who):
    _, case, serials = claimed
    service.receive_case(session, case_id=case.id, serial=serials[0], author=who["warehouse"])
    assert [queries.find_queue_case(session, code) for code in gs1_codes(session, serials[0])] == [case.id] * 3
    assert queries.find_queue_case(session, serials[0]) == case.id
    assert queries.find_queue_case(session, gs1_codes(session, serials[1])[0]) is None
