"""Writes of the trace domain: products, batches with serials, shipments, unit events. Services flush; callers commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Iterable, Protocol, Sequence

from sqlalchemy import DateTime, Integer, Select, String, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import integrity_to_conflict
from ..errors import Conflict, NotFound, ValidationError
from ..columns import JsonType, utcnow
from ..serials import SerialScheme
from . import queries
from .enums import BatchStatus, EventKind, UnitStatus, WarrantyStart
from .models import (Batch, BatchInput, ComponentLot, Customer, Product, SerialCounter, Shipment,
                     ShipmentItem, Unit, UnitEvent, search_key)
from .policy import ensure_business_date, ensure_code, ensure_sku, normalise_gtin

# Rows per executemany round trip when inserting units; large enough to amortise, small enough for memory.
_CHUNK = 50_000
# Unit ids per locking statement, so a shipment of thousands of serials keeps its IN lists small.
_LOCK_CHUNK = 1_000
# Most units one registration creates on SQLite, whose single write lock it holds until commit: 1,000,000 units
# hold it about 6 s on a database of 5M (bench/README.md), well inside the 30 s other writers wait for it.
SQLITE_MAX_UNITS = 1_000_000


class Author(Protocol):
    id: int | None
    username: str


@dataclass(frozen=True)
class LotInput:
    """A component lot named by supplier, part and lot number, to link into a batch."""

    supplier: str
    part: str
    lot_number: str
    quantity: int | None = None


def author_fields(author: Author | None) -> dict[str, Any]:
    """The author columns of an event row: user id and a readable name ("system" for batch jobs)."""
    return {"author_id": getattr(author, "id", None), "author": getattr(author, "username", "") or "system"}


def ensure_text(value: Any, *, field: str, column: Any, required: bool = False, what: str | None = None) -> str:
    """Free text for `column`: a string within the column's length, so every caller (CLI, import, API) gets the
    same clear error naming the field, instead of a database error on PostgreSQL only."""
    what = what or field
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text", details={"field": field})
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{what} must not be empty", details={"field": field})
    limit = getattr(column.type, "length", None)
    if limit is not None and len(value) > limit:
        raise ValidationError(f"{what} has at most {limit} characters, not {len(value)}", details={"field": field})
    if "\x00" in value:
        raise ValidationError(f"{what} must not contain NUL characters", details={"field": field})
    return value


def add_product(session: Session, *, sku: str, name: str, gtin: str | None = None, warranty_months: int = 24,
                family: str = "", warranty_start: str = WarrantyStart.SHIPMENT, test_procedure: str = "") -> Product:
    """Register a product model. Flushes; the caller commits."""
    sku = ensure_sku(sku)
    name = ensure_text(name, field="name", column=Product.__table__.c.name, required=True, what="product name")
    family = ensure_text(family, field="family", column=Product.__table__.c.family)
    if not 0 <= int(warranty_months) <= 240:
        raise ValidationError("warranty months must be between 0 and 240", details={"field": "warranty_months"})
    if warranty_start not in {w.value for w in WarrantyStart}:
        raise ValidationError(f"warranty start must be 'shipment' or 'sale', not {warranty_start!r}")
    gtin = normalise_gtin(gtin)
    if queries.find_product(session, sku) is not None:
        raise Conflict(f"product {sku!r} already exists", details={"field": "sku"})
    if gtin and queries.find_product(session, gtin) is not None:
        raise Conflict(f"GTIN {gtin} already belongs to another product", details={"field": "gtin"})
    product = Product(sku=sku, name=name, gtin=gtin, warranty_months=int(warranty_months), family=family,
                      warranty_start=warranty_start, test_procedure=test_procedure)
    session.add(product)
    _flush(session, f"product {sku!r} already exists")
    return product


def allocate_counter(session: Session, *, key: str, count: int) -> int:
    """Reserve `count` consecutive counter values under `key` atomically; returns the first one."""
    if count <= 0:
        raise ValidationError("count must be positive")
    table = SerialCounter.__table__
    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))
    session.execute(stmt.values(name=key, next_value=0).on_conflict_do_nothing(index_elements=["name"]))
    # One UPDATE ... RETURNING both locks the row and bumps it, so concurrent writers queue here.
    new_next = session.execute(
        update(table).where(table.c.name == key).values(next_value=table.c.next_value + count)
        .returning(table.c.next_value)
    ).scalar_one()
    return new_next - count


def next_batch_number(session: Session, *, produced_on: date) -> str:
    """An automatic batch number such as B261127-01, unique per production day."""
    stem = produced_on.strftime("B%y%m%d")
    seq = allocate_counter(session, key=f"batch:{stem}", count=1) + 1
    return f"{stem}-{seq:02d}"


def register_batch(session: Session, *, product: str | Product, quantity: int, scheme: SerialScheme,
                   number: str | None = None, produced_on: date | None = None, line: str = "", shift: str = "",
                   notes: str = "", inputs: Sequence[LotInput] = (), author: Author | None = None,
                   progress: Callable[[int], None] | None = None, today: date | None = None) -> tuple[Batch, list[str]]:
    """Create a batch, allocate its serials and create its units in one transaction. Flushes; the caller commits.

    `today` is the business day (config.business_today) that bounds the production date; the server's by default.
    """
    prod = product if isinstance(product, Product) else queries.get_product(session, product)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= 10_000_000:
        raise ValidationError("quantity must be a whole number from 0 to 10,000,000", details={"field": "quantity"})
    if quantity > SQLITE_MAX_UNITS and session.get_bind().dialect.name == "sqlite":
        raise ValidationError(
            f"quantity {quantity:,} is more than one registration may create on SQLite ({SQLITE_MAX_UNITS:,}): "
            f"every other write waits while it runs; register batches of at most {SQLITE_MAX_UNITS:,} units, "
            "or use PostgreSQL", details={"field": "quantity"})
    today = today or date.today()
    produced_on = ensure_business_date("produced_on", produced_on or today, today=today,
                                       empty="today's date is used")
    if number is None:
        number = next_batch_number(session, produced_on=produced_on)
    number = ensure_code(number, what="batch number")
    line = ensure_text(line, field="line", column=Batch.__table__.c.line)
    shift = ensure_text(shift, field="shift", column=Batch.__table__.c.shift)
    if queries.find_batch(session, number, product_id=prod.id) is not None:
        raise Conflict(f"batch {number!r} of {prod.sku} already exists", details={"field": "number"})

    batch = Batch(product_id=prod.id, number=number, produced_on=produced_on, line=line, shift=shift,
                  quantity=quantity, notes=notes, serial_scheme=scheme.name)
    session.add(batch)
    _flush(session, f"batch {number!r} of {prod.sku} already exists")
    for lot in inputs:
        link_component_lot(session, batch=batch, lot=lot)

    serials: list[str] = []
    if quantity:
        start = allocate_counter(session, key=scheme.counter_key(produced_on), count=quantity)
        # Inserting in serial order keeps the unique serial index appending at its right edge instead of
        # splitting random pages (about twice as fast on big batches); ids then follow serial order.
        serials = sorted(scheme.format(start, quantity, produced_on))
        _insert_units(session, batch=batch, product=prod, serials=serials, author=author, progress=progress)
    return batch, serials


def _insert_units(session: Session, *, batch: Batch, product: Product, serials: list[str],
                  author: Author | None, progress: Callable[[int], None] | None) -> None:
    """Bulk insert units with executemany, then their `produced` events with one INSERT ... SELECT."""
    now = utcnow()
    # Batches registered after the fact (ERP import, demo) date their "produced" events on the production
    # day, so the history never shows a unit shipped before it was made.
    produced_at = now if batch.produced_on >= now.date() else datetime.combine(batch.produced_on, time(0), timezone.utc)
    conn = session.connection()
    unit_table, event_table = Unit.__table__, UnitEvent.__table__
    who = author_fields(author)
    payload = {"batch": batch.number, "line": batch.line, "produced_on": batch.produced_on.isoformat()}
    # One set-based INSERT per chunk, the serials passed as a single array parameter (json_each on SQLite,
    # unnest on PostgreSQL): three times faster than executemany, whose per-row binding dominated.
    to_db = unit_table.c.created_at.type.bind_processor(conn.dialect)
    created = to_db(now) if to_db else now
    sqlite = conn.dialect.name == "sqlite"
    if isinstance(created, datetime) and sqlite:
        # The text SQLAlchemy stores for a UTC datetime on SQLite.
        created = created.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    columns = f"INSERT INTO {unit_table.name} (product_id, batch_id, serial, serial_key, status, created_at) "
    # Serials that are their own search key (digits and capitals: every built-in scheme) are sent once.
    if sqlite:
        same_sql = columns + "SELECT ?, ?, value, value, ?, ? FROM json_each(?) ORDER BY key"
        pair_sql = (columns + "SELECT ?, ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, ?"
                              " FROM json_each(?) ORDER BY key")
    else:
        same_sql = columns + ("SELECT %s, %s, s, s, %s, %s FROM unnest(%s::varchar[]) WITH ORDINALITY AS t(s, n)"
                              " ORDER BY n")
        pair_sql = columns + ("SELECT %s, %s, s, k, %s, %s FROM unnest(%s::varchar[], %s::varchar[])"
                              " WITH ORDINALITY AS t(s, k, n) ORDER BY n")
    product_id, batch_id, status = product.id, batch.id, UnitStatus.IN_STOCK.value
    try:
        for offset in range(0, len(serials), _CHUNK):
            chunk = serials[offset:offset + _CHUNK]
            joined = "\n".join(chunk)
            if joined.upper() == joined:
                sql, data = same_sql, ((json.dumps(chunk),) if sqlite else (chunk,))
            else:
                keys = [search_key(s) for s in chunk]
                sql, data = pair_sql, ((json.dumps(list(zip(chunk, keys))),) if sqlite else (chunk, keys))
            conn.exec_driver_sql(sql, (product_id, batch_id, status, created, *data))
            if progress:
                progress(len(chunk))
    except IntegrityError as exc:
        raise integrity_to_conflict(exc, "a serial of this batch already exists; nothing was registered") from exc
    conn.execute(insert(event_table).from_select(
        ["unit_id", "kind", "at", "author_id", "author", "payload"],
        select(unit_table.c.id, literal(EventKind.PRODUCED.value, String), literal(produced_at, DateTime),
               literal(who["author_id"], Integer), literal(who["author"], String), literal(payload, JsonType))
        .where(unit_table.c.batch_id == batch.id),
    ))


def link_component_lot(session: Session, *, batch: Batch, lot: LotInput) -> ComponentLot:
    """Record that a component lot went into a batch (creating the lot record on first sight)."""
    supplier, part, lot_number = lot.supplier.strip(), lot.part.strip(), lot.lot_number.strip()
    if not (supplier and part and lot_number):
        raise ValidationError("a component lot needs supplier, part and lot number")
    find = select(ComponentLot).where(
        ComponentLot.supplier == supplier, ComponentLot.part == part, ComponentLot.lot_number == lot_number)
    row = _get_or_insert(session, find, lambda: ComponentLot(supplier=supplier, part=part, lot_number=lot_number))
    session.add(BatchInput(batch_id=batch.id, component_lot_id=row.id, quantity=lot.quantity))
    _flush(session, f"lot {lot_number} is already linked to batch {batch.number}")
    return row


def get_or_create_customer(session: Session, *, name: str, tax_id: str | None = None, **contact: str) -> Customer:
    """The customer with this tax id (or exact name when no tax id), created when new."""
    name = ensure_text(name, field="customer", column=Customer.__table__.c.name, required=True, what="customer name")
    contact = {k: ensure_text(v, field=k, column=Customer.__table__.c[k]) for k, v in contact.items()}
    if tax_id is not None and not isinstance(tax_id, str):
        raise ValidationError(f"tax id must be a string of digits, not {tax_id!r}", details={"field": "tax_id"})
    name = name.strip()
    tax_id = (tax_id or "").strip() or None
    if tax_id is not None and not (tax_id.isdigit() and len(tax_id) in (10, 12)):
        raise ValidationError(f"tax id {tax_id!r} must be 10 or 12 digits", details={"field": "tax_id"})
    cond = Customer.tax_id == tax_id if tax_id else (Customer.name == name) & Customer.tax_id.is_(None)
    return _get_or_insert(session, select(Customer).where(cond),
                          lambda: Customer(name=name, tax_id=tax_id, **{k: v for k, v in contact.items() if v}))


def _get_or_insert(session: Session, find: Select, make: Callable[[], Any]) -> Any:
    """The row `find` selects, inserted from `make()` when missing; a writer inserting it first wins the race.

    The insert runs in a savepoint so losing the race to the UNIQUE constraint leaves the transaction usable,
    and the other writer's row is read instead.
    """
    row = session.scalars(find).first()
    if row is not None:
        return row
    row = make()
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Rolling back the savepoint expunged `row`; the session carries on with the other writer's row.
        existing = session.scalars(find).first()
        if existing is None:
            raise
        return existing
    return row


@dataclass(frozen=True)
class BatchLine:
    """A shipment line by batch and quantity (from an ERP document)."""

    batch: str
    quantity: int
    sku: str | None = None


def create_shipment(session: Session, *, customer: Customer, shipped_on: date, serials: Iterable[str] = (),
                    batch_lines: Iterable[BatchLine] = (), reference: str = "", carrier: str = "",
                    destination: str = "", attributes: dict[str, Any] | None = None,
                    author: Author | None = None, today: date | None = None) -> Shipment:
    """Ship units by serial and/or by batch and quantity to a customer. Flushes; the caller commits.

    `today` is the business day (config.business_today) that bounds the shipment date; the server's by default.
    """
    shipped_on = ensure_business_date("shipped_on", shipped_on, today=today or date.today(),
                                      empty="today's date is used")
    serials = [s.strip() for s in serials if s and s.strip()]
    batch_lines = list(batch_lines)
    if not serials and not batch_lines:
        raise ValidationError("a shipment needs at least one serial or batch line")
    if len(set(serials)) != len(serials):
        raise ValidationError("the same serial appears twice in the shipment")
    shipment = Shipment(customer_id=customer.id, shipped_on=shipped_on,
                        reference=ensure_text(reference, field="reference", column=Shipment.__table__.c.reference),
                        carrier=ensure_text(carrier, field="carrier", column=Shipment.__table__.c.carrier),
                        destination=ensure_text(destination, field="destination",
                                                column=Shipment.__table__.c.destination),
                        attributes=attributes or {})
    session.add(shipment)
    session.flush()
    units = [queries.get_unit(session, s) for s in serials]
    # Every lock this action waits for is taken in one order (named units by id, then unserialised batches by
    # id), so two shipments naming the same units in different orders queue instead of deadlocking.
    lock_units(session, [u.id for u in units])
    unserialised: list[tuple[Batch, int]] = []
    for line in batch_lines:
        if line.quantity <= 0:
            raise ValidationError(f"quantity for batch {line.batch} must be positive, not {line.quantity}")
        batch = queries.get_batch(session, line.batch, sku=line.sku)
        serialised = session.scalar(select(Unit.id).where(Unit.batch_id == batch.id).limit(1)) is not None
        if not serialised:
            unserialised.append((batch, line.quantity))
            continue
        # SKIP LOCKED: a second station shipping from the same batch takes the next free units instead of
        # waiting for, then losing, the same ones (PostgreSQL; SQLite serialises writers anyway). It never
        # waits, so it cannot take part in a deadlock. NO KEY UPDATE, as the UPDATE itself: scans and events
        # referring to the unit (KEY SHARE) do not wait for it.
        picked = session.scalars(
            select(Unit).where(Unit.batch_id == batch.id, Unit.status == UnitStatus.IN_STOCK.value)
            .order_by(Unit.id).limit(line.quantity).with_for_update(skip_locked=True, key_share=True)).all()
        if len(picked) < line.quantity:
            raise Conflict(f"batch {batch.number} has {len(picked)} units in stock, {line.quantity} asked")
        units.extend(picked)
    for batch, quantity in sorted(unserialised, key=lambda item: item[0].id):
        _ship_unserialised(session, shipment=shipment, batch=batch, quantity=quantity)
    for unit in units:
        ship_unit(session, unit=unit, shipment=shipment, author=author)
    return shipment


def lock_units(session: Session, unit_ids: Iterable[int]) -> None:
    """Row-lock these units in ascending id order, the one order every writer of several units uses.

    FOR NO KEY UPDATE is the lock an UPDATE of the status takes anyway; taking it up front, sorted, is what
    keeps two writers from each holding a unit the other waits for. SQLite's BEGIN IMMEDIATE already
    serialises writers, so there it is skipped.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    ids = sorted(set(unit_ids))
    for start in range(0, len(ids), _LOCK_CHUNK):
        session.execute(select(Unit.id).where(Unit.id.in_(ids[start:start + _LOCK_CHUNK])).order_by(Unit.id)
                        .with_for_update(key_share=True)).all()


def _ship_unserialised(session: Session, *, shipment: Shipment, batch: Batch, quantity: int) -> None:
    # The batch row lock queues concurrent shippers of this batch on PostgreSQL, so the sum below cannot go
    # stale before the insert; on SQLite BEGIN IMMEDIATE already serialises writers and FOR UPDATE is a no-op.
    # NO KEY UPDATE: a scan logged against the batch (KEY SHARE) does not wait for the shipment.
    session.execute(select(Batch.id).where(Batch.id == batch.id).with_for_update(key_share=True))
    already = session.scalar(select(func.coalesce(func.sum(ShipmentItem.quantity), 0))
                             .where(ShipmentItem.batch_id == batch.id, ShipmentItem.unit_id.is_(None)))
    if batch.quantity and already + quantity > batch.quantity:
        raise Conflict(f"batch {batch.number} holds {batch.quantity}; {already} shipped, {quantity} more asked")
    session.add(ShipmentItem(shipment_id=shipment.id, batch_id=batch.id, quantity=quantity))
    session.flush()


def ship_unit(session: Session, *, unit: Unit, shipment: Shipment, author: Author | None = None) -> None:
    """Mark one in-stock unit shipped; a unit already shipped by someone else is a conflict."""
    batch_status = session.scalar(select(Batch.status).where(Batch.id == unit.batch_id))
    if batch_status != BatchStatus.RELEASED:
        raise Conflict(f"unit {unit.serial} is in batch on status {batch_status}; it cannot be shipped")
    # Conditional UPDATE: of two stations shipping the same unit at once, exactly one matches a row.
    changed = session.execute(
        update(Unit).where(Unit.id == unit.id, Unit.status.in_([UnitStatus.IN_STOCK.value, UnitStatus.REFURBISHED.value,
                                                                  UnitStatus.SWAP_POOL.value]))
        .values(status=UnitStatus.SHIPPED.value).execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        # Read the status again: another station may have changed it since this session loaded the unit.
        status = session.scalar(select(Unit.status).where(Unit.id == unit.id))
        raise Conflict(f"unit {unit.serial} is {status}, not in stock; it cannot be shipped",
                       details={"serial": unit.serial, "status": status})
    unit.status = UnitStatus.SHIPPED.value
    session.add(ShipmentItem(shipment_id=shipment.id, unit_id=unit.id, batch_id=unit.batch_id, quantity=1))
    record_event(session, unit=unit, kind=EventKind.SHIPPED, author=author,
                 payload={"shipment_id": shipment.id, "reference": shipment.reference,
                          "shipped_on": shipment.shipped_on.isoformat(), "customer_id": shipment.customer_id})


def record_event(session: Session, *, unit: Unit, kind: EventKind | str, author: Author | None = None,
                 payload: dict[str, Any] | None = None) -> UnitEvent:
    """Append an event to a unit's history."""
    if kind not in {k.value for k in EventKind}:
        raise ValidationError(f"unknown event kind {kind!r}")
    event = UnitEvent(unit_id=unit.id, kind=str(kind), payload=json.loads(json.dumps(payload or {}, default=str)),
                      **author_fields(author))
    session.add(event)
    session.flush()
    return event


def set_batch_status(session: Session, *, batch: Batch, status: BatchStatus | str, author: Author | None = None,
                     reason: str = "") -> Batch:
    """Put a batch on hold, release or recall it."""
    if status not in {s.value for s in BatchStatus}:
        raise ValidationError(f"unknown batch status {status!r}")
    batch.status = str(status)
    note = f"{batch.notes}\n" if batch.notes else ""
    batch.notes = f"{note}{utcnow():%Y-%m-%d %H:%M} {getattr(author, 'username', 'system')}: {status} {reason}".strip()
    session.flush()
    return batch


def _flush(session: Session, conflict_message: str) -> None:
    """Flush and turn a uniqueness failure into a Conflict with a readable message."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise integrity_to_conflict(exc, conflict_message) from exc
