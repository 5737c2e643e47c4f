"""Revision 0004: the batch_event table goes down and comes back with batches and their history in place."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from serialtrace.db import make_engine
from serialtrace.migrate import alembic_config, upgrade


def _run(engine, action, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        action(cfg, revision)


def test_downgrade_drops_batch_events_and_upgrade_brings_them_back(fresh_db_url):
    engine = make_engine(fresh_db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO product (sku, name, family, warranty_months, warranty_start, test_procedure,"
                          " created_at) VALUES ('P1', 'Meter', '', 24, 'shipment', '', '2025-01-01')"))
        conn.execute(text("INSERT INTO batch (product_id, number, produced_on, line, shift, quantity, status, notes,"
                          " serial_scheme, created_at) VALUES (1, 'B1', '2025-01-01', '', '', 5, 'on_hold', '', '',"
                          " '2025-01-01')"))
        conn.execute(text("INSERT INTO batch_event (batch_id, kind, from_status, to_status, reason, at, author)"
                          " VALUES (1, 'status', 'released', 'on_hold', 'suspect lot', '2025-01-02', 'anna')"))
    _run(engine, command.downgrade, "0003")
    assert "batch_event" not in inspect(engine).get_table_names()
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM batch")).scalar_one() == "on_hold"
        assert conn.execute(text("SELECT count(*) FROM batch_event")).scalar_one() == 0
        indexes = {i["name"] for i in inspect(conn).get_indexes("batch_event")}
    engine.dispose()
    assert indexes == {"ix_batch_event_batch_at"}
