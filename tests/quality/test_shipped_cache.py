"""The shipped units kept between dashboard views (counts per batch, first shipments): reused while nothing changes,
read again after."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event
from sqlalchemy.orm import Session

from serialtrace.db import make_engine
from serialtrace.quality import compare, field, queries
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Customer
from serialtrace.warranty import service as warranty_service


def test_kept_counts_follow_every_shipment_unit_and_claim(fresh_db_url, scheme):
    engine = make_engine(fresh_db_url)
    counted: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT shipment.id \nFROM shipment ORDER BY"):  # first shipments read
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


def test_kept_first_shipments_follow_a_new_shipment(fresh_db_url, scheme):
    engine = make_engine(fresh_db_url)

    def act(fn):
        with Session(engine) as s, s.begin():
            return fn(s)

    def read(s):
        by_carrier = compare.compare(s, attribute="carrier")
        data = field.field_data(s, today=date(2025, 6, 1))
        return ({r["value"]: (r["units"], r["claims"]) for r in by_carrier.rows}, data.shipped, data.failures,
                queries.first_shipments(s).unit.tolist())

    try:
        def setup(s):
            trace_service.add_product(s, sku="PR-100", name="Flow meter")
            _, serials = trace_service.register_batch(s, product="PR-100", quantity=4, number="2501A00",
                                                      scheme=scheme, produced_on=date(2025, 1, 13))
            customer = trace_service.get_or_create_customer(s, name="Vodokanal", tax_id="7701234567")
            trace_service.create_shipment(s, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:2],
                                          carrier="DHL", today=date(2025, 6, 1))
            trace_service.create_shipment(s, customer=customer, shipped_on=date(2025, 2, 4), serials=serials[2:3],
                                          carrier="UPS", today=date(2025, 6, 1))
            warranty_service.register_claim(s, serial=serials[3], symptom="no_power", author=None,
                                            today=date(2025, 3, 3))
            return serials, customer.id

        serials, customer_id = act(setup)
        with Session(engine) as s:
            before = read(s)
            assert read(s) == before  # kept
        assert before[0] == {"DHL": (2, 0), "UPS": (1, 0)}
        assert before[1] == {date(2025, 2, 3): 2, date(2025, 2, 4): 1} and before[2] == {}

        # The claimed unit leaves on a new shipment: every page counts it, at that shipment, with its claim.
        act(lambda s: trace_service.create_shipment(s, customer=s.get(Customer, customer_id),
                                                    shipped_on=date(2025, 2, 5), serials=serials[3:],
                                                    carrier="UPS", today=date(2025, 6, 1)))
        with Session(engine) as s:
            by_carrier, shipped, failures, units = read(s)
        assert by_carrier == {"DHL": (2, 0), "UPS": (2, 1)}
        assert shipped == {date(2025, 2, 3): 2, date(2025, 2, 4): 1, date(2025, 2, 5): 1}
        assert [(ship, count) for (ship, _), count in failures.items()] == [(date(2025, 2, 5), 1)]
        assert len(units) == 4
    finally:
        engine.dispose()
