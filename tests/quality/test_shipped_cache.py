"""The units shipped per batch kept between dashboard views: reused while nothing changes, read again after."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event
from sqlalchemy.orm import Session

from serialtrace.db import make_engine
from serialtrace.quality import queries
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Customer
from serialtrace.warranty import service as warranty_service


def test_kept_counts_follow_every_shipment_unit_and_claim(fresh_db_url, scheme):
    engine = make_engine(fresh_db_url)
    counted: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "FROM unit JOIN (SELECT DISTINCT shipment_item.unit_id" in statement:  # the units counted
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", spy)

    def rows():
        with Session(engine) as s:
            return queries.batch_rows(s)

    def act(fn):
        with Session(engine) as s, s.begin():
            return fn(s)

    try:
        def setup(s):
            trace_service.add_product(s, sku="PR-100", name="Flow meter")
            one = trace_service.register_batch(s, product="PR-100", quantity=3, number="2501A00", scheme=scheme,
                                               produced_on=date(2025, 1, 13))
            two = trace_service.register_batch(s, product="PR-100", quantity=2, number="2501A01", scheme=scheme,
                                               produced_on=date(2025, 1, 13))
            customer = trace_service.get_or_create_customer(s, name="Vodokanal", tax_id="7701234567")
            trace_service.create_shipment(s, customer=customer, shipped_on=date(2025, 2, 3), serials=one[1][:1])
            return one[0].id, one[1], two[0].id, two[1], customer.id

        first, serials, second, others, customer_id = act(setup)
        assert rows() == [(first, 1, 0)]
        assert rows() == [(first, 1, 0)] and len(counted) == 1  # nothing changed: the kept counts
        # A claim is read every time, without counting the units again.
        act(lambda s: warranty_service.register_claim(s, serial=serials[0], symptom="no_power", author=None,
                                                      today=date(2025, 3, 3)))
        assert rows() == [(first, 1, 1)] and len(counted) == 1

        def ship(serial_list):
            def run(s):
                customer = s.get(Customer, customer_id)
                trace_service.create_shipment(s, customer=customer, shipped_on=date(2025, 2, 4), serials=serial_list)
            return run

        # A claim on a unit not shipped yet counts once the unit is shipped.
        act(lambda s: warranty_service.register_claim(s, serial=others[0], symptom="no_power", author=None,
                                                      today=date(2025, 3, 3)))
        assert rows() == [(first, 1, 1)] and len(counted) == 1
        act(ship([serials[1], others[0]]))
        assert rows() == [(first, 2, 1), (second, 1, 1)] and len(counted) == 2
        assert rows() == [(first, 2, 1), (second, 1, 1)] and len(counted) == 2
    finally:
        event.remove(engine, "before_cursor_execute", spy)
        engine.dispose()
