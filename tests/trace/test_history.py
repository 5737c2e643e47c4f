"""Unit and batch history: status changes through the workflow tables, events written set-based."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from serialtrace.errors import InvalidTransition, NotFound, ValidationError
from serialtrace.trace import queries, service
from serialtrace.trace.models import Batch, BatchEvent, Unit, UnitEvent


@dataclass(frozen=True)
class Person:
    """Who acts: what services read from a user (id and name)."""

    id: int | None
    username: str


ANNA = Person(None, "anna")


def _ids(session, batch) -> list[int]:
    return list(session.scalars(select(Unit.id).where(Unit.batch_id == batch.id).order_by(Unit.id)))


def _state(session) -> tuple:
    """Every unit's status and every event: what a refused change must leave as it was."""
    return (sorted(session.execute(select(Unit.id, Unit.status)).all()),
            sorted(session.execute(select(UnitEvent.unit_id, UnitEvent.kind)).all()))


def test_set_unit_status_moves_listed_units_each_with_an_event(session, make_batch):
    batch, serials = make_batch(quantity=3)
    ids = _ids(session, batch)
    at = datetime(2025, 2, 1, 9, 30, tzinfo=UTC)
    moved = service.set_unit_status(session, units=ids[:2], to="swap_pool", kind="moved", at=at, author=ANNA,
                                    payload={"pool": "desk 1", "on": at.date()})
    assert moved == 2
    assert [queries.get_unit(session, s).status for s in serials] == ["swap_pool", "swap_pool", "in_stock"]
    events = session.execute(select(UnitEvent.unit_id, UnitEvent.at, UnitEvent.author, UnitEvent.payload)
                             .where(UnitEvent.kind == "moved").order_by(UnitEvent.unit_id)).all()
    # The payload as given, plus the status the unit moved to.
    assert [(e.unit_id, e.at, e.author, e.payload) for e in events] == [
        (i, at, "anna", {"pool": "desk 1", "on": "2025-02-01", "to_status": "swap_pool"}) for i in ids[:2]]


def test_a_refused_move_names_the_unit_and_changes_nothing(session, make_batch):
    batch, serials = make_batch(quantity=3)
    ids = _ids(session, batch)
    service.set_unit_status(session, units=[ids[1]], to="scrapped")
    before = _state(session)
    with pytest.raises(InvalidTransition) as exc:
        service.set_unit_status(session, units=ids, to="swap_pool")
    assert exc.value.status_code == 409
    assert exc.value.message == (f"cannot move unit {serials[1]} from scrapped to swap_pool "
                                 f"(allowed from scrapped: none: it is final)")
    assert _state(session) == before


def test_unknown_status_or_kind_and_missing_units_change_nothing(session, make_batch):
    batch, _ = make_batch(quantity=2)
    ids = _ids(session, batch)
    before = _state(session)
    with pytest.raises(ValidationError, match="unknown unit status 'lost'"):
        service.set_unit_status(session, units=ids, to="lost")
    with pytest.raises(ValidationError, match="unknown event kind 'teleported'"):
        service.set_unit_status(session, units=ids, to="swap_pool", kind="teleported")
    with pytest.raises(ValidationError, match="unknown event kind 'teleported'"):
        service.record_unit_events(session, kind="teleported", units=ids)
    with pytest.raises(NotFound, match=f"no unit with id {max(ids) + 1000}"):
        service.set_unit_status(session, units=[ids[0], max(ids) + 1000], to="swap_pool")
    assert _state(session) == before


def test_a_condition_moves_only_the_units_the_table_allows(session, make_batch):
    batch, _ = make_batch(quantity=4)
    ids = _ids(session, batch)
    service.set_unit_status(session, units=[ids[0]], to="scrapped")
    service.set_unit_status(session, units=[ids[1]], to="shipped", kind="shipped")
    # Scrapped is final and shipped may only come back: of the four, the two in stock move.
    assert service.set_unit_status(session, units=Unit.batch_id == batch.id, to="swap_pool") == 2
    statuses = dict(session.execute(select(Unit.id, Unit.status).where(Unit.batch_id == batch.id)).all())
    assert statuses == {ids[0]: "scrapped", ids[1]: "shipped", ids[2]: "swap_pool", ids[3]: "swap_pool"}
    moved = set(session.scalars(select(UnitEvent.unit_id).where(UnitEvent.kind == "status")))
    assert moved == {ids[0], ids[2], ids[3]}


def test_details_give_each_unit_its_own_time_and_payload(session, make_batch):
    batch, _ = make_batch(quantity=2)
    ids = _ids(session, batch)
    service.set_unit_status(session, units=ids, to="shipped", kind="shipped")
    first, second = (datetime(2025, 3, d, 10, 0, tzinfo=UTC) for d in (1, 2))
    details = {ids[0]: service.EventDetail(at=first, payload={"claim": "CL-1"}),
               ids[1]: service.EventDetail(at=second, payload={"claim": "CL-2"})}
    assert service.set_unit_status(session, units=ids, to="returned", kind="returned", details=details) == 2
    rows = session.execute(select(UnitEvent.unit_id, UnitEvent.at, UnitEvent.payload)
                           .where(UnitEvent.kind == "returned").order_by(UnitEvent.unit_id)).all()
    assert [tuple(r) for r in rows] == [(ids[0], first, {"claim": "CL-1", "to_status": "returned"}),
                                        (ids[1], second, {"claim": "CL-2", "to_status": "returned"})]
    assert service.record_unit_events(session, kind="tested", units=ids[:1],
                                      details={ids[0]: service.EventDetail(at=second, payload={"verdict": "ok"})}) == 1
    # An event that moves nothing names no status.
    tested = session.scalars(select(UnitEvent.payload).where(UnitEvent.kind == "tested")).one()
    assert tested == {"verdict": "ok"}


def test_many_units_move_in_one_update_and_one_insert(session, make_batch, engine):
    batch, _ = make_batch(quantity=600)
    ids = _ids(session, batch)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert service.set_unit_status(session, units=ids, to="swap_pool") == 600
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Two checks (every id exists, none refused), then the events and the status: whatever the number of units.
    assert statements.count("INSERT") == 1 and statements.count("UPDATE") == 1 and len(statements) <= 5
    assert session.scalar(select(func.count()).select_from(UnitEvent).where(UnitEvent.kind == "status")) == 600


def test_hold_and_release_are_batch_events_not_notes(session, make_batch):
    batch, _ = make_batch(quantity=2, notes="first run")
    held = service.set_batch_status(session, batch=batch, status="on_hold", reason="suspect board lot", author=ANNA)
    assert (held.from_status, held.to_status, held.reason, held.author) == ("released", "on_hold",
                                                                            "suspect board lot", "anna")
    service.set_batch_status(session, batch=batch, status="released", reason="lot tested fine")
    assert session.scalar(select(Batch.status).where(Batch.id == batch.id)) == "released"
    assert batch.notes == "first run"
    history = [(e.from_status, e.to_status, e.reason, e.author) for e in queries.list_batch_events(session, batch)]
    assert history == [("released", "on_hold", "suspect board lot", "anna"),
                       ("on_hold", "released", "lot tested fine", "system")]
    # One row per change whatever the batch's size: no unit events for a hold.
    assert session.scalar(select(func.count()).select_from(UnitEvent).where(UnitEvent.kind != "produced")) == 0


@pytest.mark.parametrize(("steps", "status", "reason", "error", "message"), [
    (["on_hold"], "on_hold", "again", InvalidTransition,
     "cannot move batch B1 from on_hold to on_hold (allowed from on_hold: recalled, released)"),
    (["recalled"], "released", "mistake", InvalidTransition,
     "cannot move batch B1 from recalled to released (allowed from recalled: none: it is final)"),
    ([], "paused", "why", ValidationError, "unknown batch status 'paused'; use one of released, on_hold, recalled"),
    ([], "on_hold", "  ", ValidationError, "reason must not be empty"),
    ([], "on_hold", "x" * 501, ValidationError, "reason has at most 500 characters, not 501"),
])
def test_refused_batch_changes_name_the_reason_and_change_nothing(session, make_batch, steps, status, reason, error,
                                                                  message):
    batch, _ = make_batch(quantity=1, number="B1")
    for step in steps:
        service.set_batch_status(session, batch=batch, status=step, reason="quality")
    before = (session.scalar(select(Batch.status).where(Batch.id == batch.id)),
              session.scalar(select(func.count()).select_from(BatchEvent)))
    with pytest.raises(error) as exc:
        service.set_batch_status(session, batch=batch, status=status, reason=reason)
    assert exc.value.message == message
    assert (session.scalar(select(Batch.status).where(Batch.id == batch.id)),
            session.scalar(select(func.count()).select_from(BatchEvent))) == before


def test_batch_events_are_never_edited_through_the_orm(session, make_batch):
    batch, _ = make_batch(quantity=1)
    held = service.set_batch_status(session, batch=batch, status="on_hold", reason="suspect")
    held.reason = "rewritten"
    with pytest.raises(RuntimeError, match="batch_event rows are append-only"):
        session.flush()
