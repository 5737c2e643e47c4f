"""One shipping rule (workflow.ensure_shippable, BATCH_STOCK) on every path: by serial, batch lines, unit ranges and
the ERP import."""

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict, ImportFailed
from serialtrace.trace import bulk, queries, service
from serialtrace.trace.importer import import_file
from serialtrace.trace.models import Shipment, ShipmentItem, Unit, UnitEvent

DAY = date(2025, 3, 14)


@pytest.fixture
def customer(session):
    return service.get_or_create_customer(session, name="Acme", tax_id="7701234567")


def _state(session) -> tuple:
    """Statuses, shipments, items and events: what a refused shipment must leave as it was."""
    return (sorted(session.execute(select(Unit.id, Unit.status)).all()),
            session.scalar(select(func.count()).select_from(Shipment)),
            session.scalar(select(func.count()).select_from(ShipmentItem)),
            session.scalar(select(func.count()).select_from(UnitEvent)))


def _refused(session, action, message: str) -> None:
    """`action` raises Conflict with `message` and, as one transaction per action, changes nothing."""
    before = _state(session)
    with pytest.raises(Conflict) as exc:
        with session.begin_nested():
            action()
    assert exc.value.message == message and exc.value.status_code == 409
    assert _state(session) == before


def _ids(session, batch) -> list[int]:
    return list(session.scalars(select(Unit.id).where(Unit.batch_id == batch.id).order_by(Unit.id)))


def _refurbish(session, unit_id: int) -> None:
    """In stock -> in test -> refurbished, as a unit pulled for a test and restocked."""
    service.set_unit_status(session, units=[unit_id], to="in_test")
    service.set_unit_status(session, units=[unit_id], to="refurbished", kind="disposed")


def _ship(session, customer, **kw):
    return service.create_shipment(session, customer=customer, shipped_on=DAY, **kw)


# --- by serial -------------------------------------------------------------------------------------------------

def test_refurbished_and_swap_pool_units_ship_when_named(session, make_batch, customer):
    batch, serials = make_batch(quantity=3)
    ids = _ids(session, batch)
    _refurbish(session, ids[0])
    service.set_unit_status(session, units=[ids[1]], to="swap_pool")
    _ship(session, customer, serials=serials)
    assert {queries.get_unit(session, s).status for s in serials} == {"shipped"}
    assert session.scalar(select(func.count()).select_from(UnitEvent).where(UnitEvent.kind == "shipped")) == 3


@pytest.mark.parametrize("status", ["returned", "in_test", "scrapped"])
def test_a_named_unit_outside_the_warehouse_is_refused(session, make_batch, customer, status):
    batch, serials = make_batch(quantity=1)
    path = {"returned": ["shipped", "returned"], "in_test": ["in_test"], "scrapped": ["scrapped"]}[status]
    for step in path:
        service.set_unit_status(session, units=_ids(session, batch), to=step)
    _refused(session, lambda: _ship(session, customer, serials=serials),
             f"unit {serials[0]} is {status}, not in stock; it cannot be shipped")


@pytest.mark.parametrize("status", ["on_hold", "recalled"])
def test_a_named_unit_of_a_batch_on_hold_or_recalled_is_refused(session, make_batch, customer, status):
    batch, serials = make_batch(quantity=1)
    service.set_batch_status(session, batch=batch, status=status, reason="suspect board lot")
    _refused(session, lambda: _ship(session, customer, serials=serials),
             f"unit {serials[0]} is in batch on status {status}; it cannot be shipped")


# --- batch lines ---------------------------------------------------------------------------------------------

def test_a_serialised_batch_line_of_a_held_batch_is_refused_naming_the_batch(session, make_batch, customer):
    batch, _ = make_batch(quantity=2, number="B1")
    service.set_batch_status(session, batch=batch, status="on_hold", reason="suspect board lot")
    _refused(session, lambda: _ship(session, customer, batch_lines=[service.BatchLine(batch="B1", quantity=1)]),
             "batch B1 is on_hold; it cannot be shipped")


def test_an_unserialised_batch_line_of_a_held_batch_is_refused(session, product, scheme, customer):
    batch, _ = service.register_batch(session, product=product, quantity=0, number="BULK", scheme=scheme)
    batch.quantity = 10
    service.set_batch_status(session, batch=batch, status="on_hold", reason="wet cement")
    _refused(session, lambda: _ship(session, customer, batch_lines=[service.BatchLine(batch="BULK", quantity=3)]),
             "batch BULK is on_hold; it cannot be shipped")


def test_a_batch_line_draws_on_new_stock_only(session, make_batch, customer):
    batch, serials = make_batch(quantity=3, number="B1")
    ids = _ids(session, batch)
    _refurbish(session, ids[0])
    service.set_unit_status(session, units=[ids[1]], to="swap_pool")
    _refused(session, lambda: _ship(session, customer, batch_lines=[service.BatchLine(batch="B1", quantity=2)]),
             "batch B1 has 1 units in stock, 2 asked")
    _ship(session, customer, batch_lines=[service.BatchLine(batch="B1", quantity=1)])
    assert [queries.get_unit(session, s).status for s in serials] == ["refurbished", "swap_pool", "shipped"]


def test_lines_and_serials_of_one_batch_in_one_shipment_take_different_units(session, make_batch, customer):
    batch, serials = make_batch(quantity=4, number="B1")
    shipment = _ship(session, customer, serials=[serials[0]], batch_lines=[service.BatchLine(batch="B1", quantity=1),
                                                                           service.BatchLine(batch="B1", quantity=2)])
    items = session.scalars(select(ShipmentItem.unit_id).where(ShipmentItem.shipment_id == shipment.id)).all()
    assert sorted(items) == _ids(session, batch)
    assert {queries.get_unit(session, s).status for s in serials} == {"shipped"}


def test_ship_unit_refuses_a_unit_it_has_just_shipped(session, make_batch, customer):
    _, serials = make_batch(quantity=1)
    unit = queries.get_unit(session, serials[0])

    def ship_twice():
        # The second call reads the status again rather than trusting the loaded unit.
        shipment = Shipment(customer_id=customer.id, shipped_on=DAY)
        session.add(shipment)
        session.flush()
        service.ship_unit(session, unit=unit, shipment=shipment)
        service.ship_unit(session, unit=unit, shipment=shipment)

    _refused(session, ship_twice, f"unit {serials[0]} is shipped, not in stock; it cannot be shipped")


# --- unit ranges ---------------------------------------------------------------------------------------------

def test_a_range_of_a_held_batch_is_refused_naming_the_batch(session, make_batch, customer):
    batch, _ = make_batch(quantity=2, number="B1")
    service.set_batch_status(session, batch=batch, status="on_hold", reason="suspect board lot")
    ids = _ids(session, batch)
    _refused(session, lambda: bulk.ship_unit_ranges(session, shipments=[bulk.RangeShipment(
        customer_id=customer.id, shipped_on=DAY, batch_id=batch.id, first_unit_id=ids[0], last_unit_id=ids[-1])]),
        "batch B1 is on_hold; it cannot be shipped")


def test_a_range_ships_new_stock_and_leaves_refurbished_and_swap_pool_units(session, make_batch, customer):
    batch, serials = make_batch(quantity=3, number="B1")
    ids = _ids(session, batch)
    _refurbish(session, ids[0])
    service.set_unit_status(session, units=[ids[1]], to="swap_pool")
    [(_, count)] = bulk.ship_unit_ranges(session, shipments=[bulk.RangeShipment(
        customer_id=customer.id, shipped_on=DAY, batch_id=batch.id, first_unit_id=ids[0], last_unit_id=ids[-1])])
    assert count == 1
    assert [queries.get_unit(session, s).status for s in serials] == ["refurbished", "swap_pool", "shipped"]


# --- the ERP import --------------------------------------------------------------------------------------------

def _import_shipments(session, scheme, rows: str):
    text = "document;date;customer;sku;batch;quantity\n" + rows
    return import_file(session, data=text.encode(), kind="shipments", scheme=scheme)


def test_an_import_row_of_a_held_batch_is_reported_on_its_line(session, scheme, product, make_batch, customer):
    held, _ = make_batch(quantity=2, number="B1")
    bulk_batch, _ = service.register_batch(session, product=product, quantity=0, number="BULK", scheme=scheme)
    bulk_batch.quantity = 10
    make_batch(quantity=2, number="B2")
    for batch in (held, bulk_batch):
        service.set_batch_status(session, batch=batch, status="on_hold", reason="suspect board lot")
    before = _state(session)
    with pytest.raises(ImportFailed, match="2 bad rows in shipments file; nothing was imported") as exc:
        _import_shipments(session, scheme, "D1;01.02.2025;Acme;PR-100;B2;1\n"
                                           "D1;01.02.2025;Acme;PR-100;B1;1\n"
                                           "D2;01.02.2025;Acme;PR-100;BULK;3\n")
    assert exc.value.details["errors"] == [{"line": 3, "reason": "batch B1 is on_hold; it cannot be shipped"},
                                           {"line": 4, "reason": "batch BULK is on_hold; it cannot be shipped"}]
    assert _state(session) == before


def test_an_import_counts_only_new_stock_as_available(session, scheme, make_batch):
    batch, _ = make_batch(quantity=3, number="B1")
    ids = _ids(session, batch)
    _refurbish(session, ids[0])
    service.set_unit_status(session, units=[ids[1]], to="swap_pool")
    with pytest.raises(ImportFailed) as exc:
        _import_shipments(session, scheme, "D1;01.02.2025;Acme;PR-100;B1;2\n")
    assert exc.value.details["errors"] == [{"line": 2, "reason": "batch B1 has 1 units left, 2 asked"}]
    report = _import_shipments(session, scheme, "D1;01.02.2025;Acme;PR-100;B1;1\n")
    assert report.shipped_units == 1 and session.get(Unit, ids[2]).status == "shipped"
