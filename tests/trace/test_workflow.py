"""The unit and batch state machines and the shipping rule, as data, without a database."""

import pytest

from serialtrace.errors import Conflict, InvalidTransition, ValidationError
from serialtrace.trace import workflow
from serialtrace.trace.enums import BatchStatus, UnitStatus
from serialtrace.trace.workflow import (
    BATCH_STOCK,
    BATCH_TRANSITIONS,
    RETURNABLE,
    SHIPPABLE,
    UNIT_TRANSITIONS,
    ensure_batch_shippable,
    ensure_batch_transition,
    ensure_returnable,
    ensure_shippable,
    ensure_unit_transition,
    is_shippable,
    unit_sources,
)

U, B = UnitStatus, BatchStatus


def test_every_status_has_a_row_and_targets_are_statuses():
    assert set(UNIT_TRANSITIONS) == set(UnitStatus)
    assert set(BATCH_TRANSITIONS) == set(BatchStatus)
    assert all(targets <= set(UnitStatus) and status not in targets for status, targets in UNIT_TRANSITIONS.items())
    assert all(targets <= set(BatchStatus) and status not in targets for status, targets in BATCH_TRANSITIONS.items())


@pytest.mark.parametrize(("current", "target"), [
    (U.IN_STOCK, U.SHIPPED), (U.SHIPPED, U.RETURNED), (U.RETURNED, U.IN_TEST), (U.IN_TEST, U.REFURBISHED),
    (U.IN_TEST, U.SCRAPPED), (U.IN_TEST, U.SWAP_POOL), (U.REFURBISHED, U.SHIPPED), (U.SWAP_POOL, U.SHIPPED),
])
def test_allowed_unit_moves_pass(current, target):
    ensure_unit_transition(current, target, serial="SN1")


@pytest.mark.parametrize(("current", "target", "message"), [
    (U.SHIPPED, U.SHIPPED, "cannot move unit SN1 from shipped to shipped (allowed from shipped: returned)"),
    (U.SHIPPED, U.IN_STOCK, "cannot move unit SN1 from shipped to in_stock (allowed from shipped: returned)"),
    (U.RETURNED, U.SHIPPED, "cannot move unit SN1 from returned to shipped (allowed from returned: in_test, scrapped)"),
    (U.SCRAPPED, U.IN_STOCK,
     "cannot move unit SN1 from scrapped to in_stock (allowed from scrapped: none: it is final)"),
])
def test_refused_unit_moves_name_the_unit_both_statuses_and_what_is_allowed(current, target, message):
    with pytest.raises(InvalidTransition) as exc:
        ensure_unit_transition(current, target, serial="SN1")
    assert str(exc.value) == message
    assert exc.value.status_code == 409 and exc.value.code == "invalid_transition"
    assert exc.value.details == {"serial": "SN1", "status": str(current), "to": str(target)}


def test_unknown_statuses_are_validation_errors_naming_them():
    with pytest.raises(ValidationError, match=r"^unknown unit status 'lost'; use one of in_stock, shipped"):
        ensure_unit_transition("in_stock", "lost")
    with pytest.raises(ValidationError, match=r"^unknown batch status 'paused'; use one of released, on_hold"):
        ensure_batch_transition("released", "paused")


def test_batch_hold_release_and_recall():
    ensure_batch_transition(B.RELEASED, B.ON_HOLD)
    ensure_batch_transition(B.ON_HOLD, B.RELEASED)
    ensure_batch_transition(B.ON_HOLD, B.RECALLED)
    with pytest.raises(InvalidTransition, match=r"^cannot move batch B1 from on_hold to on_hold \(allowed from "
                                                r"on_hold: recalled, released\)$"):
        ensure_batch_transition(B.ON_HOLD, B.ON_HOLD, number="B1")
    with pytest.raises(InvalidTransition, match=r"^cannot move batch B1 from recalled to released \(allowed from "
                                                r"recalled: none: it is final\)$"):
        ensure_batch_transition(B.RECALLED, B.RELEASED, number="B1")


def test_shippable_is_what_the_table_lets_move_to_shipped_and_a_batch_draws_on_new_stock():
    assert SHIPPABLE == {U.IN_STOCK, U.REFURBISHED, U.SWAP_POOL}
    # The table also lets a customer's own unit go back to them from the test bench; that is not stock.
    assert unit_sources(U.SHIPPED) == SHIPPABLE | RETURNABLE and RETURNABLE == {U.IN_TEST}
    assert BATCH_STOCK == {U.IN_STOCK} and BATCH_STOCK <= SHIPPABLE


def test_a_customers_own_unit_goes_back_only_from_the_bench_of_a_released_batch():
    ensure_returnable("SN1", U.IN_TEST, B.RELEASED)
    with pytest.raises(Conflict, match=r"^unit SN1 is returned, not on the test bench; it cannot go back to its "
                                       r"customer$"):
        ensure_returnable("SN1", U.RETURNED, B.RELEASED)
    with pytest.raises(Conflict, match=r"^unit SN1 is in batch on status recalled"):
        ensure_returnable("SN1", U.IN_TEST, B.RECALLED)
    # Stock is not returnable and the bench is not stock.
    assert not is_shippable(U.IN_TEST, B.RELEASED)


@pytest.mark.parametrize("unit", list(UnitStatus))
@pytest.mark.parametrize("batch", [*BatchStatus, None])
def test_a_unit_is_shippable_only_from_a_released_batch_and_a_shippable_status(unit, batch):
    expected = batch == B.RELEASED and unit in (U.IN_STOCK, U.REFURBISHED, U.SWAP_POOL)
    assert is_shippable(unit, batch) is expected
    if expected:
        ensure_shippable("SN1", unit, batch)
    else:
        with pytest.raises(Conflict, match="^unit SN1 is .*; it cannot be shipped$"):
            ensure_shippable("SN1", unit, batch)


def test_shipping_refusals_name_the_reason():
    with pytest.raises(Conflict, match=r"^unit SN1 is in batch on status on_hold; it cannot be shipped$"):
        ensure_shippable("SN1", U.IN_STOCK, B.ON_HOLD)
    with pytest.raises(Conflict, match=r"^unit SN1 is returned, not in stock; it cannot be shipped$"):
        ensure_shippable("SN1", U.RETURNED, B.RELEASED)
    with pytest.raises(Conflict, match=r"^batch B1 is recalled; it cannot be shipped$") as exc:
        ensure_batch_shippable("B1", B.RECALLED)
    assert exc.value.code == "conflict"
    ensure_batch_shippable("B1", B.RELEASED)


def test_the_module_is_pure():
    source = workflow.__file__
    with open(source, encoding="utf-8") as handle:
        text = handle.read()
    assert "sqlalchemy" not in text and "sqlmodel" not in text
