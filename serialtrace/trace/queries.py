"""Reads of the trace domain: lookups by serial, batch number, SKU or GTIN."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound
from ..i18n import _l
from ..scanner import ScanError, parse_scan
from ..serials import SerialScheme, is_mistyped
from .models import Batch, BatchEvent, ComponentLot, Customer, Product, ProductSubstitute, Unit, search_key


def find_product(session: Session, key: str) -> Product | None:
    """The product with this SKU or GTIN, or None."""
    key = (key or "").strip()
    conds = [Product.sku == key]
    if key.isdigit() and len(key) in (8, 12, 13, 14):
        conds.append(Product.gtin == key.zfill(14))
    return session.scalars(select(Product).where(or_(*conds))).first()


def get_product(session: Session, key: str) -> Product:
    """The product with this SKU or GTIN, or NotFound."""
    product = find_product(session, key)
    if product is None:
        raise NotFound(_l("no product with SKU or GTIN %(key)r", key=key), details={"field": "product"})
    return product


def list_products(session: Session) -> list[Product]:
    """All products by SKU."""
    return list(session.scalars(select(Product).order_by(Product.sku)))


def is_substitute(session: Session, *, product_id: int, substitute_id: int) -> bool:
    """True when units of product `substitute_id` may be handed out in place of product `product_id`'s."""
    return session.get(ProductSubstitute, (product_id, substitute_id)) is not None


def list_substitutes(session: Session, product: Product) -> list[Product]:
    """The products the desk may hand out in place of `product`, by SKU."""
    return list(session.scalars(select(Product).join(ProductSubstitute, ProductSubstitute.substitute_id == Product.id)
                                .where(ProductSubstitute.product_id == product.id).order_by(Product.sku)))


def _like_prefix(text: str) -> str:
    """A LIKE pattern for values starting with `text`, whose % _ and \\ are data, not wildcards (escape "\\")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _starts_with(column: ColumnElement, text: str) -> ColumnElement[bool]:
    # upper() on both sides in the database: the same case folding on SQLite and PostgreSQL, whose LIKE
    # differ (SQLite ignores ASCII case, PostgreSQL does not).
    return func.upper(column).like(func.upper(_like_prefix(text)), escape="\\")


def list_batches(session: Session, *, prefix: str = "", limit: int = 200) -> list[Row]:
    """(Batch, product SKU) rows, newest first; with a prefix only numbers starting with it, ignoring case."""
    stmt = (select(Batch, Product.sku).join(Product, Product.id == Batch.product_id)
            .order_by(Batch.produced_on.desc(), Batch.id.desc()).limit(limit))
    if prefix:
        stmt = stmt.where(_starts_with(Batch.number, prefix))
    return list(session.execute(stmt).all())


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix` in code point order (which is the byte
    order of UTF-8, so SQLite's BINARY and PostgreSQL's "C" collation agree); None when there is none."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code <= 0x10FFFF:
            # Surrogates cannot be stored as UTF-8; the next storable character follows them.
            return "".join(chars) + chr(0xE000 if 0xD800 <= code <= 0xDFFF else code)
    return None


def _key_range(column: ColumnElement, prefix: str) -> list[ColumnElement[bool]]:
    # A range on the upper-cased key column instead of LIKE: an index range scan on both databases with bound
    # parameters (PostgreSQL cannot use an index for LIKE with a parameter pattern in a generic plan), and
    # % _ \ in the search text are plain characters without any escaping.
    key = search_key(prefix)
    end = prefix_end(key)
    return [column >= key] if end is None else [column >= key, column < end]


def unit_search_statements(prefix: str, limit: int) -> tuple[Select, Select]:
    """The two reads of list_units: units by serial prefix, units by external code prefix (each an index range)."""
    base = (select(Unit, Product.sku, Batch.number).join(Product, Product.id == Unit.product_id)
            .join(Batch, Batch.id == Unit.batch_id))
    # Ordered by the key alone, which the index holds in order (list_units breaks ties by serial and id).
    return (base.where(*_key_range(Unit.serial_key, prefix)).order_by(Unit.serial_key).limit(limit),
            base.where(*_key_range(Unit.external_key, prefix)).order_by(Unit.external_key).limit(limit))


def list_units(session: Session, *, prefix: str, limit: int = 200) -> list[Row]:
    """(Unit, product SKU, batch number) rows whose serial or external code starts with `prefix`, ignoring case,
    ordered by serial."""
    # Two index range scans that stop after `limit` rows each, merged here: with an OR of both, either
    # database reads every match before sorting.
    by_serial, by_external = unit_search_statements(prefix, limit)
    rows = {row[0].id: row for row in session.execute(by_serial)}
    for row in session.execute(by_external):
        rows.setdefault(row[0].id, row)
    return sorted(rows.values(), key=lambda row: (row[0].serial_key or "", row[0].serial, row[0].id))[:limit]


def find_batch(session: Session, number: str, *, product_id: int | None = None) -> Batch | None:
    """The batch with this number (within a product when given), or None."""
    stmt = select(Batch).where(Batch.number == number)
    if product_id is not None:
        stmt = stmt.where(Batch.product_id == product_id)
    return session.scalars(stmt).first()


def list_batch_events(session: Session, batch: Batch) -> list[BatchEvent]:
    """A batch's history (holds, releases, recalls with who, when and why), oldest first."""
    return list(session.scalars(select(BatchEvent).where(BatchEvent.batch_id == batch.id)
                                .order_by(BatchEvent.at, BatchEvent.id)))


def list_batches_by_number(session: Session, number: str) -> list[Batch]:
    """Every batch with this number (different products may reuse a number)."""
    return list(session.scalars(select(Batch).where(Batch.number == number).order_by(Batch.id)))


def get_batch(session: Session, number: str, *, sku: str | None = None) -> Batch:
    """The one batch with this number; ambiguity across products is a conflict naming the products."""
    number = (number or "").strip()
    if sku:
        batch = find_batch(session, number, product_id=get_product(session, sku).id)
        if batch is None:
            raise NotFound(_l("no batch %(number)r of product %(sku)r", number=number, sku=sku))
        return batch
    batches = list_batches_by_number(session, number)
    if not batches:
        raise NotFound(_l("no batch %(number)r", number=number))
    if len(batches) > 1:
        skus = [session.get(Product, b.product_id).sku for b in batches]
        raise Conflict(_l("batch number %(number)r exists for several products; name the product", number=number),
                       details={"products": skus})
    return batches[0]


# Built once: every scan runs these.
_UNITS_BY_SERIAL = select(Unit).where(Unit.serial == bindparam("code")).order_by(Unit.id)
_UNITS_BY_EXTERNAL = select(Unit).where(Unit.external_code == bindparam("code")).order_by(Unit.id)


def list_units_by_serial(session: Session, serial: str, *, gtin: str | None = None) -> list[Unit]:
    """Units carrying this serial (one per product at most) or this external code, of the GTIN's product if given."""
    params = {"code": (serial or "").strip()}
    units = list(session.scalars(_UNITS_BY_SERIAL, params))
    if not units:
        units = list(session.scalars(_UNITS_BY_EXTERNAL, params))
    if gtin:
        product = find_product(session, gtin)
        units = [u for u in units if product is not None and u.product_id == product.id]
    return units


def is_typo(serial: str, *, scheme: SerialScheme | None) -> bool:
    """True when a typed `serial` has the shape of the configured scheme's serials but a wrong check character."""
    return scheme is not None and is_mistyped(scheme, serial)


def read_scan(code: str) -> tuple[str, str | None]:
    """The serial a scan names (GS1 AI 21, Digital Link) with its GTIN (AI 01), else the scan's text and None."""
    try:
        parsed = parse_scan(code or "")
    except ScanError:
        # Not readable as GS1 data: a serial typed or scanned as plain text.
        return (code or "").strip(), None
    # The GTIN picks the product when two products share a serial.
    return (parsed.serial, parsed.gtin) if parsed.serial else (parsed.text or (code or "").strip(), None)


def list_scanned_units(session: Session, code: str) -> list[Unit]:
    """The units a scan (plain serial, GS1 element string or Digital Link) may name: one, none or a serial's twins."""
    serial, gtin = read_scan(code)
    return list_units_by_serial(session, serial, gtin=gtin)


def get_scanned_unit(session: Session, code: str, *, scheme: SerialScheme | None = None) -> Unit:
    """The one unit a scan (plain serial, GS1 element string or Digital Link) names; NotFound / Conflict as get_unit."""
    serial, gtin = read_scan(code)
    return get_unit(session, serial, gtin=gtin, scheme=scheme)


def get_unit(session: Session, serial: str, *, gtin: str | None = None, scheme: SerialScheme | None = None) -> Unit:
    """The one unit with this serial (narrowed by GTIN when given), or NotFound / Conflict when ambiguous.

    With the configured serial `scheme`, a serial found nowhere whose check character is wrong is called a typo.
    """
    units = list_units_by_serial(session, serial, gtin=gtin)
    if not units:
        if is_typo(serial, scheme=scheme):
            raise NotFound(_l("no unit with serial %(serial)r: check character wrong: mistyped serial?", serial=serial),
                           details={"serial": serial, "check": "wrong"})
        raise NotFound(_l("no unit with serial %(serial)r", serial=serial), details={"serial": serial})
    if len(units) > 1:
        raise Conflict(_l("serial %(serial)r belongs to several products; scan the GTIN too", serial=serial),
                       details={"products": [u.product_id for u in units]})
    return units[0]


def get_component_lot(session: Session, lot_number: str) -> ComponentLot:
    """The component lot with this lot number, or NotFound."""
    lot = session.scalars(select(ComponentLot).where(ComponentLot.lot_number == lot_number.strip())).first()
    if lot is None:
        raise NotFound(_l("no component lot %(lot)r", lot=lot_number))
    return lot


def list_lots_by_number(session: Session, lot_number: str) -> list[ComponentLot]:
    """Every component lot with this lot number (suppliers' numbers may coincide), by part and supplier."""
    return list(session.scalars(select(ComponentLot).where(ComponentLot.lot_number == (lot_number or "").strip())
                                .order_by(ComponentLot.part, ComponentLot.supplier, ComponentLot.id)))


def list_product_batches(session: Session, product_id: int, *, limit: int = 200) -> list[Batch]:
    """A product's batches, newest first."""
    return list(session.scalars(select(Batch).where(Batch.product_id == product_id)
                                .order_by(Batch.produced_on.desc(), Batch.id.desc()).limit(limit)))


def get_customer(session: Session, ref: str) -> Customer:
    """The customer a tax id, an id or an exact name names; NotFound naming the field `customer` otherwise."""
    key = (ref or "").strip()
    found = session.scalars(select(Customer).where(Customer.tax_id == key)).first() if key else None
    # Only ASCII digits: str.isdigit() also accepts other scripts' digits, which int() refuses.
    if found is None and key.isascii() and key.isdigit() and len(key) <= 9:
        found = session.get(Customer, int(key))
    if found is None and key:
        found = session.scalars(select(Customer).where(Customer.name == key).order_by(Customer.id)).first()
    if found is None:
        raise NotFound(_l("no customer %(ref)r (give its tax id, id or exact name)", ref=ref),
                       details={"field": "customer"})
    return found


def list_customers(session: Session, *, limit: int = 1000) -> list[Customer]:
    """Customers by name, for the admin's list."""
    return list(session.scalars(select(Customer).order_by(Customer.name, Customer.id).limit(limit)))
