"""Batch registration and serial allocation against the real database."""

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict, NotFound, ValidationError
from serialtrace.trace import queries, service
from serialtrace.trace.models import Batch, Unit, UnitEvent


def test_register_batch_creates_units_with_distinct_serials(session, make_batch):
    batch, serials = make_batch(quantity=50, number="2501A00")
    assert batch.number == "2501A00"
    assert len(set(serials)) == 50
    assert all(isinstance(s, str) and len(s) == 11 for s in serials)
    count = session.scalar(select(func.count()).select_from(Unit).where(Unit.batch_id == batch.id))
    assert count == 50


def test_every_new_unit_has_a_produced_event(session, make_batch):
    batch, serials = make_batch(quantity=3, line="Line 1")
    unit = queries.get_unit(session, serials[1])
    kinds = session.scalars(select(UnitEvent.kind).where(UnitEvent.unit_id == unit.id)).all()
    assert kinds == ["produced"]


def test_two_batches_never_share_a_serial(session, make_batch):
    _, first = make_batch(quantity=200)
    _, second = make_batch(quantity=200)
    assert not set(first) & set(second)


def test_duplicate_batch_number_is_a_conflict(session, make_batch):
    make_batch(quantity=1, number="B1")
    with pytest.raises(Conflict, match="already exists"):
        make_batch(quantity=1, number="B1")


def test_batch_number_outside_gs1_set_is_rejected(make_batch):
    with pytest.raises(ValidationError, match="batch number"):
        make_batch(quantity=1, number="Серия 1")


def test_unknown_product_is_not_found(session, scheme):
    with pytest.raises(NotFound, match="no product"):
        service.register_batch(session, product="NOPE", quantity=1, scheme=scheme)


def test_negative_quantity_is_rejected(make_batch):
    with pytest.raises(ValidationError, match="quantity"):
        make_batch(quantity=-1)


def test_failed_registration_leaves_no_partial_batch(sessions, product, scheme):
    """A serial clash in the middle of a batch rolls the whole batch back."""

    class ClashingScheme:
        name = "clash"

        def counter_key(self, today):
            return "serial:clash"

        def format(self, start, count, today):
            return ["DUP"] * count

    s = sessions()
    with pytest.raises(Conflict):
        try:
            service.register_batch(s, product=product.sku, quantity=3, number="BROKEN", scheme=ClashingScheme())
            s.commit()
        except Exception:
            s.rollback()
            raise
    s2 = sessions()
    assert s2.scalar(select(func.count()).select_from(Batch).where(Batch.number == "BROKEN")) == 0
    assert s2.scalar(select(func.count()).select_from(Unit).where(Unit.serial == "DUP")) == 0


def test_automatic_batch_numbers_count_up_per_day(session, make_batch):
    a, _ = make_batch(quantity=0, produced_on=date(2026, 3, 2))
    b, _ = make_batch(quantity=0, produced_on=date(2026, 3, 2))
    assert (a.number, b.number) == ("B260302-01", "B260302-02")


def test_component_lots_are_linked_to_the_batch(session, make_batch):
    batch, _ = make_batch(quantity=1, inputs=[service.LotInput("Shenzhen PCB", "board", "L71033")])
    from serialtrace.trace.dossier import batch_inputs

    assert batch_inputs(session, batch.id) == [
        {"supplier": "Shenzhen PCB", "part": "board", "lot": "L71033", "quantity": None}]


def test_unit_events_cannot_be_edited(session, make_batch):
    _, serials = make_batch(quantity=1)
    unit = queries.get_unit(session, serials[0])
    event = session.scalars(select(UnitEvent).where(UnitEvent.unit_id == unit.id)).first()
    event.kind = "note"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()


def test_bulk_inserted_units_read_back_like_orm_rows(session, make_batch):
    _, serials = make_batch(quantity=2)
    unit = queries.get_unit(session, serials[0])
    session.expire(unit)
    assert unit.created_at.tzinfo is not None
    assert abs((unit.created_at - batch_created(session, unit)).total_seconds()) < 60


def batch_created(session, unit):
    return session.get(Batch, unit.batch_id).created_at


def _batch_tables(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Batch, Unit, UnitEvent))


@pytest.mark.parametrize("produced_on, message", [
    (date(9999, 12, 31), "production date 9999-12-31 (produced_on) is an ERP placeholder for 'no date', not a real "
                         "date: send the real production date, or leave it empty (today's date is used)"),
    (date(1989, 12, 31), "production date 1989-12-31 (produced_on) is outside the accepted range 1990-01-01 to "
                         "2027-12-02 (one year after today)"),
    (date(2027, 12, 3), "production date 2027-12-03 (produced_on) is outside the accepted range 1990-01-01 to "
                        "2027-12-02 (one year after today)"),
])
def test_production_date_outside_the_business_range_registers_nothing(session, product, scheme, produced_on,
                                                                        message):
    before = _batch_tables(session)
    with pytest.raises(ValidationError) as refused:
        service.register_batch(session, product=product, quantity=3, number="B-FAR", produced_on=produced_on,
                               scheme=scheme, today=date(2026, 12, 2))
    assert refused.value.message == message and refused.value.details["field"] == "produced_on"
    assert _batch_tables(session) == before
    assert queries.find_batch(session, "B-FAR") is None


def test_production_date_one_year_ahead_is_accepted(session, product, scheme):
    batch, _ = service.register_batch(session, product=product, quantity=1, produced_on=date(2027, 12, 2),
                                      scheme=scheme, today=date(2026, 12, 2))
    assert batch.produced_on == date(2027, 12, 2)
