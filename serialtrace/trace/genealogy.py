"""Batch genealogy backward (what went in) and forward (where it went), and recall lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .csvexport import csv_chunks
from .dossier import batch_dict, batch_inputs
from .models import Batch, BatchInput, ComponentLot, Customer, Product, Shipment, ShipmentItem, Unit, UnitInstall

RECALL_COLUMNS = ["customer", "tax_id", "contact_name", "email", "phone", "serial", "product_sku", "batch",
                  "quantity", "shipped_on", "shipment_reference", "carrier"]


def backward(session: Session, batch: Batch) -> dict[str, Any]:
    """What went into a batch: component lots, and serialised parts installed into its units."""
    installs = session.execute(
        select(Unit.serial.label("parent"), func.count(UnitInstall.id).label("n"))
        .join(UnitInstall, UnitInstall.parent_unit_id == Unit.id)
        .where(Unit.batch_id == batch.id).group_by(Unit.serial).limit(1000)
    ).all()
    return {"batch": batch_dict(batch), "inputs": batch_inputs(session, batch.id),
            "installed_parts": [{"unit": r.parent, "parts": r.n} for r in installs]}


def forward(session: Session, batch: Batch) -> dict[str, Any]:
    """Where a batch went: units by status, and per customer the units and quantities shipped."""
    by_status = dict(session.execute(
        select(Unit.status, func.count()).where(Unit.batch_id == batch.id).group_by(Unit.status)).all())
    customers = session.execute(
        select(Customer.id, Customer.name, func.sum(ShipmentItem.quantity).label("quantity"),
               func.min(Shipment.shipped_on).label("first"), func.max(Shipment.shipped_on).label("last"))
        .join(Shipment, Shipment.customer_id == Customer.id)
        .join(ShipmentItem, ShipmentItem.shipment_id == Shipment.id)
        .where(ShipmentItem.batch_id == batch.id)
        .group_by(Customer.id, Customer.name).order_by(func.sum(ShipmentItem.quantity).desc(), Customer.name)
    ).all()
    return {"batch": batch_dict(batch), "units_by_status": by_status,
            "customers": [{"id": r.id, "name": r.name, "quantity": int(r.quantity),
                           "first_shipped": r.first.isoformat(), "last_shipped": r.last.isoformat()}
                          for r in customers]}


def lot_forward(session: Session, lot: ComponentLot) -> dict[str, Any]:
    """Batches a component lot went into, with their products and how many units of each were shipped."""
    rows = session.execute(
        select(Batch, Product.sku).join(BatchInput, BatchInput.batch_id == Batch.id)
        .join(Product, Product.id == Batch.product_id)
        .where(BatchInput.component_lot_id == lot.id).order_by(Batch.produced_on, Batch.number)
    ).all()
    shipped = dict(session.execute(
        select(ShipmentItem.batch_id, func.sum(ShipmentItem.quantity))
        .where(ShipmentItem.batch_id.in_([b.id for b, _ in rows]))
        .group_by(ShipmentItem.batch_id)).all()) if rows else {}
    return {"lot": {"supplier": lot.supplier, "part": lot.part, "lot": lot.lot_number},
            "batches": [{**batch_dict(b, sku=sku), "shipped": int(shipped.get(b.id, 0))} for b, sku in rows]}


def recall_rows(session: Session, *, batch_ids: list[int]) -> Iterator[dict[str, Any]]:
    """Every shipped unit or batch line of the given batches, with customer contacts, by customer then date."""
    stmt = (
        select(Customer.name, Customer.tax_id, Customer.contact_name, Customer.email, Customer.phone,
               Unit.serial, Product.sku, Batch.number, ShipmentItem.quantity, Shipment.shipped_on,
               Shipment.reference, Shipment.carrier)
        .select_from(ShipmentItem)
        .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
        .join(Customer, Customer.id == Shipment.customer_id)
        .join(Batch, Batch.id == ShipmentItem.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .outerjoin(Unit, Unit.id == ShipmentItem.unit_id)
        .where(ShipmentItem.batch_id.in_(batch_ids))
        .order_by(Customer.name, Shipment.shipped_on, Unit.serial)
    )
    for r in session.execute(stmt).yield_per(5000):
        yield dict(zip(RECALL_COLUMNS, [r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                                        r[9].isoformat(), r[10], r[11]], strict=True))


def lot_batch_ids(session: Session, lot: ComponentLot) -> list[int]:
    """Ids of the batches a component lot went into."""
    return list(session.scalars(select(BatchInput.batch_id).where(BatchInput.component_lot_id == lot.id)))


def recall_csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """Recall rows as CSV text chunks, header first, cells safe for spreadsheets (streams for large recalls)."""
    return csv_chunks(rows, RECALL_COLUMNS)
