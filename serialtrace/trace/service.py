"""Writes of the trace domain: products, batches, shipments, unit events, unit and batch status; flush only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, Select, and_, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..columns import JsonType, utcnow
from ..db import integrity_to_conflict
from ..errors import Conflict, Contention, NotFound, ValidationError
from ..i18n import _l
from ..serials import SerialScheme
from . import queries, workflow
from .enums import BatchStatus, EventKind, ReplacementWarranty, UnitStatus, WarrantyStart
from .models import (
    Batch,
    BatchEvent,
    BatchInput,
    ComponentLot,
    Customer,
    Product,
    ProductSubstitute,
    SerialCounter,
    Shipment,
    ShipmentItem,
    Unit,
    UnitEvent,
    search_key,
)
from .policy import (
    MAX_BATCH_QUANTITY,
    ensure_business_date,
    ensure_code,
    ensure_shelf_life_months,
    ensure_sku,
    normalise_gtin,
)

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
        raise ValidationError(_l("%(what)s must be text", what=what), details={"field": field})
    value = value.strip()
    if required and not value:
        raise ValidationError(_l("%(what)s must not be empty", what=what), details={"field": field})
    limit = getattr(column.type, "length", None)
    if limit is not None and len(value) > limit:
        raise ValidationError(_l("%(what)s has at most %(limit)s characters, not %(count)s", what=what, limit=limit,
                                 count=len(value)), details={"field": field})
    if "\x00" in value:
        raise ValidationError(_l("%(what)s must not contain NUL characters", what=what), details={"field": field})
    return value


def add_product(session: Session, *, sku: str, name: str, gtin: str | None = None, warranty_months: int = 24,
                family: str = "", warranty_start: str = WarrantyStart.SHIPMENT, test_procedure: str = "",
                shelf_life_months: int | None = None) -> Product:
    """Register a product model; with a shelf life its labels carry the expiry date (17). Flushes; the caller
    commits."""
    sku = ensure_sku(sku)
    name = ensure_text(name, field="name", column=Product.__table__.c.name, required=True, what="product name")
    family = ensure_text(family, field="family", column=Product.__table__.c.family)
    if not 0 <= int(warranty_months) <= 240:
        raise ValidationError(_l("warranty months must be between 0 and 240"), details={"field": "warranty_months"})
    if warranty_start not in {w.value for w in WarrantyStart}:
        raise ValidationError(_l("warranty start must be 'shipment' or 'sale', not %(warranty_start)r",
                                 warranty_start=warranty_start))
    shelf_life_months = ensure_shelf_life_months(shelf_life_months)
    gtin = normalise_gtin(gtin)
    if queries.find_product(session, sku) is not None:
        raise Conflict(_l("product %(sku)r already exists", sku=sku), details={"field": "sku"})
    if gtin and queries.find_product(session, gtin) is not None:
        raise Conflict(_l("GTIN %(gtin)s already belongs to another product", gtin=gtin), details={"field": "gtin"})
    product = Product(sku=sku, name=name, gtin=gtin, warranty_months=int(warranty_months), family=family,
                      warranty_start=warranty_start, test_procedure=test_procedure,
                      shelf_life_months=shelf_life_months)
    session.add(product)
    _flush(session, f"product {sku!r} already exists")
    return product


def update_product(session: Session, product: Product, *, name: str, warranty_months: int, family: str = "",
                   gtin: str | None = None) -> dict[str, tuple[Any, Any]]:
    """Change a product's name, warranty months, family and GTIN under add_product's rules; returns what changed as
    field -> (before, after). Flushes; the caller commits."""
    table = Product.__table__.c
    name = ensure_text(name, field="name", column=table.name, required=True, what="product name")
    family = ensure_text(family, field="family", column=table.family)
    if isinstance(warranty_months, bool) or not isinstance(warranty_months, int) or not 0 <= warranty_months <= 240:
        raise ValidationError(_l("warranty months must be between 0 and 240"), details={"field": "warranty_months"})
    gtin = normalise_gtin(gtin)
    if gtin and gtin != product.gtin:
        owner = queries.find_product(session, gtin)
        if owner is not None and owner.id != product.id:
            raise Conflict("GTIN %(gtin)s already belongs to another product", gtin=gtin, details={"field": "gtin"})
    changed = {}
    for field_name, value in (("name", name), ("warranty_months", warranty_months), ("family", family),
                              ("gtin", gtin)):
        if getattr(product, field_name) != value:
            changed[field_name] = (getattr(product, field_name), value)
            setattr(product, field_name, value)
    _flush(session, f"GTIN {gtin} already belongs to another product")
    return changed


def set_product_shelf_life(session: Session, product: Product, *, months: int | None) -> tuple[int | None, int | None]:
    """Set a product's shelf life in months, or clear it with None; labels made from then on carry the expiry date
    (17) it gives. Returns (before, after). Flushes; the caller commits."""
    months = ensure_shelf_life_months(months)
    before = product.shelf_life_months
    product.shelf_life_months = months
    session.flush()
    return before, months


def set_replacement_warranty(session: Session, product: Product, *, rule: str) -> tuple[str, str]:
    """Say whether a replacement handed out for a unit of `product` continues the returned unit's warranty or
    restarts it at the replacement's shipment. Returns (before, after). Flushes; the caller commits."""
    if rule not in {r.value for r in ReplacementWarranty}:
        raise ValidationError(_l("the replacement warranty must be 'continue' or 'restart', not %(rule)r", rule=rule),
                              details={"field": "replacement_warranty"})
    before = product.replacement_warranty
    product.replacement_warranty = rule
    session.flush()
    return before, rule


def add_substitute(session: Session, *, product: Product, substitute: Product) -> bool:
    """Let the desk hand out `substitute` in place of `product` (a successor model, a compatible variant); False
    when it already may. Flushes; the caller commits."""
    if substitute.id == product.id:
        raise ValidationError(_l("product %(sku)s cannot be its own substitute; any unit of it may replace another",
                                 sku=product.sku), details={"field": "substitute"})
    if queries.is_substitute(session, product_id=product.id, substitute_id=substitute.id):
        return False
    session.add(ProductSubstitute(product_id=product.id, substitute_id=substitute.id))
    _flush(session, f"{substitute.sku} is already a substitute for {product.sku}")
    return True


def remove_substitute(session: Session, *, product: Product, substitute: Product) -> None:
    """Stop `substitute` standing in for `product`; NotFound when it did not. Flushes; the caller commits."""
    row = session.get(ProductSubstitute, (product.id, substitute.id))
    if row is None:
        raise NotFound(_l("%(substitute)s is not a substitute for %(sku)s", substitute=substitute.sku,
                          sku=product.sku), details={"field": "substitute"})
    session.delete(row)
    session.flush()


def allocate_counter(session: Session, *, key: str, count: int) -> int:
    """Reserve `count` consecutive counter values under `key` atomically; returns the first one."""
    if count <= 0:
        raise ValidationError(_l("count must be positive"))
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
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= MAX_BATCH_QUANTITY:
        raise ValidationError(_l("quantity must be a whole number from 0 to %(max_batch_quantity)s",
                                 max_batch_quantity=format(MAX_BATCH_QUANTITY, ",")),
                              details={"field": "quantity"})
    if quantity > SQLITE_MAX_UNITS and session.get_bind().dialect.name == "sqlite":
        raise ValidationError(
            _l("quantity %(quantity)s is more than one registration may create on SQLite (%(sqlite_max_units)s): "
               "every other write waits while it runs; register batches of at most %(sqlite_max_units)s units, or "
               "use PostgreSQL", quantity=format(quantity, ","), sqlite_max_units=format(SQLITE_MAX_UNITS, ",")),
            details={"field": "quantity"})
    today = today or date.today()
    produced_on = ensure_business_date("produced_on", produced_on or today, today=today,
                                       empty="today's date is used")
    if number is None:
        number = next_batch_number(session, produced_on=produced_on)
    number = ensure_code(number, what="batch number")
    line = ensure_text(line, field="line", column=Batch.__table__.c.line)
    shift = ensure_text(shift, field="shift", column=Batch.__table__.c.shift)
    if queries.find_batch(session, number, product_id=prod.id) is not None:
        raise Conflict(_l("batch %(number)r of %(sku)s already exists", number=number, sku=prod.sku),
                       details={"field": "number"})

    batch = Batch(product_id=prod.id, number=number, produced_on=produced_on, line=line, shift=shift,
                  quantity=quantity, notes=notes, serial_scheme=scheme.name)
    session.add(batch)
    _flush(session, f"batch {number!r} of {prod.sku} already exists")
    for lot in inputs:
        link_component_lot(session, batch=batch, lot=lot, author=author)

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
    """Bulk insert units, then their `produced` events with one INSERT ... SELECT."""
    now = utcnow()
    # Batches registered after the fact (ERP import, demo) date their "produced" events on the production
    # day, so the history never shows a unit shipped before it was made.
    produced_at = now if batch.produced_on >= now.date() else datetime.combine(batch.produced_on, time(0), UTC)
    conn = session.connection()
    unit_table = Unit.__table__
    payload = {"batch": batch.number, "line": batch.line, "produced_on": batch.produced_on.isoformat()}
    # One set-based INSERT per chunk, the serials passed as a single array parameter (json_each on SQLite,
    # unnest on PostgreSQL): three times faster than executemany, whose per-row binding dominated.
    to_db = unit_table.c.created_at.type.bind_processor(conn.dialect)
    created = to_db(now) if to_db else now
    sqlite = conn.dialect.name == "sqlite"
    if isinstance(created, datetime) and sqlite:
        # The text SQLAlchemy stores for a UTC datetime on SQLite.
        created = created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
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
                sql, data = pair_sql, ((json.dumps(list(zip(chunk, keys, strict=True))),) if sqlite else (chunk, keys))
            conn.exec_driver_sql(sql, (product_id, batch_id, status, created, *data))
            if progress:
                progress(len(chunk))
    except IntegrityError as exc:
        raise integrity_to_conflict(exc, "a serial of this batch already exists; nothing was registered") from exc
    record_unit_events(session, kind=EventKind.PRODUCED, units=unit_table.c.batch_id == batch.id, at=produced_at,
                       author=author, payload=payload)


def link_component_lot(session: Session, *, batch: Batch, lot: LotInput, author: Author | None = None) -> ComponentLot:
    """Record that a component lot went into a batch (creating the lot record on first sight); a lot on hold puts
    the batch on hold with it, to be released with the lot."""
    supplier, part, lot_number = lot.supplier.strip(), lot.part.strip(), lot.lot_number.strip()
    if not (supplier and part and lot_number):
        raise ValidationError(_l("a component lot needs supplier, part and lot number"))
    find = select(ComponentLot).where(
        ComponentLot.supplier == supplier, ComponentLot.part == part, ComponentLot.lot_number == lot_number)
    row = _get_or_insert(session, find, lambda: ComponentLot(supplier=supplier, part=part, lot_number=lot_number))
    session.add(BatchInput(batch_id=batch.id, component_lot_id=row.id, quantity=lot.quantity))
    _flush(session, f"lot {lot_number} is already linked to batch {batch.number}")
    if row.status == BatchStatus.ON_HOLD and batch.status == BatchStatus.RELEASED:
        limit = BatchEvent.__table__.c.reason.type.length
        message = str(_l("component lot %(lot)s on hold: %(reason)s", lot=row.lot_number, reason=row.hold_reason))
        set_batch_status(session, batch=batch, status=BatchStatus.ON_HOLD, author=author,
                         reason=message if len(message) <= limit else message[:limit - 1] + "…")
        session.execute(update(ComponentLot).where(ComponentLot.id == row.id).values(
            held_batch_ids=sorted({*(row.held_batch_ids or ()), batch.id})))
        session.refresh(row)
    return row


def get_or_create_customer(session: Session, *, name: str, tax_id: str | None = None, **contact: str) -> Customer:
    """The customer with this tax id (or exact name when no tax id), created when new."""
    name = ensure_text(name, field="customer", column=Customer.__table__.c.name, required=True, what="customer name")
    contact = {k: ensure_text(v, field=k, column=Customer.__table__.c[k]) for k, v in contact.items()}
    if tax_id is not None and not isinstance(tax_id, str):
        raise ValidationError(_l("tax id must be a string of digits, not %(tax_id)r", tax_id=tax_id),
                              details={"field": "tax_id"})
    name = name.strip()
    tax_id = (tax_id or "").strip() or None
    if tax_id is not None and not (tax_id.isdigit() and len(tax_id) in (10, 12)):
        raise ValidationError(_l("tax id %(tax_id)r must be 10 or 12 digits", tax_id=tax_id),
                              details={"field": "tax_id"})
    cond = Customer.tax_id == tax_id if tax_id else (Customer.name == name) & Customer.tax_id.is_(None)
    return _get_or_insert(session, select(Customer).where(cond),
                          lambda: Customer(name=name, tax_id=tax_id, **{k: v for k, v in contact.items() if v}))


def set_account_manager(session: Session, customer: Customer, *, username: str | None) -> tuple[str | None, str | None]:
    """Make the active user `username` the customer's account manager (None clears it); (before, after) usernames.
    A missing or inactive user is refused naming the field `account_manager`, nothing changed. Flushes."""
    before = session.get(User, customer.account_manager_id) if customer.account_manager_id is not None else None
    user = None
    if username is not None and username.strip():
        user = session.scalars(select(User).where(User.username == username.strip())).first()
        if user is None or not user.active:
            raise ValidationError(_l("no active user %(username)r to manage the customer's account",
                                     username=username.strip()), details={"field": "account_manager"})
    customer.account_manager_id = user.id if user is not None else None
    session.flush()
    return (before.username if before is not None else None, user.username if user is not None else None)


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
                    author: Author | None = None, today: date | None = None, returning: bool = False) -> Shipment:
    """Ship units by serial and/or by batch and quantity to a customer. Flushes; the caller commits.

    `returning`: the serials are the customer's own units going back from the test bench (workflow.RETURNABLE),
    not stock.

    `today` is the business day (config.business_today) that bounds the shipment date; the server's by default.
    """
    shipped_on = ensure_business_date("shipped_on", shipped_on, today=today or date.today(),
                                      empty="today's date is used")
    serials = [s.strip() for s in serials if s and s.strip()]
    batch_lines = list(batch_lines)
    if not serials and not batch_lines:
        raise ValidationError(_l("a shipment needs at least one serial or batch line"))
    if len(set(serials)) != len(serials):
        raise ValidationError(_l("the same serial appears twice in the shipment"))
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
            raise ValidationError(_l("quantity for batch %(batch)s must be positive, not %(quantity)s",
                                     batch=line.batch, quantity=line.quantity))
        batch = queries.get_batch(session, line.batch, sku=line.sku)
        serialised = session.scalar(select(Unit.id).where(Unit.batch_id == batch.id).limit(1)) is not None
        if not serialised:
            unserialised.append((batch, line.quantity))
            continue
        workflow.ensure_batch_shippable(batch.number, session.scalar(select(Batch.status).where(Batch.id == batch.id)))
        # Units this shipment already names or picked are not picked again by a later line of the same batch.
        chosen = [u.id for u in units if u.batch_id == batch.id]
        # SKIP LOCKED: a second station shipping from the same batch takes the next free units instead of
        # waiting for, then losing, the same ones (PostgreSQL; SQLite serialises writers anyway). It never
        # waits, so it cannot take part in a deadlock. NO KEY UPDATE, as the UPDATE itself: scans and events
        # referring to the unit (KEY SHARE) do not wait for it.
        picked = session.scalars(
            select(Unit).where(Unit.batch_id == batch.id, Unit.status.in_(sorted(workflow.BATCH_STOCK)),
                               *([Unit.id.not_in(chosen)] if chosen else []))
            .order_by(Unit.id).limit(line.quantity).with_for_update(skip_locked=True, key_share=True)).all()
        if len(picked) < line.quantity:
            raise Conflict(_l("batch %(number)s has %(count)s units in stock, %(quantity)s asked", number=batch.number,
                              count=len(picked), quantity=line.quantity))
        units.extend(picked)
    for batch, quantity in sorted(unserialised, key=lambda item: item[0].id):
        _ship_unserialised(session, shipment=shipment, batch=batch, quantity=quantity)
    if units:
        _ship_units(session, units=units, shipment=shipment, author=author, returning=returning)
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
    status = session.scalar(select(Batch.status).where(Batch.id == batch.id).with_for_update(key_share=True))
    workflow.ensure_batch_shippable(batch.number, status)
    already = session.scalar(select(func.coalesce(func.sum(ShipmentItem.quantity), 0))
                             .where(ShipmentItem.batch_id == batch.id, ShipmentItem.unit_id.is_(None)))
    if batch.quantity and already + quantity > batch.quantity:
        raise Conflict(_l("batch %(number)s holds %(quantity)s; %(already)s shipped, %(quantity2)s more asked",
                          number=batch.number, quantity=batch.quantity, already=already, quantity2=quantity))
    session.add(ShipmentItem(shipment_id=shipment.id, batch_id=batch.id, quantity=quantity))
    session.flush()


def ship_unit(session: Session, *, unit: Unit, shipment: Shipment, author: Author | None = None) -> None:
    """Ship one unit in a shipment; a unit that is not shippable (workflow.ensure_shippable) is a conflict."""
    _ship_units(session, units=[unit], shipment=shipment, author=author)


def _ship_units(session: Session, *, units: Sequence[Unit], shipment: Shipment, author: Author | None,
                returning: bool = False) -> None:
    """Ship these units: each checked against the shipping rule in the order given, then their shipment items,
    `shipped` events and status written set-based."""
    ids = [u.id for u in units]
    # Read again, not from the loaded objects: another station may have changed a unit since this session
    # loaded it (create_shipment has locked the rows by now, so what is read here holds until commit).
    current: dict[int, Any] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        current.update((row.id, row) for row in session.execute(
            select(Unit.id, Unit.serial, Unit.status, Batch.status.label("batch_status"))
            .join(Batch, Batch.id == Unit.batch_id).where(Unit.id.in_(ids[start:start + _ID_CHUNK]))))
    if len(current) != len(ids):
        raise ValueError("each unit is shipped once: create_shipment never picks a unit it already names")
    ensure = workflow.ensure_returnable if returning else workflow.ensure_shippable
    for unit in units:
        row = current[unit.id]
        ensure(row.serial, row.status, row.batch_status)
    session.connection().execute(insert(ShipmentItem.__table__), [
        {"shipment_id": shipment.id, "unit_id": u.id, "batch_id": u.batch_id, "quantity": 1} for u in units])
    set_unit_status(session, units=ids, to=UnitStatus.SHIPPED, kind=EventKind.SHIPPED, author=author,
                    payload=shipped_payload(shipment_id=shipment.id, reference=shipment.reference,
                                            shipped_on=shipment.shipped_on, customer_id=shipment.customer_id))


def shipped_payload(*, shipment_id: int, reference: str, shipped_on: date, customer_id: int) -> dict[str, Any]:
    """The payload of a unit's `shipped` event: which shipment, document, day and customer."""
    return {"shipment_id": shipment_id, "reference": reference, "shipped_on": shipped_on.isoformat(),
            "customer_id": customer_id}


# --- history: unit events, unit and batch status -------------------------------------------------------

@dataclass(frozen=True)
class EventDetail:
    """One unit's own event time and payload, where a change of many units gives each its own."""

    at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


# Units named by id: ids per statement, well inside every driver's limit of bound parameters.
_ID_CHUNK = 10_000

Units = Sequence[int] | ColumnElement[bool]


def _unit_conditions(units: Units) -> list[tuple[ColumnElement[bool], list[int] | None]]:
    """(condition on the unit table, the ids it names or None) per statement: one for a condition, one per
    10,000 ids for a list."""
    if isinstance(units, ColumnElement):
        return [(units, None)]
    ids = list(dict.fromkeys(units))
    chunks = [ids[i:i + _ID_CHUNK] for i in range(0, len(ids), _ID_CHUNK)]
    return [(Unit.__table__.c.id.in_(chunk), chunk) for chunk in chunks]


def _event_kind(kind: EventKind | str) -> EventKind:
    try:
        return EventKind(kind)
    except ValueError:
        raise ValidationError(_l("unknown event kind %(kind)r", kind=kind), details={"field": "kind"}) from None


def json_payload(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """A payload or attributes mapping with dates and other plain objects as JSON-safe values."""
    return json.loads(json.dumps(dict(value or {}), default=str))


def record_unit_events(session: Session, *, kind: EventKind | str, units: Units, at: datetime | None = None,
                       author: Author | None = None, payload: Mapping[str, Any] | None = None,
                       details: Mapping[int, EventDetail] | None = None) -> int:
    """Append an event of `kind` to every unit `units` names: a list of unit ids, or a condition on the unit
    table (`Unit.batch_id == 7`). One INSERT ... SELECT per condition or 10,000 ids, whatever the number of units;
    returns how many were written. The one writer of unit events: history is only ever appended.

    Every event gets `at` (now by default) and `payload`; with `details` (unit id -> EventDetail, for history
    written after the fact) each listed unit gets its own time and payload instead, in one executemany.
    """
    kind = _event_kind(kind)
    if details is not None:
        if isinstance(units, ColumnElement) or set(details) != set(units):
            raise ValueError("details must name exactly the listed units")
        return _insert_detailed_events(session, kind=kind, details=details, author=author)
    return sum(_insert_events(session, kind=kind, condition=condition, at=at, author=author, payload=payload)
               for condition, _ in _unit_conditions(units))


def _insert_events(session: Session, *, kind: EventKind, condition: ColumnElement[bool], at: datetime | None,
                   author: Author | None, payload: Mapping[str, Any] | None) -> int:
    """One INSERT ... SELECT of the same event for every unit `condition` selects; returns the count."""
    who = author_fields(author)
    unit, event = Unit.__table__, UnitEvent.__table__
    values = select(unit.c.id, literal(kind.value, event.c.kind.type), literal(at or utcnow(), event.c.at.type),
                    literal(who["author_id"], Integer), literal(who["author"], event.c.author.type),
                    literal(json_payload(payload), JsonType)).where(condition)
    # preserve_rowcount: SQLAlchemy keeps an INSERT's row count only when asked.
    return session.connection().execute(
        insert(event).from_select(["unit_id", "kind", "at", "author_id", "author", "payload"], values),
        execution_options={"preserve_rowcount": True}).rowcount


def _insert_detailed_events(session: Session, *, kind: EventKind, details: Mapping[int, EventDetail],
                            author: Author | None) -> int:
    """One executemany of events with each unit's own time and payload; returns the count."""
    who = author_fields(author)
    rows = [{"unit_id": unit_id, "kind": kind.value, "at": d.at, "payload": json_payload(d.payload), **who}
            for unit_id, d in details.items()]
    if rows:
        session.connection().execute(insert(UnitEvent.__table__), rows)
    return len(rows)


def set_unit_status(session: Session, *, units: Units, to: UnitStatus | str, kind: EventKind | str = EventKind.STATUS,
                    at: datetime | None = None, author: Author | None = None,
                    payload: Mapping[str, Any] | None = None, details: Mapping[int, EventDetail] | None = None) -> int:
    """Move units to status `to` as workflow.UNIT_TRANSITIONS allows, each with an event of `kind` (see
    record_unit_events for `at`, `payload` and `details`): one INSERT of events and one UPDATE per condition or
    10,000 ids, in the caller's transaction. Every status change of a unit goes through here. Flushes; the
    caller commits. Returns how many units moved.

    `units` is a list of unit ids, every one of which must exist and be allowed the move: else NotFound or
    InvalidTransition names the first that is not, before anything is written. Or a condition on the unit table:
    of the units it selects, those whose status allows the move are moved and the rest are left as they are.
    """
    target = workflow.unit_status(to)
    sources = sorted(workflow.unit_sources(target))
    kind = _event_kind(kind)
    if details is not None and (isinstance(units, ColumnElement) or set(details) != set(units)):
        raise ValueError("details must name exactly the listed units")
    # Each event names the status it moved the unit to, so a unit's history reads as a chain of changes (the
    # dossier takes "from" from the change before: every unit starts in stock and moves only through here).
    payload = {**(payload or {}), "to_status": target.value}
    if details is not None:
        details = {i: EventDetail(at=d.at, payload={**d.payload, "to_status": target.value})
                   for i, d in details.items()}
    # Pending changes of loaded units first, so the statements below see them.
    session.flush()
    unit = Unit.__table__
    conn = session.connection()
    moved = 0
    for condition, ids in _unit_conditions(units):
        movable = and_(condition, unit.c.status.in_(sources))
        if ids is not None:
            _ensure_listed_units_may_move(session, ids=ids, condition=condition, sources=sources, target=target)
        if details is not None:
            written = _insert_detailed_events(session, kind=kind, details={i: details[i] for i in ids or ()},
                                              author=author)
        else:
            written = _insert_events(session, kind=kind, condition=movable, at=at, author=author, payload=payload)
        changed = conn.execute(update(unit).where(movable).values(status=target.value)).rowcount
        if changed != written or (ids is not None and changed != len(ids)):
            # Events and UPDATE saw different units (or fewer than were checked): another writer changed some in
            # between. The caller's transaction is rolled back, so nothing of this change stays.
            raise Contention(_l("units changed while their status was being set; nothing was changed, try again"),
                             details={"to": target.value})
        moved += changed
    # Units loaded in this session read their new status from the database when next used.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Unit):
            session.expire(obj, ["status"])
    return moved


def _ensure_listed_units_may_move(session: Session, *, ids: list[int], condition: ColumnElement[bool],
                                  sources: list[str], target: UnitStatus) -> None:
    """NotFound for an id that names no unit, InvalidTransition for the first unit the table does not let move."""
    unit = Unit.__table__
    found = session.scalar(select(func.count()).select_from(unit).where(condition))
    if found != len(ids):
        missing = sorted(set(ids) - set(session.scalars(select(unit.c.id).where(condition))))
        raise NotFound(_l("no unit with id %(missing)s", missing=missing[0]), details={"unit_id": missing[0]})
    refused = session.execute(select(unit.c.serial, unit.c.status).where(condition, unit.c.status.not_in(sources))
                              .order_by(unit.c.id).limit(1)).first()
    if refused is not None:
        workflow.ensure_unit_transition(refused.status, target, serial=refused.serial)


def set_batch_status(session: Session, *, batch: Batch, status: BatchStatus | str, reason: str,
                     author: Author | None = None) -> BatchEvent:
    """Hold, release or recall a batch as workflow.BATCH_TRANSITIONS allows, recording who, when and why as a
    batch event (one row, whatever the batch's size). Flushes; the caller commits."""
    target = workflow.batch_status(status)
    reason = ensure_text(reason, field="reason", column=BatchEvent.__table__.c.reason, required=True)
    # Read under the row lock (PostgreSQL): of two people changing the same batch, the second sees the first's
    # status and is checked against it.
    current = session.scalar(select(Batch.status).where(Batch.id == batch.id).with_for_update(key_share=True))
    if current is None:
        raise NotFound(_l("no batch %(number)r", number=batch.number))
    workflow.ensure_batch_transition(current, target, number=batch.number)
    if target == BatchStatus.RELEASED:
        ensure_no_held_lot(session, batch)
    session.execute(update(Batch.__table__).where(Batch.__table__.c.id == batch.id).values(status=target.value))
    session.expire(batch, ["status"])
    event = BatchEvent(batch_id=batch.id, kind=EventKind.STATUS.value, from_status=current, to_status=target.value,
                       reason=reason, **author_fields(author))
    session.add(event)
    session.flush()
    return event


def held_lot_in(session: Session, batch_id: int, *, besides: int | None = None) -> ComponentLot | None:
    """A component lot on hold that went into the batch (other than lot `besides`), or None."""
    stmt = (select(ComponentLot).join(BatchInput, BatchInput.component_lot_id == ComponentLot.id)
            .where(BatchInput.batch_id == batch_id, ComponentLot.status == BatchStatus.ON_HOLD.value)
            .order_by(ComponentLot.id).limit(1))
    if besides is not None:
        stmt = stmt.where(ComponentLot.id != besides)
    return session.scalars(stmt).first()


def ensure_no_held_lot(session: Session, batch: Batch) -> None:
    """Conflict naming the lot when a component lot on hold went into the batch: the batch stays held with it."""
    lot = held_lot_in(session, batch.id)
    if lot is not None:
        raise Conflict(_l("batch %(number)s contains component lot %(lot)s (%(part)s from %(supplier)s), which is on "
                          "hold; release the lot first", number=batch.number, lot=lot.lot_number, part=lot.part,
                          supplier=lot.supplier),
                       details={"batch": batch.number, "lot": lot.lot_number, "supplier": lot.supplier,
                                "part": lot.part})


def _flush(session: Session, conflict_message: str) -> None:
    """Flush and turn a uniqueness failure into a Conflict with a readable message."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise integrity_to_conflict(exc, conflict_message) from exc
