"""Tables of the trace domain: products, batches, genealogy, units, customers, shipments, unit and batch events."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, Numeric, String, UniqueConstraint, event, text
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from ..columns import JsonType, utcnow
from .enums import BatchStatus, UnitStatus, WarrantyStart


def search_key(value: str) -> str:
    """The upper-cased form of a serial or code that case-insensitive prefix searches compare (one character
    for one, so the key fits the column: a character whose capital is two, such as ß, stays as it is)."""
    key = value.upper()
    if len(key) != len(value):
        key = "".join(c.upper() if len(c.upper()) == 1 else c for c in value)
    return key


def _key_type(length: int):
    # Byte order ("C" collation) on PostgreSQL whatever the database's locale, so a prefix is one contiguous
    # range of the index; SQLite's default BINARY collation already is byte order.
    return String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


class Product(SQLModel, table=True):
    """A product model; GTIN optional for companies without GS1 numbers."""

    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(sa_type=String(64), unique=True, index=True)
    gtin: str | None = Field(default=None, sa_type=String(14), unique=True, index=True)
    name: str = Field(sa_type=String(200))
    family: str = Field(default="", sa_type=String(100))
    warranty_months: int = Field(default=24)
    warranty_start: str = Field(default=WarrantyStart.SHIPMENT, sa_type=String(16))
    # Months from production to the expiry date (17) its labels carry; None: the product does not expire.
    shelf_life_months: int | None = Field(default=None)
    test_procedure: str = Field(default="")
    # What a unit costs the customer: the amount a billed claim charges (not covered, no fault found, never returned).
    price: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    # A replacement's warranty: "continue" the returned unit's, or "restart" from the replacement's shipment.
    replacement_warranty: str = Field(default="continue", sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow)


class ProductSubstitute(SQLModel, table=True):
    """A product the desk may hand out in place of another (a successor model, a compatible variant)."""

    __tablename__ = "product_substitute"

    product_id: int = Field(foreign_key="product.id", primary_key=True)
    substitute_id: int = Field(foreign_key="product.id", primary_key=True)


class Batch(SQLModel, table=True):
    """A production lot of one product; the batch number is unique per product."""

    __tablename__ = "batch"
    __table_args__ = (
        UniqueConstraint("product_id", "number", name="uq_batch_product_number"),
        CheckConstraint("quantity >= 0", name="ck_batch_quantity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    number: str = Field(sa_type=String(20), index=True)
    produced_on: date
    line: str = Field(default="", sa_type=String(50))
    shift: str = Field(default="", sa_type=String(20))
    quantity: int = 0
    status: str = Field(default=BatchStatus.RELEASED, sa_type=String(16))
    notes: str = ""
    serial_scheme: str = Field(default="", sa_type=String(32))
    created_at: datetime = Field(default_factory=utcnow)


class ComponentLot(SQLModel, table=True):
    """A supplier's lot of a purchased part (boards, sensors, housings)."""

    __tablename__ = "component_lot"
    __table_args__ = (UniqueConstraint("supplier", "part", "lot_number", name="uq_component_lot"),)

    id: int | None = Field(default=None, primary_key=True)
    supplier: str = Field(sa_type=String(200))
    part: str = Field(sa_type=String(100))
    lot_number: str = Field(sa_type=String(64), index=True)
    received_on: date | None = None
    # released or on_hold (BatchStatus values): a held lot holds every batch it went into.
    status: str = Field(default=BatchStatus.RELEASED, sa_type=String(16))
    hold_reason: str = Field(default="", sa_type=String(500))
    held_at: datetime | None = None
    held_by: str = Field(default="", sa_type=String(100))
    # Ids of the batches this lot's hold put on hold: its release releases those (and no batch held otherwise).
    held_batch_ids: list[int] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))


class BatchInput(SQLModel, table=True):
    """Genealogy edge: a component lot went into a batch."""

    __tablename__ = "batch_input"
    __table_args__ = (UniqueConstraint("batch_id", "component_lot_id", name="uq_batch_input"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    component_lot_id: int = Field(foreign_key="component_lot.id", index=True)
    quantity: int | None = None


class Unit(SQLModel, table=True):
    """One serialised device; the serial is a string and is never reused within a product."""

    __tablename__ = "unit"
    # Serial first: the one unique index also serves lookups by serial alone (a second index on serial
    # halved bulk insert speed, both being keyed by random serials).
    __table_args__ = (
        UniqueConstraint("serial", "product_id", name="uq_unit_serial_product"),
        Index("ix_unit_serial_key", "serial_key"),
        # Few units carry an external code: the index holds only those.
        Index("ix_unit_external_key", "external_key", sqlite_where=text("external_key IS NOT NULL"),
              postgresql_where=text("external_key IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    batch_id: int = Field(foreign_key="batch.id", index=True)
    serial: str = Field(sa_type=String(64))
    status: str = Field(default=UnitStatus.IN_STOCK, sa_type=String(16))
    # Registered date of sale to the end customer, when the product's warranty starts at sale.
    sold_on: date | None = None
    # A barcode that is not ours (a customer's asset tag) assigned to this unit.
    external_code: str | None = Field(default=None, sa_type=String(128), index=True)
    # search_key() of serial and external_code, kept by the ORM events below and by the bulk insert of
    # register_batch: the unit search is an index range scan on these instead of upper() over every row.
    # Nullable only because SQLite cannot add a NOT NULL column to a filled table without copying it.
    serial_key: str | None = Field(default=None, sa_type=_key_type(64))
    external_key: str | None = Field(default=None, sa_type=_key_type(128))
    created_at: datetime = Field(default_factory=utcnow)


class UnitInstall(SQLModel, table=True):
    """Genealogy edge between units: a serialised part installed inside another unit."""

    __tablename__ = "unit_install"

    id: int | None = Field(default=None, primary_key=True)
    parent_unit_id: int = Field(foreign_key="unit.id", index=True)
    child_unit_id: int = Field(foreign_key="unit.id", index=True)
    installed_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None


class Customer(SQLModel, table=True):
    """A customer receiving shipments; tax_id (INN) identifies it in ERP exports."""

    __tablename__ = "customer"
    # Without a tax id the name is the identity (get_or_create_customer looks it up by name): two stations
    # shipping to a new customer at once must end with one row, so the database keeps it unique.
    __table_args__ = (
        Index("uq_customer_name_without_tax_id", "name", unique=True, sqlite_where=text("tax_id IS NULL"),
              postgresql_where=text("tax_id IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), index=True)
    tax_id: str | None = Field(default=None, sa_type=String(20), unique=True)
    contact_name: str = Field(default="", sa_type=String(200))
    email: str = Field(default="", sa_type=String(200))
    phone: str = Field(default="", sa_type=String(50))
    address: str = ""
    # The staff member who looks after this customer: registering their complaints asks for a confirmation.
    account_manager_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Shipment(SQLModel, table=True):
    """Goods leaving to a customer on a date; attributes hold free facts such as weather or route."""

    __tablename__ = "shipment"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    shipped_on: date = Field(index=True)
    reference: str = Field(default="", sa_type=String(64), index=True)
    carrier: str = Field(default="", sa_type=String(100))
    destination: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ShipmentItem(SQLModel, table=True):
    """A line of a shipment: one unit, or a batch and a quantity for goods that are not serialised."""

    __tablename__ = "shipment_item"
    __table_args__ = (
        CheckConstraint("unit_id IS NOT NULL OR batch_id IS NOT NULL", name="ck_shipment_item_target"),
        CheckConstraint("quantity > 0", name="ck_shipment_item_quantity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    quantity: int = 1


class UnitEvent(SQLModel, table=True):
    """Append-only history of a unit; corrections are new events, never edits."""

    __tablename__ = "unit_event"
    __table_args__ = (Index("ix_unit_event_unit_at", "unit_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    kind: str = Field(sa_type=String(16))
    at: datetime = Field(default_factory=utcnow)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author: str = Field(default="", sa_type=String(100))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))


class BatchEvent(SQLModel, table=True):
    """Append-only history of a batch (hold, release, recall with their reason); one row per change, not per unit."""

    __tablename__ = "batch_event"
    __table_args__ = (Index("ix_batch_event_batch_at", "batch_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id")
    kind: str = Field(sa_type=String(16))
    from_status: str | None = Field(default=None, sa_type=String(16))
    to_status: str | None = Field(default=None, sa_type=String(16))
    reason: str = Field(default="", sa_type=String(500))
    at: datetime = Field(default_factory=utcnow)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author: str = Field(default="", sa_type=String(100))


class SerialCounter(SQLModel, table=True):
    """Next free counter value per serial scheme key; allocation bumps it in one UPDATE."""

    __tablename__ = "serial_counter"

    name: str = Field(sa_type=String(100), primary_key=True)
    next_value: int = 0


@event.listens_for(Unit, "before_insert")
@event.listens_for(Unit, "before_update")
def _keep_search_keys(_mapper, _connection, target: Unit) -> None:
    target.serial_key = search_key(target.serial) if target.serial is not None else None
    target.external_key = search_key(target.external_code) if target.external_code else None


@event.listens_for(UnitEvent, "before_update")
@event.listens_for(UnitEvent, "before_delete")
@event.listens_for(BatchEvent, "before_update")
@event.listens_for(BatchEvent, "before_delete")
def _refuse_event_change(_mapper, _connection, target):  # pragma: no cover - exercised in tests
    raise RuntimeError(f"{target.__tablename__} rows are append-only; record a correcting event instead")
