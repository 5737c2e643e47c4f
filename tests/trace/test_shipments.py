"""Shipments, the dossier, genealogy and recall lists against the real database."""

import re
from datetime import date

import pytest

from serialtrace.errors import Conflict, NotFound, ValidationError
from serialtrace.trace import genealogy, queries, service
from serialtrace.warranty.dossier import lookup_dossier


@pytest.fixture
def customer(session):
    return service.get_or_create_customer(session, name="МУП «Горсети»", tax_id="5401234567",
                                          contact_name="Иванов И.И.", email="ivanov@gorseti.example")


def test_shipping_by_serial_records_item_event_and_status(session, make_batch, customer):
    _, serials = make_batch(quantity=3)
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials[:2],
                            reference="РТУ-001000")
    dossier = lookup_dossier(session, serials[0], today=date(2025, 6, 1))
    assert dossier["unit"]["status"] == "shipped"
    assert dossier["customer"]["name"] == "МУП «Горсети»"
    assert dossier["shipments"][0]["reference"] == "РТУ-001000"
    assert [e["kind"] for e in dossier["events"]] == ["produced", "shipped"]
    assert dossier["warranty"]["until"] == "2027-03-14"
    assert lookup_dossier(session, serials[2])["warranty"]["status"] == "not_started"


def test_a_unit_cannot_be_shipped_twice(session, make_batch, customer):
    _, serials = make_batch(quantity=1)
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials)
    with pytest.raises(Conflict, match="not in stock"):
        service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 15), serials=serials)


def test_units_of_a_held_batch_cannot_be_shipped(session, make_batch, customer):
    batch, serials = make_batch(quantity=1)
    service.set_batch_status(session, batch=batch, status="on_hold", reason="suspect board lot")
    with pytest.raises(Conflict, match="on_hold"):
        service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials)


def test_unknown_serial_in_a_shipment_is_not_found(session, customer, make_batch):
    make_batch(quantity=1)
    with pytest.raises(NotFound, match="NOPE"):
        service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=["NOPE"])


def test_empty_shipment_and_bad_tax_id_are_rejected(session, customer):
    with pytest.raises(ValidationError, match="at least one"):
        service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14))
    with pytest.raises(ValidationError, match="tax id"):
        service.get_or_create_customer(session, name="X", tax_id="12AB")


def test_customer_is_found_again_by_tax_id(session, customer):
    again = service.get_or_create_customer(session, name="Gorseti (renamed)", tax_id="5401234567")
    assert again.id == customer.id


def test_forward_genealogy_of_a_component_lot_reaches_its_customers(session, make_batch, customer):
    lot = service.LotInput("Shenzhen PCB Co.", "board", "L90472")
    _, first = make_batch(quantity=2, number="2503D03", inputs=[lot])
    _, second = make_batch(quantity=2, number="2504E04", inputs=[lot])
    make_batch(quantity=2, number="2505F05", inputs=[service.LotInput("Shenzhen PCB Co.", "board", "L11111")])
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 4, 1), serials=first + second[:1])
    comp = queries.get_component_lot(session, "L90472")
    fwd = genealogy.lot_forward(session, comp)
    assert [(b["number"], b["shipped"]) for b in fwd["batches"]] == [("2503D03", 2), ("2504E04", 1)]
    rows = list(genealogy.recall_rows(session, batch_ids=genealogy.lot_batch_ids(session, comp)))
    assert sorted(r["serial"] for r in rows) == sorted(first + second[:1])
    assert {r["email"] for r in rows} == {"ivanov@gorseti.example"}


def test_recall_csv_has_header_and_one_line_per_unit(session, make_batch, customer):
    batch, serials = make_batch(quantity=3, number="R1")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 4, 1), serials=serials)
    text = "".join(genealogy.recall_csv(genealogy.recall_rows(session, batch_ids=[batch.id])))
    # The byte order mark first, so Excel reads the UTF-8 (Cyrillic names) as UTF-8.
    assert text.startswith("\ufeffcustomer,tax_id,")
    lines = text.strip().splitlines()
    assert lines[0].removeprefix("\ufeff").split(",")[:2] == ["customer", "tax_id"]
    assert len(lines) == 4


def test_unserialised_goods_ship_by_batch_quantity(session, product, scheme, customer):
    batch, _ = service.register_batch(session, product=product, quantity=0, number="BULK", scheme=scheme)
    batch.quantity = 10
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 4, 1),
                            batch_lines=[service.BatchLine(batch="BULK", quantity=6)])
    with pytest.raises(Conflict, match="holds 10"):
        service.create_shipment(session, customer=customer, shipped_on=date(2025, 4, 2),
                                batch_lines=[service.BatchLine(batch="BULK", quantity=5)])


def test_serial_shared_by_two_products_asks_for_the_gtin(session, make_batch, scheme):
    from serialtrace.trace.models import Unit

    _, serials = make_batch(quantity=1)
    other = service.add_product(session, sku="PR-210", name="Heat meter", gtin="04601234560023")
    batch, _ = service.register_batch(session, product=other, quantity=0, number="OTHER", scheme=scheme)
    session.add(Unit(product_id=other.id, batch_id=batch.id, serial=serials[0]))
    session.flush()
    with pytest.raises(Conflict, match="several products"):
        queries.get_unit(session, serials[0])
    assert queries.get_unit(session, serials[0], gtin="04601234560023").product_id == other.id


def test_a_sold_out_serialised_batch_cannot_ship_more(session, make_batch, customer):
    make_batch(quantity=2, number="SOLD")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 4, 1),
                            batch_lines=[service.BatchLine(batch="SOLD", quantity=2)])
    with pytest.raises(Conflict, match="0 units in stock, 1 asked"):
        service.create_shipment(session, customer=customer, shipped_on=date(2025, 4, 2),
                                batch_lines=[service.BatchLine(batch="SOLD", quantity=1)])


def test_produced_event_is_dated_on_the_production_day(session, make_batch):
    _, serials = make_batch(quantity=1, produced_on=date(2025, 1, 13))
    events = lookup_dossier(session, serials[0])["events"]
    assert events[0]["kind"] == "produced" and events[0]["at"].startswith("2025-01-13")


def test_customer_tax_id_of_the_wrong_type_is_a_validation_error(session):
    with pytest.raises(ValidationError, match="tax id must be a string") as err:
        service.get_or_create_customer(session, name="ACME", tax_id=5401234567)
    assert err.value.details == {"field": "tax_id"}
    with pytest.raises(ValidationError, match="customer name must be text"):
        service.get_or_create_customer(session, name=5)
    with pytest.raises(ValidationError, match="customer name must not be empty"):
        service.get_or_create_customer(session, name="  ")


def test_overlong_text_is_refused_naming_the_field_on_every_backend(session):
    with pytest.raises(ValidationError, match="product name has at most 200 characters"):
        service.add_product(session, sku="LONG-1", name="N" * 5000)
    with pytest.raises(ValidationError, match="customer name has at most 200 characters"):
        service.get_or_create_customer(session, name="C" * 201)
    with pytest.raises(ValidationError, match="email has at most 200 characters"):
        service.get_or_create_customer(session, name="C", email="e" * 300)


def test_overlong_batch_line_is_refused(make_batch):
    with pytest.raises(ValidationError, match="line has at most 50 characters"):
        make_batch(quantity=1, line="L" * 51)


@pytest.mark.parametrize("shipped_on, message", [
    (date(9999, 12, 31), "shipment date 9999-12-31 (shipped_on) is an ERP placeholder for 'no date', not a real "
                         "date: send the real shipment date, or leave it empty (today's date is used)"),
    (date(1900, 1, 1), "shipment date 1900-01-01 (shipped_on) is an ERP placeholder"),
    (date(1989, 12, 31), "shipment date 1989-12-31 (shipped_on) is outside the accepted range 1990-01-01 to "
                         "2027-12-02 (one year after today)"),
    (date(2100, 1, 1), "shipment date 2100-01-01 (shipped_on) is outside the accepted range"),
])
def test_shipment_date_outside_the_business_range_ships_nothing(session, make_batch, customer, shipped_on, message):
    from sqlalchemy import func, select

    from serialtrace.trace.models import Shipment, ShipmentItem

    _, serials = make_batch(quantity=2)
    before = [session.scalar(select(func.count()).select_from(t)) for t in (Shipment, ShipmentItem)]
    with pytest.raises(ValidationError, match=re.escape(message)) as refused:
        service.create_shipment(session, customer=customer, shipped_on=shipped_on, serials=serials,
                                today=date(2026, 12, 2))
    assert refused.value.details["field"] == "shipped_on"
    assert [session.scalar(select(func.count()).select_from(t)) for t in (Shipment, ShipmentItem)] == before
    assert {queries.get_unit(session, s).status for s in serials} == {"in_stock"}


def _ship_bypassing_the_rules(session, serial: str, customer, shipped_on: date) -> None:
    """A shipment row as one written before dates were checked, or straight into the database."""
    from serialtrace.trace.models import Shipment, ShipmentItem

    unit = queries.get_unit(session, serial)
    shipment = Shipment(customer_id=customer.id, shipped_on=shipped_on, reference="ERP-9999")
    session.add(shipment)
    session.flush()
    session.add(ShipmentItem(shipment_id=shipment.id, unit_id=unit.id, batch_id=unit.batch_id, quantity=1))
    unit.status = "shipped"
    session.flush()


def test_a_unit_shipped_on_31_12_9999_still_has_a_dossier(session, make_batch, customer):
    _, serials = make_batch(quantity=1)
    _ship_bypassing_the_rules(session, serials[0], customer, date(9999, 12, 31))
    session.commit()
    session.expire_all()
    dossier = lookup_dossier(session, serials[0], today=date(2026, 12, 2), grace_days=30)
    assert dossier["shipments"][0]["shipped_on"] == "9999-12-31"
    assert dossier["warranty"] == {
        "status": "unknown", "in_warranty": False, "until": None, "start": "9999-12-31",
        "reason": "warranty cannot be computed: the shipment date 9999-12-31 is an ERP placeholder, not a real date; "
                  "correct the shipment date"}
