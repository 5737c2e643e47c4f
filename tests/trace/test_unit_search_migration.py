"""Revision 0003 on a database with data: search keys filled, duplicate customers without tax id merged."""

from __future__ import annotations

from sqlalchemy import text

from serialtrace.db import make_engine
from serialtrace.migrate import downgrade, upgrade
from serialtrace.trace.models import search_key

SERIALS = ["2501-ab", "SN0001", "ав-12", "straße", "X_1"]


def test_upgrade_fills_search_keys_and_merges_duplicate_customers(fresh_db_url):
    engine = make_engine(fresh_db_url)
    downgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO product (sku, name, family, warranty_months, warranty_start, test_procedure,"
                          " created_at) VALUES ('P1', 'Meter', '', 24, 'shipment', '', '2025-01-01')"))
        conn.execute(text("INSERT INTO batch (product_id, number, produced_on, line, shift, quantity, status, notes,"
                          " serial_scheme, created_at) VALUES (1, 'B1', '2025-01-01', '', '', 5, 'released', '', '',"
                          " '2025-01-01')"))
        for i, serial in enumerate(SERIALS):
            conn.execute(text("INSERT INTO unit (product_id, batch_id, serial, status, external_code, created_at)"
                              " VALUES (1, 1, :s, 'in_stock', :e, '2025-01-01')"),
                         {"s": serial, "e": "tag-ü" if i == 0 else None})
        conn.execute(text("INSERT INTO unit_event (unit_id, kind, at, author, payload)"
                          " VALUES (1, 'produced', '2025-01-01', 'system', '{}')"))
        for name, tax_id in (("ACME", None), ("ACME", None), ("ACME", "5401234567"), ("Other", None), ("ACME", None)):
            conn.execute(text("INSERT INTO customer (name, tax_id, contact_name, email, phone, address, created_at)"
                              " VALUES (:n, :t, '', '', '', '', '2025-01-01')"), {"n": name, "t": tax_id})
        for customer_id in (1, 2, 3, 5):
            conn.execute(text("INSERT INTO shipment (customer_id, shipped_on, reference, carrier, destination,"
                              " attributes, created_at) VALUES (:c, '2025-02-01', '', '', '', '{}', '2025-02-01')"),
                         {"c": customer_id})
    upgrade(engine)
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT serial, serial_key FROM unit")).all())
        external = conn.execute(text("SELECT external_key FROM unit WHERE external_code IS NOT NULL")).scalar_one()
        customers = conn.execute(text("SELECT id, name, tax_id FROM customer ORDER BY id")).all()
        shipments = conn.execute(text("SELECT customer_id FROM shipment ORDER BY id")).scalars().all()
    # Down and up again with the units in place (a copied table could not be dropped under its foreign keys).
    downgrade(engine, "0002")
    upgrade(engine)
    with engine.connect() as conn:
        again = dict(conn.execute(text("SELECT serial, serial_key FROM unit")).all())
    engine.dispose()
    assert again == keys
    assert keys == {s: search_key(s) for s in SERIALS}
    assert keys["ав-12"] == "АВ-12" and keys["straße"] == "STRAßE" and keys["2501-ab"] == "2501-AB"
    assert external == "TAG-Ü"
    # The oldest ACME without a tax id stays and takes over the shipments of its duplicates.
    assert [tuple(c) for c in customers] == [(1, "ACME", None), (3, "ACME", "5401234567"), (4, "Other", None)]
    assert shipments == [1, 1, 3, 1]
