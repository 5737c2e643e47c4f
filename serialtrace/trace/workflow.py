"""State machines of the trace domain as data: unit and batch status transitions, and what may be shipped. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from ..errors import Conflict, InvalidTransition, ValidationError
from ..i18n import _l, coded
from .enums import BATCH_STATUS_LABELS, UNIT_STATUS_LABELS, BatchStatus, UnitStatus

U = UnitStatus

UNIT_TRANSITIONS: dict[UnitStatus, frozenset[UnitStatus]] = {
    # Sold, designated for advance replacements, pulled for a quality test, or damaged in the warehouse.
    U.IN_STOCK: frozenset({U.SHIPPED, U.SWAP_POOL, U.IN_TEST, U.SCRAPPED}),
    U.SHIPPED: frozenset({U.RETURNED}),
    U.RETURNED: frozenset({U.IN_TEST, U.SCRAPPED}),
    # The dispositions: restock as refurbished, repair into the swap pool, scrap, back to the returns shelf (not
    # covered, waiting to go back as it is), back to its customer from the bench (repaired, or as it is), or to
    # the supplier.
    U.IN_TEST: frozenset({U.REFURBISHED, U.SWAP_POOL, U.SCRAPPED, U.RETURNED, U.SHIPPED, U.SENT_TO_SUPPLIER}),
    U.REFURBISHED: frozenset({U.SHIPPED, U.SWAP_POOL, U.IN_TEST, U.SCRAPPED}),
    U.SWAP_POOL: frozenset({U.SHIPPED, U.IN_TEST, U.SCRAPPED}),
    U.SCRAPPED: frozenset(),
    # A unit the supplier sends back goes onto the test bench again.
    U.SENT_TO_SUPPLIER: frozenset({U.IN_TEST}),
}

BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.RELEASED: frozenset({BatchStatus.ON_HOLD, BatchStatus.RECALLED}),
    BatchStatus.ON_HOLD: frozenset({BatchStatus.RELEASED, BatchStatus.RECALLED}),
    # A recall is final: the units already out are being called back.
    BatchStatus.RECALLED: frozenset(),
}

# Shippable: the unit's batch is released and the unit is in the warehouse in a sound state, so the table lets it
# move to shipped. Every shipping path checks this one rule (by serial, batch lines, range shipments, ERP import).
SHIPPABLE: frozenset[UnitStatus] = frozenset({U.IN_STOCK, U.REFURBISHED, U.SWAP_POOL})
# A quantity of a batch (a batch line, a unit range, an ERP row) draws on the shippable units that are new stock:
# refurbished and swap-pool units leave only when named by serial, so an order for new goods never takes them and
# an ERP document never empties the swap pool the warranty desk hands replacements out of.
BATCH_STOCK: frozenset[UnitStatus] = frozenset({U.IN_STOCK})
# A customer's own unit goes back to them from the test bench (a disposition: repaired, or as it is); only to that
# customer, so it is not stock: no other shipment may take it (create_shipment(returning=True) checks this rule).
RETURNABLE: frozenset[UnitStatus] = frozenset({U.IN_TEST})


def unit_status(value: str) -> UnitStatus:
    """`value` as a UnitStatus; an unknown status is a ValidationError naming it."""
    try:
        return UnitStatus(value)
    except ValueError:
        raise ValidationError(_l("unknown unit status %(value)r; use one of %(allowed)s", value=value,
                                 allowed=coded(list(UnitStatus), UNIT_STATUS_LABELS)),
                              details={"field": "status"}) from None


def batch_status(value: str) -> BatchStatus:
    """`value` as a BatchStatus; an unknown status is a ValidationError naming it."""
    try:
        return BatchStatus(value)
    except ValueError:
        raise ValidationError(_l("unknown batch status %(value)r; use one of %(allowed)s", value=value,
                                 allowed=coded(list(BatchStatus), BATCH_STATUS_LABELS)),
                              details={"field": "status"}) from None


def unit_sources(target: UnitStatus) -> frozenset[UnitStatus]:
    """The unit statuses the table lets move to `target`."""
    return frozenset(s for s, targets in UNIT_TRANSITIONS.items() if target in targets)


def _refusal(current: StrEnum, target: StrEnum, table: Mapping, labels: Mapping) -> dict[str, Any]:
    """The message parameters of a refused move: both states and what the table allows from `current`."""
    targets = sorted(table[current])
    return {"current": coded(current, labels), "target": coded(target, labels),
            "allowed": coded(targets, labels) if targets else _l("none: it is final")}


def ensure_unit_transition(current: str, target: str, *, serial: str = "") -> None:
    """Raise InvalidTransition unless the unit table allows `current` -> `target`."""
    state, wanted = unit_status(current), unit_status(target)
    if wanted not in UNIT_TRANSITIONS[state]:
        params = {"serial": serial, **_refusal(state, wanted, UNIT_TRANSITIONS, UNIT_STATUS_LABELS)}
        message = (_l("cannot move unit %(serial)s from %(current)s to %(target)s (allowed from %(current)s: "
                      "%(allowed)s)", **params) if serial else
                   _l("cannot move a unit from %(current)s to %(target)s (allowed from %(current)s: %(allowed)s)",
                      **params))
        raise InvalidTransition(message,
                                details={"serial": serial or None, "status": str(current), "to": str(target)})


def ensure_batch_transition(current: str, target: str, *, number: str = "") -> None:
    """Raise InvalidTransition unless the batch table allows `current` -> `target`."""
    state, wanted = batch_status(current), batch_status(target)
    if wanted not in BATCH_TRANSITIONS[state]:
        params = {"number": number, **_refusal(state, wanted, BATCH_TRANSITIONS, BATCH_STATUS_LABELS)}
        message = (_l("cannot move batch %(number)s from %(current)s to %(target)s (allowed from %(current)s: "
                      "%(allowed)s)", **params) if number else
                   _l("cannot move a batch from %(current)s to %(target)s (allowed from %(current)s: %(allowed)s)",
                      **params))
        raise InvalidTransition(message,
                                details={"batch": number or None, "status": str(current), "to": str(target)})


def is_shippable(unit_status: str, batch_status: str | None) -> bool:
    """True when a unit in `unit_status` of a batch in `batch_status` may be shipped."""
    return batch_status == BatchStatus.RELEASED and unit_status in SHIPPABLE


def ensure_batch_shippable(number: str, status: str | None) -> None:
    """Raise Conflict unless a batch in `status` may ship units: only a released batch may."""
    if status != BatchStatus.RELEASED:
        raise Conflict(_l("batch %(number)s is %(status)s; it cannot be shipped", number=number,
                          status=coded(status, BATCH_STATUS_LABELS) if status else _l("missing")),
                       details={"batch": number, "status": status})


def ensure_batch_labellable(number: str, status: str | None) -> None:
    """Raise Conflict unless labels may be made for a batch in `status`: a held or recalled batch gets none."""
    if status != BatchStatus.RELEASED:
        raise Conflict(_l("batch %(number)s is %(status)s; no labels are made for it", number=number,
                          status=coded(status, BATCH_STATUS_LABELS) if status else _l("missing")),
                       details={"batch": number, "status": status})


def ensure_returnable(serial: str, unit_status: str, batch_status: str | None) -> None:
    """Raise Conflict unless a customer's own unit may go back to them: on the test bench, of a released batch."""
    if batch_status != BatchStatus.RELEASED:
        ensure_shippable(serial, unit_status, batch_status)
    if unit_status not in RETURNABLE:
        raise Conflict(_l("unit %(serial)s is %(unit_status)s, not on the test bench; it cannot go back to its "
                          "customer", serial=serial, unit_status=coded(unit_status, UNIT_STATUS_LABELS)),
                       details={"serial": serial, "status": unit_status})


def ensure_shippable(serial: str, unit_status: str, batch_status: str | None) -> None:
    """Raise Conflict unless the unit is shippable, naming whichever of batch and unit status forbids it."""
    if is_shippable(unit_status, batch_status):
        return
    if batch_status != BatchStatus.RELEASED:
        raise Conflict(_l("unit %(serial)s is in batch on status %(batch_status)s; it cannot be shipped",
                          serial=serial, batch_status=coded(str(batch_status), BATCH_STATUS_LABELS)),
                       details={"serial": serial, "batch_status": batch_status})
    raise Conflict(_l("unit %(serial)s is %(unit_status)s, not in stock; it cannot be shipped", serial=serial,
                      unit_status=coded(unit_status, UNIT_STATUS_LABELS)),
                   details={"serial": serial, "status": unit_status})
