"""The unit dossier: everything known about one unit, as plain JSON-ready dicts.

The reads here run on every scan, so each is one prebuilt Core statement with bound parameters executed on
the session's connection: no per-call statement building and no ORM identity map (about 5x cheaper).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..accounts.enums import Role
from .enums import EventKind, UnitStatus
from .models import Batch, BatchInput, ComponentLot, Customer, Product, Shipment, ShipmentItem, Unit, UnitEvent
from .policy import warranty_status

# Who sees a customer's contact person, phone, email and address: the desk that calls the customer back and the
# people who decide or follow up claims. Production and engineers work on the unit, not with the customer.
CONTACT_ROLES: tuple[str, ...] = (Role.WAREHOUSE, Role.COORDINATOR, Role.SUPERVISOR, Role.QUALITY, Role.ADMIN)
CONTACT_FIELDS = ("contact_name", "email", "phone", "address")
# Events written before status changes named their target, which may have moved the unit somewhere unknown.
_LEGACY_MOVES = frozenset({EventKind.RETURNED, EventKind.STATUS, EventKind.DISPOSED, EventKind.MOVED})


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def product_dict(p: Any) -> dict[str, Any]:
    """JSON shape of a product (an ORM object or a row with the same names)."""
    return {"id": p.id, "sku": p.sku, "gtin": p.gtin, "name": p.name, "family": p.family,
            "warranty_months": p.warranty_months, "warranty_start": p.warranty_start,
            "shelf_life_months": p.shelf_life_months}


def batch_dict(b: Any, *, sku: str | None = None) -> dict[str, Any]:
    """JSON shape of a batch (an ORM object or a row with the same names)."""
    out = {"id": b.id, "number": b.number, "produced_on": _iso(b.produced_on), "line": b.line, "shift": b.shift,
           "quantity": b.quantity, "status": b.status, "notes": b.notes}
    if sku is not None:
        out["product_sku"] = sku
    return out


def unit_dict(u: Any) -> dict[str, Any]:
    """JSON shape of a unit."""
    return {"id": u.id, "serial": u.serial, "status": u.status, "sold_on": _iso(u.sold_on),
            "external_code": u.external_code, "created_at": _iso(u.created_at)}


_P, _B = Product.__table__.c, Batch.__table__.c

_PRODUCT_AND_BATCH = select(
    _P.id, _P.sku, _P.gtin, _P.name, _P.family, _P.warranty_months, _P.warranty_start, _P.shelf_life_months,
    _B.id.label("batch_id"), _B.number, _B.produced_on, _B.line, _B.shift, _B.quantity, _B.status, _B.notes,
).join_from(Batch.__table__, Product.__table__, _B.product_id == _P.id).where(_B.id == bindparam("batch_id"))

_BATCH_INPUTS = (
    select(ComponentLot.supplier, ComponentLot.part, ComponentLot.lot_number, BatchInput.quantity)
    .join(BatchInput, BatchInput.component_lot_id == ComponentLot.id)
    .where(BatchInput.batch_id == bindparam("batch_id")).order_by(ComponentLot.part, ComponentLot.lot_number)
)

_SHIPMENTS = (
    select(Shipment.id, Shipment.shipped_on, Shipment.reference, Shipment.carrier, Shipment.destination,
           Shipment.attributes, Customer.id.label("customer_id"), Customer.name, Customer.tax_id,
           Customer.contact_name, Customer.email, Customer.phone, Customer.address)
    .join(ShipmentItem, ShipmentItem.shipment_id == Shipment.id)
    .join(Customer, Customer.id == Shipment.customer_id)
    .where(ShipmentItem.unit_id == bindparam("unit_id")).order_by(Shipment.shipped_on, Shipment.id)
)

_EVENTS = (
    select(UnitEvent.id, UnitEvent.kind, UnitEvent.at, UnitEvent.author, UnitEvent.payload)
    .where(UnitEvent.unit_id == bindparam("unit_id")).order_by(UnitEvent.at, UnitEvent.id)
)


def batch_inputs(session: Session, batch_id: int) -> list[dict[str, Any]]:
    """Component lots that went into a batch."""
    rows = session.connection().execute(_BATCH_INPUTS, {"batch_id": batch_id})
    return [{"supplier": r.supplier, "part": r.part, "lot": r.lot_number, "quantity": r.quantity} for r in rows]


def unit_shipments(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Shipments of a unit, oldest first, with the customer."""
    rows = session.connection().execute(_SHIPMENTS, {"unit_id": unit_id})
    return [{"id": r.id, "shipped_on": _iso(r.shipped_on), "reference": r.reference, "carrier": r.carrier,
             "destination": r.destination, "attributes": r.attributes,
             "customer": {"id": r.customer_id, "name": r.name, "tax_id": r.tax_id, "contact_name": r.contact_name,
                          "email": r.email, "phone": r.phone, "address": r.address}} for r in rows]


def unit_events(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """The unit's history, oldest first, each status change with the status it left and the one it reached."""
    rows = session.connection().execute(_EVENTS, {"unit_id": unit_id})
    return with_status_changes([{"id": r.id, "kind": r.kind, "at": _iso(r.at), "author": r.author,
                                 "payload": r.payload} for r in rows])


def with_status_changes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`events` (oldest first) with `from_status` and `to_status` on the ones that moved the unit, else None."""
    current: str | None = UnitStatus.IN_STOCK.value  # every unit is registered in stock
    for event in events:
        payload = event["payload"] or {}
        to = payload.get("to_status") or (UnitStatus.SHIPPED.value if event["kind"] == EventKind.SHIPPED else None)
        event["from_status"], event["to_status"] = (current, to) if to else (None, None)
        if to:
            current = to
        elif event["kind"] in _LEGACY_MOVES:
            current = None
    return events


def may_see_contacts(user: Any) -> bool:
    """True when `user` (a User, or None) may see customers' contact details."""
    return user is not None and user.has_role(*CONTACT_ROLES)


def without_contacts(dossier: dict[str, Any]) -> dict[str, Any]:
    """The dossier with every customer's contact details left out (name and tax id stay)."""
    def strip(customer: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if customer is None else {k: v for k, v in customer.items() if k not in CONTACT_FIELDS}

    shipments = [{**s, "customer": strip(s["customer"])} for s in dossier["shipments"]]
    return {**dossier, "shipments": shipments, "customer": strip(dossier["customer"]), "contacts_hidden": True}


def trace_dossier(session: Session, unit: Unit, *, today: date | None = None, grace_days: int = 0) -> dict[str, Any]:
    """Unit, product, batch with inputs, shipments with customer, warranty status and events."""
    row = session.connection().execute(_PRODUCT_AND_BATCH, {"batch_id": unit.batch_id}).one()
    batch = batch_dict(row)
    batch["id"] = row.batch_id
    shipments = unit_shipments(session, unit.id)
    first_ship = date.fromisoformat(shipments[0]["shipped_on"]) if shipments else None
    warranty = warranty_status(months=row.warranty_months, start_rule=row.warranty_start,
                               shipped_on=first_ship, sold_on=unit.sold_on, today=today or date.today(),
                               grace_days=grace_days)
    return {
        "unit": unit_dict(unit),
        "product": product_dict(row),
        "batch": {**batch, "inputs": batch_inputs(session, row.batch_id)},
        "shipments": shipments,
        "customer": shipments[-1]["customer"] if shipments else None,
        "warranty": warranty.as_dict(),
        "events": unit_events(session, unit.id),
    }
