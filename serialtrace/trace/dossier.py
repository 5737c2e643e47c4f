"""The unit dossier: everything known about one unit, as plain JSON-ready dicts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Batch, BatchInput, ComponentLot, Customer, Product, Shipment, ShipmentItem, Unit, UnitEvent
from .policy import warranty_status


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def product_dict(p: Product) -> dict[str, Any]:
    """JSON shape of a product."""
    return {"id": p.id, "sku": p.sku, "gtin": p.gtin, "name": p.name, "family": p.family,
            "warranty_months": p.warranty_months, "warranty_start": p.warranty_start}


def batch_dict(b: Batch, *, sku: str | None = None) -> dict[str, Any]:
    """JSON shape of a batch."""
    out = {"id": b.id, "number": b.number, "produced_on": _iso(b.produced_on), "line": b.line, "shift": b.shift,
           "quantity": b.quantity, "status": b.status, "notes": b.notes}
    if sku is not None:
        out["product_sku"] = sku
    return out


def unit_dict(u: Unit) -> dict[str, Any]:
    """JSON shape of a unit."""
    return {"id": u.id, "serial": u.serial, "status": u.status, "sold_on": _iso(u.sold_on),
            "external_code": u.external_code, "created_at": _iso(u.created_at)}


def batch_inputs(session: Session, batch_id: int) -> list[dict[str, Any]]:
    """Component lots that went into a batch."""
    rows = session.execute(
        select(ComponentLot.supplier, ComponentLot.part, ComponentLot.lot_number, BatchInput.quantity)
        .join(BatchInput, BatchInput.component_lot_id == ComponentLot.id)
        .where(BatchInput.batch_id == batch_id).order_by(ComponentLot.part, ComponentLot.lot_number)
    ).all()
    return [{"supplier": r.supplier, "part": r.part, "lot": r.lot_number, "quantity": r.quantity} for r in rows]


def unit_shipments(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """Shipments of a unit, oldest first, with the customer."""
    rows = session.execute(
        select(Shipment.id, Shipment.shipped_on, Shipment.reference, Shipment.carrier, Shipment.destination,
               Shipment.attributes, Customer.id.label("customer_id"), Customer.name, Customer.tax_id,
               Customer.contact_name, Customer.email, Customer.phone)
        .join(ShipmentItem, ShipmentItem.shipment_id == Shipment.id)
        .join(Customer, Customer.id == Shipment.customer_id)
        .where(ShipmentItem.unit_id == unit_id).order_by(Shipment.shipped_on, Shipment.id)
    ).all()
    return [{"id": r.id, "shipped_on": _iso(r.shipped_on), "reference": r.reference, "carrier": r.carrier,
             "destination": r.destination, "attributes": r.attributes,
             "customer": {"id": r.customer_id, "name": r.name, "tax_id": r.tax_id, "contact_name": r.contact_name,
                          "email": r.email, "phone": r.phone}} for r in rows]


def unit_events(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """The unit's history, oldest first."""
    rows = session.execute(
        select(UnitEvent.id, UnitEvent.kind, UnitEvent.at, UnitEvent.author, UnitEvent.payload)
        .where(UnitEvent.unit_id == unit_id).order_by(UnitEvent.at, UnitEvent.id)
    ).all()
    return [{"id": r.id, "kind": r.kind, "at": _iso(r.at), "author": r.author, "payload": r.payload} for r in rows]


def trace_dossier(session: Session, unit: Unit, *, today: date | None = None, grace_days: int = 0) -> dict[str, Any]:
    """Unit, product, batch with inputs, shipments with customer, warranty status and events."""
    row = session.execute(select(Product, Batch).join(Batch, Batch.product_id == Product.id)
                          .where(Batch.id == unit.batch_id)).one()
    product, batch = row
    shipments = unit_shipments(session, unit.id)
    first_ship = date.fromisoformat(shipments[0]["shipped_on"]) if shipments else None
    warranty = warranty_status(months=product.warranty_months, start_rule=product.warranty_start,
                               shipped_on=first_ship, sold_on=unit.sold_on, today=today or date.today(),
                               grace_days=grace_days)
    return {
        "unit": unit_dict(unit),
        "product": product_dict(product),
        "batch": {**batch_dict(batch), "inputs": batch_inputs(session, batch.id)},
        "shipments": shipments,
        "customer": shipments[-1]["customer"] if shipments else None,
        "warranty": warranty.as_dict(),
        "events": unit_events(session, unit.id),
    }
