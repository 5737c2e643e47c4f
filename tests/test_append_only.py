"""History tables refuse UPDATE and DELETE in the database itself, whatever the caller; login attempts stay prunable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from serialtrace.db import load_models, make_engine, transaction
from serialtrace.errors import AppendOnly
from serialtrace.migrate import alembic_config, append_only_ddl, append_only_tables, drop_append_only_ddl, upgrade
from serialtrace.trace.models import UnitEvent

HISTORY = {"unit_event", "batch_event", "scan_log", "recall_note", "security_event"}


def _message(table: str) -> str:
    return f"{table} is append-only: its rows are never updated or deleted; record a correcting entry instead"


def _events(session, unit_id: int) -> list[tuple]:
    return [tuple(r) for r in session.execute(
        select(UnitEvent.id, UnitEvent.kind, UnitEvent.payload).where(UnitEvent.unit_id == unit_id)
        .order_by(UnitEvent.id)).all()]


@pytest.fixture
def unit_id(session, make_batch) -> int:
    """A unit with its `produced` event."""
    from serialtrace.trace import queries

    _, serials = make_batch(quantity=1)
    return queries.get_unit(session, serials[0]).id


@pytest.fixture
def scan_row(session) -> int:
    """One scan log row, written with Core as the scan log writer does."""
    table = load_models().tables["scan_log"]
    return session.execute(insert(table).values(
        scanned_at=datetime(2025, 3, 14, tzinfo=UTC), station="desk-1", source="typed", raw="SN1",
        result="unknown").returning(table.c.id)).scalar_one()


@pytest.mark.parametrize("statement", [
    lambda uid: update(UnitEvent).where(UnitEvent.unit_id == uid).values(kind="note"),
    lambda uid: update(UnitEvent).where(UnitEvent.unit_id == uid).values(payload={"forged": True}),
    lambda uid: delete(UnitEvent).where(UnitEvent.unit_id == uid),
    lambda uid: text(f"UPDATE unit_event SET author = 'someone else' WHERE unit_id = {int(uid)}"),
    lambda uid: text(f"DELETE FROM unit_event WHERE unit_id = {int(uid)}"),
], ids=["core-update-kind", "core-update-payload", "core-delete", "sql-update", "sql-delete"])
def test_unit_events_refuse_update_and_delete_from_any_caller(session, unit_id, statement):
    before = _events(session, unit_id)
    assert before, "the unit has its produced event"
    with pytest.raises(IntegrityError, match=_message("unit_event")):
        with session.begin_nested():
            session.execute(statement(unit_id))
    assert _events(session, unit_id) == before


@pytest.mark.parametrize("statement", [
    lambda t, rid: update(t).where(t.c.id == rid).values(result="unit", raw="SN2"),
    lambda t, rid: delete(t).where(t.c.id == rid),
], ids=["update", "delete"])
def test_scan_log_refuses_update_and_delete(session, scan_row, statement):
    table = load_models().tables["scan_log"]
    with pytest.raises(IntegrityError, match=_message("scan_log")):
        with session.begin_nested():
            session.execute(statement(table, scan_row))
    row = session.execute(select(table.c.raw, table.c.result).where(table.c.id == scan_row)).one()
    assert row == ("SN1", "unknown")


@pytest.mark.parametrize("statement", [
    lambda t, rid: update(t).where(t.c.id == rid).values(reason="nothing happened"),
    lambda t, rid: delete(t).where(t.c.id == rid),
], ids=["update", "delete"])
def test_batch_events_refuse_update_and_delete(session, make_batch, statement):
    batch, _ = make_batch(quantity=1)
    table = load_models().tables["batch_event"]
    row = session.execute(insert(table).values(
        batch_id=batch.id, kind="hold", from_status="released", to_status="on_hold", reason="supplier alert",
        at=datetime(2025, 3, 14, tzinfo=UTC), author="t").returning(table.c.id)).scalar_one()
    with pytest.raises(IntegrityError, match=_message("batch_event")):
        with session.begin_nested():
            session.execute(statement(table, row))
    assert session.execute(select(table.c.reason).where(table.c.id == row)).scalar_one() == "supplier alert"


def test_a_refused_change_in_an_action_is_an_append_only_conflict_and_changes_nothing(sessions, session, unit_id):
    before = _events(session, unit_id)
    session.commit()
    with pytest.raises(AppendOnly) as refused:
        with transaction(sessions) as s:
            s.add(UnitEvent(unit_id=unit_id, kind="note", author="t"))
            s.flush()
            s.execute(update(UnitEvent).where(UnitEvent.unit_id == unit_id).values(author="forger"))
    assert refused.value.message == _message("unit_event")
    assert refused.value.status_code == 409 and refused.value.code == "append_only"
    # The whole action is undone, the event it added included.
    assert _events(session, unit_id) == before


def test_orm_edit_of_an_event_is_still_refused_before_the_database(session, unit_id):
    event = session.scalars(select(UnitEvent).where(UnitEvent.unit_id == unit_id)).first()
    event.kind = "note"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()


def test_new_events_are_still_appended(session, unit_id):
    before = len(_events(session, unit_id))
    session.execute(insert(UnitEvent).values(unit_id=unit_id, kind="note", author="t", payload={"text": "fixed"},
                                             at=datetime(2025, 3, 15, tzinfo=UTC)))
    assert len(_events(session, unit_id)) == before + 1


def test_postgresql_refuses_truncate_of_history(connection, unit_id):
    if connection.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has only DELETE")
    with pytest.raises(IntegrityError, match=_message("unit_event")):
        with connection.begin_nested():
            connection.execute(text("TRUNCATE unit_event CASCADE"))
    assert connection.execute(select(func.count()).select_from(UnitEvent)).scalar_one() >= 1


def test_login_attempts_are_not_history_and_stay_prunable(connection):
    assert "login_attempt" not in append_only_tables(connection)
    connection.execute(text("DELETE FROM login_attempt"))


def test_every_history_table_carries_the_triggers(connection):
    """Tables named like history (*_event, *_log) and the known ones; a new one without triggers fails here."""
    tables = set(load_models().tables)
    history = HISTORY | {t for t in tables if t.endswith(("_event", "_log"))}
    missing = history - append_only_tables(connection)
    assert not missing, f"history tables without the append-only triggers (call migrate.make_append_only): {missing}"


@pytest.mark.parametrize("table", ["unit event", "x;DROP TABLE unit", "Unit", "", "a" * 60])
def test_the_helper_refuses_names_it_would_splice_into_ddl(table):
    with pytest.raises(ValueError, match="not a plain table name"):
        append_only_ddl(table, "sqlite")
    with pytest.raises(ValueError, match="not a plain table name"):
        drop_append_only_ddl(table, "postgresql")


def test_the_helper_names_an_unknown_database():
    with pytest.raises(ValueError, match="'mysql'"):
        append_only_ddl("unit_event", "mysql")


def _migrate(engine, action, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        action(cfg, revision)


def test_downgrade_lifts_the_triggers_and_upgrade_restores_them(fresh_db_url):
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            assert append_only_tables(conn) >= HISTORY
        _migrate(engine, command.downgrade, "0004")
        with engine.begin() as conn:
            assert append_only_tables(conn) & HISTORY == set()
            conn.execute(text("INSERT INTO scan_log (scanned_at, station, source, raw, result)"
                              " VALUES ('2025-03-14 00:00:00', 'd', 'typed', 'SN1', 'unknown')"))
            conn.execute(text("UPDATE scan_log SET result = 'unit'"))
        upgrade(engine)
        with engine.connect() as conn:
            assert append_only_tables(conn) >= HISTORY
            with pytest.raises(IntegrityError, match=_message("scan_log")):
                conn.execute(text("DELETE FROM scan_log"))
            conn.rollback()
            assert conn.execute(text("SELECT result FROM scan_log")).scalars().all() == ["unit"]
    finally:
        engine.dispose()
