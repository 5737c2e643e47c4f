"""Migrations keep what is stored: the warranty bench migration (0013) on a database holding claims, and back."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from serialtrace.db import make_engine
from serialtrace.migrate import downgrade, upgrade

CLAIM_ROWS = [
    "INSERT INTO product (id, sku, name, family, warranty_months, warranty_start, test_procedure, created_at) "
    "VALUES (1, 'P-1', 'Meter', '', 24, 'shipment', '', '2025-01-01')",
    "INSERT INTO batch (id, product_id, number, produced_on, line, shift, quantity, status, notes, serial_scheme,"
    " created_at) VALUES (1, 1, 'B1', '2025-01-01', '', '', 1, 'released', '', '', '2025-01-01')",
    "INSERT INTO unit (id, product_id, batch_id, serial, serial_key, status, created_at) "
    "VALUES (1, 1, 1, 'S1', 'S1', 'shipped', '2025-01-01')",
    "INSERT INTO claim (id, number, unit_id, state, symptom, description, priority, cost, opened_at, channel) "
    "VALUES (1, 'CL-000001', 1, 'triage', 'leak', '', 'P3', 12.5, '2025-02-01', 'desk')",
    "INSERT INTO unit_case (id, claim_id, unit_id, state, expected_serial, created_at) "
    "VALUES (1, 1, 1, 'expected', 'S1', '2025-02-01')",
    "INSERT INTO claim_event (claim_id, kind, reason, author, at) VALUES (1, 'state_change', '', '', '2025-02-01')",
]


def test_the_bench_migration_keeps_claims_and_their_cases_and_goes_back(fresh_db_url):
    engine = make_engine(fresh_db_url)
    try:
        upgrade(engine, "0012")
        with engine.begin() as conn:
            for row in CLAIM_ROWS:
                conn.execute(text(row))
        upgrade(engine)
        with engine.begin() as conn:
            cost = conn.execute(text("SELECT cost FROM claim WHERE id = 1")).scalar_one()
            case = conn.execute(text("SELECT claim_id, state FROM unit_case WHERE id = 1")).one()
            codes = conn.execute(text("SELECT count(*) FROM failure_code WHERE list = 'symptom'")).scalar_one()
            conn.execute(text("INSERT INTO comment (claim_id, body, visibility, author, at) "
                              "VALUES (1, 'called the customer', 'internal', '', '2025-02-02')"))
        assert Decimal(str(cost)) == Decimal("12.5")
        assert tuple(case) == (1, "expected") and codes >= 5
        downgrade(engine, "0012")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT number FROM claim")).scalars().all() == ["CL-000001"]
            assert conn.execute(text("SELECT count(*) FROM unit_case")).scalar_one() == 1
        upgrade(engine)
    finally:
        engine.dispose()
