"""Holds on component lots: the batches a lot went into follow its hold, and its release frees only those."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from serialtrace.accounts import service as accounts_service
from serialtrace.errors import Conflict, InvalidTransition, NotFound, ValidationError
from serialtrace.labelling import queries as labelling_queries
from serialtrace.station import queries as station_queries
from serialtrace.station.policy import scan_signal
from serialtrace.trace import lots
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, BatchEvent, ComponentLot

BOARD = trace_service.LotInput(supplier="Микрон", part="MCU board", lot_number="L71033")
SENSOR = trace_service.LotInput(supplier="Sens", part="Sensor", lot_number="S-5")


@pytest.fixture
def quality(session):
    return accounts_service.create_user(session, username="qa", role="quality")


def _lot(session, lot_input=BOARD):
    return lots.find_lot(session, lot_input.lot_number, supplier=lot_input.supplier, part=lot_input.part)


def _status(session, batch):
    return session.scalar(select(Batch.status).where(Batch.id == batch.id))


def _events(session, batch):
    return list(session.scalars(select(BatchEvent).where(BatchEvent.batch_id == batch.id).order_by(BatchEvent.id)))


def test_a_held_lot_holds_its_batches_each_with_its_own_event(session, make_batch, quality):
    first, _ = make_batch(quantity=1, inputs=[BOARD])
    second, _ = make_batch(quantity=1, inputs=[BOARD, SENSOR])
    other, _ = make_batch(quantity=1, inputs=[SENSOR])
    lot = _lot(session)
    held = lots.hold_lot(session, lot, reason="  solder voids  ", author=quality)
    assert [b.id for b in held] == [first.id, second.id]
    assert (lot.status, lot.hold_reason, lot.held_by, lot.held_batch_ids) == (
        "on_hold", "solder voids", "qa", [first.id, second.id])
    assert lot.held_at is not None
    assert [_status(session, b) for b in (first, second, other)] == ["on_hold", "on_hold", "released"]
    [event] = _events(session, first)
    assert (event.from_status, event.to_status, event.reason, event.author) == (
        "released", "on_hold", "component lot L71033 on hold: solder voids", "qa")


def test_hold_and_release_refuse_bad_input_changing_nothing(session, make_batch, quality):
    batch, _ = make_batch(quantity=1, inputs=[BOARD])
    lot = _lot(session)
    for reason in ("", "   ", None, "x" * 501):
        with pytest.raises(ValidationError) as refused:
            lots.hold_lot(session, lot, reason=reason, author=quality)
        assert refused.value.details["field"] == "reason"
    with pytest.raises(Conflict, match="is not on hold"):
        lots.release_lot(session, lot, reason="fine", author=quality)
    assert (_status(session, batch), lot.status) == ("released", "released")
    lots.hold_lot(session, lot, reason="voids", author=quality)
    with pytest.raises(Conflict, match="already on hold: voids"):
        lots.hold_lot(session, lot, reason="again", author=quality)
    with pytest.raises(ValidationError) as refused:
        lots.release_lot(session, lot, reason=" ", author=quality)
    assert refused.value.details["field"] == "reason"
    assert (_status(session, batch), lot.status, len(_events(session, batch))) == ("on_hold", "on_hold", 1)


def test_release_frees_only_the_batches_this_lot_held(session, make_batch, quality):
    own, _ = make_batch(quantity=1, inputs=[BOARD])
    mine, _ = make_batch(quantity=1, inputs=[BOARD])
    recalled, _ = make_batch(quantity=1, inputs=[BOARD])
    trace_service.set_batch_status(session, batch=own, status="on_hold", reason="QC sampling")
    trace_service.set_batch_status(session, batch=recalled, status="recalled", reason="field failures")
    lot = _lot(session)
    assert [b.id for b in lots.hold_lot(session, lot, reason="voids", author=quality)] == [mine.id]
    released = lots.release_lot(session, lot, reason="X-ray clean", author=quality)
    assert [b.id for b in released] == [mine.id]
    assert [_status(session, b) for b in (own, mine, recalled)] == ["on_hold", "released", "recalled"]
    assert (lot.status, lot.held_batch_ids) == ("released", [])
    assert _events(session, mine)[-1].reason == "component lot L71033 released: X-ray clean"


def test_a_batch_with_another_held_lot_stays_held_until_that_lot_is_released(session, make_batch, quality):
    both, _ = make_batch(quantity=1, inputs=[BOARD, SENSOR])
    board, sensor = _lot(session), _lot(session, SENSOR)
    lots.hold_lot(session, board, reason="voids", author=quality)
    # Already on hold: the sensor lot's hold adds no event of its own.
    assert lots.hold_lot(session, sensor, reason="drift", author=quality) == []
    with pytest.raises(Conflict, match="contains component lot L71033"):
        trace_service.set_batch_status(session, batch=both, status="released", reason="looks fine")
    assert lots.release_lot(session, board, reason="clean", author=quality) == []
    assert _status(session, both) == "on_hold"
    with pytest.raises(Conflict, match="contains component lot S-5"):
        trace_service.set_batch_status(session, batch=both, status="released", reason="looks fine")
    assert [b.id for b in lots.release_lot(session, sensor, reason="recalibrated", author=quality)] == [both.id]
    assert _status(session, both) == "released"


def test_a_unit_of_a_held_lot_scans_amber_and_gets_no_labels(session, make_batch, quality):
    batch, serials = make_batch(quantity=2, number="2501A00", inputs=[BOARD])
    lots.hold_lot(session, _lot(session), reason="voids", author=quality)
    session.expire_all()
    [unit] = station_queries.resolve(session, text=serials[0])
    facts = station_queries.scan_facts(session, unit.as_dict(), today=date(2025, 6, 1))
    # The banner says why: the lot and its reason, as the batch's hold recorded them.
    assert "batch 2501A00 is on hold: component lot L71033 on hold: voids" in [
        str(r) for r in scan_signal("unit", facts).reasons]
    with pytest.raises(Conflict, match="no labels are made"):
        labelling_queries.label_maker(session, session.get(Batch, batch.id))


def test_a_lot_number_shared_by_suppliers_needs_supplier_or_part(session, make_batch):
    make_batch(quantity=1, inputs=[BOARD, trace_service.LotInput("Other", "Housing", "L71033")])
    with pytest.raises(Conflict, match="several parts or suppliers"):
        lots.find_lot(session, "L71033")
    assert lots.find_lot(session, "L71033", part="Housing").supplier == "Other"
    assert lots.find_lot(session, " L71033 ", supplier="Микрон").part == "MCU board"
    with pytest.raises(NotFound):
        lots.find_lot(session, "L71033", supplier="Nobody")
    assert session.scalar(select(ComponentLot.status).limit(1)) == "released"


def test_the_lot_hold_does_not_bypass_the_batch_table(session, make_batch, quality):
    # A recalled batch is not held again; its final status stays.
    batch, _ = make_batch(quantity=1, inputs=[BOARD])
    trace_service.set_batch_status(session, batch=batch, status="recalled", reason="field failures")
    assert lots.hold_lot(session, _lot(session), reason="voids", author=quality) == []
    with pytest.raises(InvalidTransition):
        trace_service.set_batch_status(session, batch=batch, status="released", reason="x")


def test_a_batch_made_with_a_held_lot_comes_in_held_and_is_released_with_it(session, make_batch, quality):
    make_batch(quantity=1, number="2501A00", inputs=[BOARD])
    lot = _lot(session)
    lots.hold_lot(session, lot, reason="voids", author=quality)
    later, serials = make_batch(quantity=1, number="2501A05", inputs=[BOARD, SENSOR])
    assert _status(session, later) == "on_hold"
    assert [e.reason for e in _events(session, later)] == ["component lot L71033 on hold: voids"]
    assert later.id in _lot(session).held_batch_ids
    [unit] = station_queries.resolve(session, text=serials[0])
    facts = station_queries.scan_facts(session, unit.as_dict(), today=date(2025, 6, 1))
    assert "batch 2501A05 is on hold: component lot L71033 on hold: voids" in [
        str(r) for r in scan_signal("unit", facts).reasons]
    assert later.id in [b.id for b in lots.release_lot(session, _lot(session), reason="X-ray clean", author=quality)]
    assert _status(session, later) == "released"


def test_a_batch_held_twice_or_released_without_a_reason_is_refused_changing_nothing(session, make_batch):
    batch, _ = make_batch(quantity=1, number="2501A00")
    trace_service.set_batch_status(session, batch=batch, status="on_hold", reason="QC sampling")
    with pytest.raises(InvalidTransition, match="from on hold to on hold|from on_hold to on_hold") as twice:
        trace_service.set_batch_status(session, batch=batch, status="on_hold", reason="again")
    assert twice.value.status_code == 409
    with pytest.raises(ValidationError, match="reason must not be empty") as blank:
        trace_service.set_batch_status(session, batch=batch, status="released", reason="  ")
    assert blank.value.status_code == 422 and blank.value.details["field"] == "reason"
    assert _status(session, batch) == "on_hold" and [e.reason for e in _events(session, batch)] == ["QC sampling"]
    facts = station_queries.scan_facts(session, {"kind": "batch", "id": batch.id}, today=date(2025, 6, 1))
    assert [str(r) for r in scan_signal("batch", facts).reasons] == ["batch 2501A00 is on hold: QC sampling"]
