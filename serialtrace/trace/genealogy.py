"""Batch genealogy backward (what went in) and forward (where it went), and recall lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..i18n import _l
from .csvexport import DELIMITERS, csv_chunks
from .dossier import batch_dict, batch_inputs
from .enums import UnitStatus
from .models import Batch, BatchInput, ComponentLot, Customer, Product, Shipment, ShipmentItem, Unit, UnitInstall

RECALL_COLUMNS = ["customer", "tax_id", "contact_name", "email", "phone", "address", "serial", "status",
                  "back_in_house", "product_sku", "batch", "quantity", "shipped_on", "shipment_reference", "carrier"]
# One row per customer: how many units (and pieces of goods without serials) it holds, and their serials.
RECALL_CUSTOMER_COLUMNS = ["customer", "tax_id", "contact_name", "email", "phone", "address", "units",
                           "back_in_house", "serials"]
# Columns whose digits are a code, not a number: a spreadsheet must keep their leading zeros and every digit.
RECALL_CODE_COLUMNS = frozenset({"tax_id", "phone", "serial", "batch", "shipment_reference", "serials"})
# A shipped unit whose status is any other has come back to us (returned, in test, refurbished, scrapped, in the
# swap pool): a recall need not call the customer about it.
OUT_THERE = UnitStatus.SHIPPED.value
RECALL_GROUPS = ("customer",)


@dataclass(frozen=True)
class RecallOptions:
    """How a recall list is cut and written: units back in the house left out, one row per customer, the CSV
    delimiter and Excel's text columns."""

    exclude_returned: bool = False
    group: str | None = None
    delimiter: str = ","
    excel: bool = False


def recall_options(*, exclude_returned: bool = False, group: str | None = None, delimiter: str | None = None,
                   excel: bool = False) -> RecallOptions:
    """Checked recall options: `group` empty or "customer", `delimiter` comma or semicolon (by name or as the
    character); anything else a ValidationError naming the field."""
    if group and group not in RECALL_GROUPS:
        raise ValidationError(_l("group %(value)r is not known; use group=customer or leave it out", value=group),
                              details={"field": "group"})
    sep = DELIMITERS.get(delimiter or "comma", delimiter or ",")
    if sep not in DELIMITERS.values():
        raise ValidationError(_l("delimiter %(value)r is not known; use comma or semicolon", value=delimiter),
                              details={"field": "delimiter"})
    return RecallOptions(exclude_returned=exclude_returned, group=group or None, delimiter=sep, excel=excel)


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


def recall_rows(session: Session, *, batch_ids: list[int], exclude_returned: bool = False) -> Iterator[dict[str, Any]]:
    """Every shipped unit or batch line of the given batches, with customer contacts and the unit's status, by
    customer then date; `exclude_returned` leaves out units already back in the house."""
    stmt = (
        select(Customer.name, Customer.tax_id, Customer.contact_name, Customer.email, Customer.phone,
               Customer.address, Unit.serial, Unit.status, Product.sku, Batch.number, ShipmentItem.quantity,
               Shipment.shipped_on, Shipment.reference, Shipment.carrier)
        .select_from(ShipmentItem)
        .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
        .join(Customer, Customer.id == Shipment.customer_id)
        .join(Batch, Batch.id == ShipmentItem.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .outerjoin(Unit, Unit.id == ShipmentItem.unit_id)
        .where(ShipmentItem.batch_id.in_(batch_ids))
        # The customer's id after its name: two customers of one name (different tax ids) never interleave.
        .order_by(Customer.name, Customer.id, Shipment.shipped_on, Unit.serial)
    )
    if exclude_returned:
        # Lines of goods without serials (no unit) cannot be told apart once back, so they always stay.
        stmt = stmt.where(or_(Unit.id.is_(None), Unit.status == OUT_THERE))
    for r in session.execute(stmt).yield_per(5000):
        yield {"customer": r.name, "tax_id": r.tax_id, "contact_name": r.contact_name, "email": r.email,
               "phone": r.phone, "address": r.address, "serial": r.serial, "status": r.status,
               "back_in_house": r.status is not None and r.status != OUT_THERE, "product_sku": r.sku,
               "batch": r.number, "quantity": r.quantity, "shipped_on": r.shipped_on.isoformat(),
               "shipment_reference": r.reference, "carrier": r.carrier}


def recall_by_customer(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Recall rows (as recall_rows orders them) folded into one row per customer: contacts, how many units it
    was shipped, how many of those are back in the house, and their serials in order."""
    current: dict[str, Any] | None = None
    for row in rows:
        key = (row["customer"], row["tax_id"])
        if current is None or current["key"] != key:
            if current is not None:
                yield _customer_row(current)
            current = {"key": key, "first": row, "units": 0, "back": 0, "serials": []}
        current["units"] += row["quantity"]
        current["back"] += row["quantity"] if row["back_in_house"] else 0
        if row["serial"] is not None:
            current["serials"].append(row["serial"])
    if current is not None:
        yield _customer_row(current)


def _customer_row(group: dict[str, Any]) -> dict[str, Any]:
    first = group["first"]
    return {**{k: first[k] for k in ("customer", "tax_id", "contact_name", "email", "phone", "address")},
            "units": group["units"], "back_in_house": group["back"], "serials": group["serials"]}


def shipped_units(session: Session, *, batch_ids: list[int]) -> dict[int, int]:
    """Unit id -> the customer of its last shipment, for the units of the batches still out with customers (the
    units a recall calls back; those already back in the house are left out, as exclude_returned does)."""
    rows = session.execute(
        select(ShipmentItem.unit_id, Shipment.customer_id)
        .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
        .join(Unit, Unit.id == ShipmentItem.unit_id)
        .where(Unit.batch_id.in_(batch_ids), Unit.status == OUT_THERE)
        # Oldest first: a unit shipped again (a refurbished one) ends with its latest customer.
        .order_by(Shipment.shipped_on, Shipment.id))
    return {unit_id: customer_id for unit_id, customer_id in rows}


def lot_batch_ids(session: Session, lot: ComponentLot) -> list[int]:
    """Ids of the batches a component lot went into."""
    return list(session.scalars(select(BatchInput.batch_id).where(BatchInput.component_lot_id == lot.id)))


def recall_list(session: Session, *, batch_ids: list[int], options: RecallOptions) -> Iterator[dict[str, Any]]:
    """The recall rows of the batches as `options` cut them: per unit or batch line, or one per customer."""
    rows = recall_rows(session, batch_ids=batch_ids, exclude_returned=options.exclude_returned)
    return recall_by_customer(rows) if options.group == "customer" else rows


def recall_file(session: Session, *, batch_ids: list[int], options: RecallOptions, bom: bool = True) -> Iterator[str]:
    """The recall list of the batches as CSV text chunks, as `options` cut and write it."""
    return recall_csv(recall_list(session, batch_ids=batch_ids, options=options), group=options.group,
                      delimiter=options.delimiter, excel=options.excel, bom=bom)


def recall_csv(rows: Iterable[dict[str, Any]], *, group: str | None = None, delimiter: str = ",",
               excel: bool = False, bom: bool = True) -> Iterator[str]:
    """Recall rows (or, with group="customer", rows from recall_by_customer) as CSV text chunks, header first,
    cells safe for spreadsheets, streamed; files start with the byte order mark that tells Excel the text is
    UTF-8 (`bom`), and `excel` keeps codes made of digits (serials, tax ids) as text there (csvexport.csv_chunks)."""
    columns = RECALL_CUSTOMER_COLUMNS if group == "customer" else RECALL_COLUMNS
    if group == "customer":
        rows = ({**r, "serials": " ".join(r["serials"])} for r in rows)
    return csv_chunks(rows, columns, delimiter=delimiter, bom=bom,
                      code_columns=RECALL_CODE_COLUMNS if excel else frozenset())
