"""Set-based bulk writes: unit range shipments, events and status changes."""

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict
from serialtrace.trace import bulk, service
from serialtrace.trace.models import Shipment, ShipmentItem, Unit, UnitEvent


def _unit_ids(session, batch) -> list[int]:
    return list(session.scalars(select(Unit.id).where(Unit.batch_id == batch.id).order_by(Unit.id)))


def test_range_shipment_ships_only_in_stock_units_of_the_range(session, make_batch):
    batch, _ = make_batch(quantity=10, number="B1")
    other, _ = make_batch(quantity=3, number="B2")
    ids = _unit_ids(session, batch)
    customer = service.get_or_create_customer(session, name="Acme", tax_id="7701234567")
    service.set_unit_status(session, units=[ids[3]], to="scrapped")
    [(shipment_id, count)] = bulk.ship_unit_ranges(session, shipments=[bulk.RangeShipment(
        customer_id=customer.id, shipped_on=date(2025, 2, 3), batch_id=batch.id, first_unit_id=ids[2],
        last_unit_id=ids[6], reference="D-1", carrier="ПЭК", attributes={"weather": "snow", "on": date(2025, 2, 3)})])
    assert count == 4
    shipped = set(session.scalars(select(Unit.id).where(Unit.status == "shipped")))
    assert shipped == {ids[2], ids[4], ids[5], ids[6]}
    items = set(session.scalars(select(ShipmentItem.unit_id).where(ShipmentItem.shipment_id == shipment_id)))
    assert items == shipped
    shipment = session.get(Shipment, shipment_id)
    assert shipment.attributes == {"weather": "snow", "on": "2025-02-03"} and shipment.carrier == "ПЭК"
    events = session.execute(select(UnitEvent.unit_id, UnitEvent.payload).where(UnitEvent.kind == "shipped")).all()
    assert {e.unit_id for e in events} == shipped
    assert events[0].payload == {"shipment_id": shipment_id, "reference": "D-1", "shipped_on": "2025-02-03",
                                 "customer_id": customer.id, "to_status": "shipped"}


def test_range_shipment_of_a_batch_on_hold_is_a_conflict(session, make_batch):
    batch, _ = make_batch(quantity=2, number="B1")
    service.set_batch_status(session, batch=batch, status="on_hold", reason="suspect board lot")
    customer = service.get_or_create_customer(session, name="Acme")
    ids = _unit_ids(session, batch)
    with pytest.raises(Conflict, match="cannot be shipped"):
        bulk.ship_unit_ranges(session, shipments=[bulk.RangeShipment(
            customer_id=customer.id, shipped_on=date(2025, 2, 3), batch_id=batch.id, first_unit_id=ids[0],
            last_unit_id=ids[-1])])
    assert session.scalar(select(func.count()).select_from(Shipment)) == 0
