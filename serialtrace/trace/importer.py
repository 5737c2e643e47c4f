"""ERP CSV import (1C-style exports) of products, batches and shipments: validate every row, then all or nothing."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import DomainError, ImportFailed, ValidationError
from ..i18n import Plural, _l, _n
from . import queries, service, workflow
from .models import Batch, Customer, Product, ShipmentItem, Unit
from .policy import MAX_BATCH_QUANTITY, ensure_business_date, ensure_code, ensure_sku, normalise_gtin, parse_date

MAX_BYTES = 20 * 1024 * 1024
KINDS = ("products", "batches", "shipments")

# Header spellings per field, compared after _header_key (lower case, no spaces/underscores, ё -> е).
_ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("артикул", "sku", "article", "articlenumber"),
    "name": ("наименование", "название", "name", "productname"),
    "gtin": ("gtin", "штрихкод", "штрихкодgtin", "barcode"),
    "warranty_months": ("гарантия,мес.", "гарантия,мес", "гарантия(мес.)", "гарантия(мес)", "гарантия",
                        "срокгарантии,мес.", "warrantymonths", "warranty,months", "warranty(months)", "warranty"),
    "batch": ("серия", "номерсерии", "batch", "batchnumber", "batchno"),
    "produced_on": ("датапроизводства", "producedon", "productiondate", "produced", "manufactured"),
    "line": ("линия", "line", "productionline"),
    "shift": ("смена", "shift"),
    "quantity": ("количество", "кол-во", "quantity", "qty"),
    "supplier": ("поставщикплаты", "поставщик", "supplier", "boardsupplier"),
    "supplier_lot": ("партияплаты", "партияпоставщика", "supplierlot", "boardlot", "lot", "lotnumber"),
    "document": ("документ", "номердокумента", "document", "documentnumber", "doc", "invoice"),
    "date": ("дата", "датадокумента", "date", "shippedon", "shipdate", "documentdate"),
    "customer": ("контрагент", "покупатель", "customer", "customername", "counterparty"),
    "tax_id": ("инн", "taxid", "inn", "vat", "vatid"),
    "carrier": ("перевозчик", "carrier"),
}
_FIELD_BY_HEADER = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}

_REQUIRED: dict[str, tuple[str, ...]] = {
    "products": ("sku", "name"),
    "batches": ("batch", "sku", "produced_on", "quantity"),
    "shipments": ("document", "date", "customer", "sku", "batch", "quantity"),
}
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "products": ("gtin", "warranty_months"),
    "batches": ("line", "shift", "supplier", "supplier_lot"),
    "shipments": ("tax_id", "carrier"),
}
_HEADER_NAMES = {
    "sku": "article", "name": "name", "gtin": "GTIN", "warranty_months": "warranty months", "batch": "batch",
    "produced_on": "production date", "line": "line", "shift": "shift", "quantity": "quantity",
    "supplier": "board supplier", "supplier_lot": "board lot", "document": "document", "date": "date",
    "customer": "customer", "tax_id": "tax id", "carrier": "carrier",
}

# Control characters no text export holds (tab, CR and LF aside): their presence means a binary file.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Spaces ERP systems put inside numbers as thousands separators (plain, no-break, narrow no-break).
_NUMBER_SPACES = str.maketrans("", "", " \u00a0\u202f")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    kind: str
    rows: int
    products: int = 0
    batches: int = 0
    units: int = 0
    shipments: int = 0
    shipped_units: int = 0
    customers_created: int = 0

    def summary(self) -> str:
        """One line for people, such as 'imported 4 products' (a Message: pages show it translated)."""
        if self.kind == "products":
            return _l("imported %(products)s", products=_count(self.products, "product"))
        if self.kind == "batches":
            return _l("imported %(batches)s with %(units)s", batches=_count(self.batches, "batch"),
                      units=_count(self.units, "unit"))
        return _l("imported %(shipments)s of %(units)s (%(lines)s, %(customers)s)",
                  shipments=_count(self.shipments, "shipment"), units=_count(self.shipped_units, "unit"),
                  lines=_count(self.rows, "line"), customers=_count(self.customers_created, "new customer"))


def _count(n: int, noun: str) -> Plural:
    """`n` things as a phrase with its plural form ("1 unit", "5,500 units"), translated where shown."""
    shown = f"{n:,}"
    phrases = {
        "product": _n("%(count)s product", "%(count)s products", n, count=shown),
        "batch": _n("%(count)s batch", "%(count)s batches", n, count=shown),
        "unit": _n("%(count)s unit", "%(count)s units", n, count=shown),
        "shipment": _n("%(count)s shipment", "%(count)s shipments", n, count=shown),
        "line": _n("%(count)s line", "%(count)s lines", n, count=shown),
        "new customer": _n("%(count)s new customer", "%(count)s new customers", n, count=shown),
        "bad row": _n("%(count)s bad row", "%(count)s bad rows", n, count=shown),
    }
    return phrases[noun]


@dataclass
class _Row:
    """One data row: its file line number and its values by field name."""

    line: int
    values: dict[str, str]
    parsed: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "")


class _RowError(Exception):
    """A reason why one row is bad (collected, never escapes the module)."""


def import_file(session: Session, *, data: bytes, kind: str | None, scheme: service.SerialScheme,
                author: service.Author | None = None, progress: Progress | None = None,
                today: date | None = None) -> ImportReport:
    """Import an ERP CSV export of products, batches or shipments; all rows or none. Flushes; the caller commits.

    `today` is the business day (config.business_today) that bounds production and shipment dates.

    Raises:
        ImportFailed: the file cannot be read, or rows are bad; `details["errors"]` lists
            `{"line": n, "reason": ...}` with file line numbers (the header is line 1).
    """
    if kind is not None and kind not in KINDS:
        raise ValidationError(_l("unknown import kind %(kind)r; use one of %(value)s", kind=kind,
                                 value=', '.join(KINDS)))
    today = today or date.today()
    text = _decode(data)
    kind, rows = _parse(text, kind)
    validate = {"products": _validate_products, "batches": _validate_batches, "shipments": _validate_shipments}[kind]
    errors = validate(session, rows, today=today)
    if errors:
        errors.sort(key=lambda e: e["line"])
        raise ImportFailed(_l("%(rows)s in %(kind)s file; nothing was imported", rows=_count(len(errors), "bad row"),
                              kind=kind),
                           details={"kind": kind, "errors": errors})
    write = {"products": _write_products, "batches": _write_batches, "shipments": _write_shipments}[kind]
    # A savepoint makes the import all-or-nothing even inside a caller's larger transaction.
    nested = session.begin_nested()
    try:
        report = write(session, rows, scheme=scheme, author=author, progress=progress, today=today)
    except BaseException:
        nested.rollback()
        raise
    nested.commit()
    return report


# --- reading ---------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    """Text of the file: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1251."""
    if not isinstance(data, (bytes, bytearray)):
        raise ValidationError(_l("import data must be bytes"))
    if len(data) > MAX_BYTES:
        raise ImportFailed(_l("the file is %(value)s MB; the import limit is %(value2)s MB",
                              value=format(len(data) / 1024 / 1024, ".1f"), value2=MAX_BYTES // 1024 // 1024),
                           details={"errors": []})
    if not data.strip():
        raise ImportFailed(_l("the file is empty"), details={"errors": []})
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8", "cp1251"]
    failure: UnicodeDecodeError | None = None
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding.startswith("utf-8") and exc.end == len(data) and exc.reason == "unexpected end of data":
                # UTF-8 to the last byte but for a character cut in half: the file was cut short, and reading it
                # as Windows-1251 would import the broken tail as letters.
                line = data.count(b"\n") + 1
                raise ImportFailed(_l("the file ends in the middle of a UTF-8 character on line %(line)s: it was cut "
                                      "short; export it again; nothing was imported", line=line),
                                   details={"errors": [], "line": line}) from None
            failure = exc
            continue
        # NUL or other control bytes mean a binary file (a spreadsheet, an archive), not a CSV export; the whole
        # file is checked, since a NUL further down would otherwise reach the database (PostgreSQL refuses it).
        binary = _BINARY.search(text)
        if binary:
            line = text.count("\n", 0, binary.start()) + 1
            # The line is in the message, not in a list of rows: the file as a whole is unreadable (one CLI line).
            raise ImportFailed(_l("the file is not a text CSV export: line %(line)s holds binary data (control "
                                  "character %(binary)r); nothing was imported", line=line, binary=binary.group()),
                               details={"errors": [], "line": line})
        return text
    assert failure is not None
    line = bytes(failure.object).count(b"\n", 0, failure.start) + 1
    byte = failure.object[failure.start:failure.start + 1].hex().upper()
    what = {"utf-16": "is not UTF-16 text despite its byte order mark",
            "utf-8-sig": "is not UTF-8 text despite its byte order mark"}.get(candidates[0],
                                                                             "is neither UTF-8 nor Windows-1251 text")
    raise ImportFailed(_l("the file %(what)s (byte 0x%(byte)s on line %(line)s); save the export as UTF-8 or "
                          "Windows-1251 CSV", what=what, byte=byte, line=line), details={"errors": [], "line": line})


def _header_key(name: str) -> str:
    return re.sub(r"[\s_\u00a0]+", "", name.strip().strip('"«»').lower().replace("ё", "е"))


def _map_header(header: list[str]) -> dict[int, str]:
    """Column index -> field name for the headers we know; unknown columns are ignored."""
    return {i: _FIELD_BY_HEADER[_header_key(h)] for i, h in enumerate(header) if _header_key(h) in _FIELD_BY_HEADER}


def _detect_kind(fields: set[str]) -> str | None:
    for kind in ("shipments", "batches", "products"):
        if set(_REQUIRED[kind]) <= fields:
            return kind
    return None


def detect_kind(data: bytes) -> str | None:
    """The kind (products, batches, shipments) the file's header names, or None; ImportFailed if unreadable."""
    _, _, _, mapping = _read_header(_decode(data))
    return _detect_kind(set(mapping.values()))


def _read_header(text: str) -> tuple[int, str, str, dict[int, str]]:
    """Index and text of the header line, the delimiter whose header we recognise best, and its field mapping."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ImportFailed(_l("the file is empty"), details={"errors": []})
    header_line = lines[first]
    best: tuple[int, str, dict[int, str]] | None = None
    for delimiter in (";", ",", "\t"):
        header = next(_records([header_line], delimiter, first=first), [])
        mapping = _map_header(header)
        score = len(mapping) if len(set(mapping.values())) == len(mapping) else -1
        if best is None or score > best[0]:
            best = (score, delimiter, mapping)
    assert best is not None
    _, delimiter, mapping = best
    return first, header_line, delimiter, mapping


def _records(source: Any, delimiter: str, *, first: int) -> Iterable[list[str]]:
    """Records of `source` (a csv reader, or lines to read); a field too long for the csv module is an ImportFailed.

    `first` is the 0-based file line of `source`'s first line; for a reader its own line count is used.
    """
    reader = source if hasattr(source, "line_num") else csv.reader(source, delimiter=delimiter)
    line_end = 0
    try:
        for record in reader:
            line_end = reader.line_num
            yield record
    except csv.Error as exc:
        # The record that failed starts on the line after the last complete one.
        line = first + line_end + 1
        if "field larger than field limit" in str(exc):
            limit = csv.field_size_limit()
            reason = (f"a field is longer than {limit:,} characters; no column of an export is that long "
                      f"(a quote opened and never closed joins the following lines into one field)")
        else:
            reason = f"not readable as CSV: {exc}"
        raise ImportFailed(_l("line %(line)s: %(reason)s; nothing was imported", line=line, reason=reason),
                           details={"errors": [], "line": line}) from None


def _parse(text: str, kind: str | None) -> tuple[str, list[_Row]]:
    """Pick the delimiter whose header we recognise, detect the kind, and read the rows with line numbers."""
    first, header_line, delimiter, mapping = _read_header(text)
    fields = set(mapping.values())
    known = ", ".join(sorted({a for k in _REQUIRED for a in (_HEADER_NAMES[f] for f in _REQUIRED[k])}))
    if kind is None:
        kind = _detect_kind(fields)
        if kind is None:
            raise ImportFailed(
                _l("unknown header %(header_line)r: not a products, batches or shipments export",
                   header_line=header_line.strip()[:200]),
                details={"errors": [{"line": first + 1,
                                     "reason": f"unrecognised header; expected columns such as {known}"}]})
    missing = [f for f in _REQUIRED[kind] if f not in fields]
    if missing:
        names = ", ".join(_HEADER_NAMES[f] for f in missing)
        raise ImportFailed(_l("the %(kind)s file lacks the column(s) %(names)s", kind=kind, names=names),
                           details={"errors": [{"line": first + 1, "reason": f"missing column(s): {names}"}]})
    wanted = set(_REQUIRED[kind]) | set(_OPTIONAL[kind])
    mapping = {i: f for i, f in mapping.items() if f in wanted}

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[_Row] = []
    errors: list[dict[str, Any]] = []
    width = len(next(_records([header_line], delimiter, first=first), []))
    line_end = 0
    for record in _records(reader, delimiter, first=0):
        line = line_end + 1
        line_end = reader.line_num
        if line <= first + 1:
            continue
        if not any(cell.strip() for cell in record):
            continue
        extra = [c for c in record[width:] if c.strip()]
        if extra:
            errors.append({"line": line, "reason": _l("row has %(count)s fields, the header has %(width)s",
                                                      count=len(record), width=width)})
            continue
        values = {name: (record[i].strip() if i < len(record) else "") for i, name in mapping.items()}
        rows.append(_Row(line=line, values=values))
    if errors:
        raise ImportFailed(_l("%(rows)s in %(kind)s file; nothing was imported", rows=_count(len(errors), "bad row"),
                              kind=kind),
                           details={"kind": kind, "errors": errors})
    if not rows:
        raise ImportFailed(_l("the %(kind)s file has a header but no data rows", kind=kind), details={"errors": []})
    return kind, rows


# --- field rules -----------------------------------------------------------------------------------

def _required(row: _Row, name: str) -> str:
    value = row.get(name)
    if not value:
        raise _RowError(_l("%(header_names)s is missing", header_names=_HEADER_NAMES[name]))
    return value


def _parse_int(value: str, what: str, *, low: int, high: int) -> int:
    cleaned = value.translate(_NUMBER_SPACES)
    # 1C writes whole numbers as "500,000" or "500.000" when a column is typed as a decimal.
    cleaned = re.sub(r"[.,]0+$", "", cleaned)
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise _RowError(_l("%(what)s %(value)r is not a whole number", what=what, value=value))
    number = int(cleaned)
    if number < low:
        raise _RowError(_l("%(what)s %(value)r must be positive", what=what, value=value) if low == 1
                        else _l("%(what)s %(value)r must be at least %(low)s", what=what, value=value, low=low))
    if number > high:
        raise _RowError(_l("%(what)s %(value)r must be at most %(high)s", what=what, value=value,
                           high=format(high, ",")))
    return number


def _check(row: _Row, errors: list[dict[str, Any]], rule: Callable[[_Row], None]) -> None:
    """Run one row's rule; its first failure becomes the row's error."""
    try:
        rule(row)
    except _RowError as exc:
        errors.append({"line": row.line, "reason": exc.args[0]})
    except DomainError as exc:
        # A bad value (ValidationError) or a state that forbids the row (a batch on hold: Conflict).
        errors.append({"line": row.line, "reason": exc.message})


def _duplicates(rows: Iterable[_Row], key: Callable[[_Row], Any], what: Callable[[Any], str],
                errors: list[dict[str, Any]], bad: set[int]) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        if row.line in bad:
            continue
        k = key(row)
        if k is None:
            continue
        if k in seen:
            errors.append({"line": row.line, "reason": _l("%(what)s already appears on line %(line)s", what=what(k),
                                                          line=seen[k])})
            bad.add(row.line)
        else:
            seen[k] = row.line


# --- products --------------------------------------------------------------------------------------

def _validate_products(session: Session, rows: list[_Row], **_: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []

    def rule(row: _Row) -> None:
        sku = ensure_sku(_required(row, "sku"))
        name = _required(row, "name")
        gtin = normalise_gtin(row.get("gtin"))
        months = _parse_int(row.get("warranty_months") or "24", "warranty months", low=0, high=240)
        if queries.find_product(session, sku) is not None:
            raise _RowError(_l("product %(sku)r already exists", sku=sku))
        if gtin and queries.find_product(session, gtin) is not None:
            raise _RowError(_l("GTIN %(gtin)s already belongs to another product", gtin=gtin))
        row.parsed = {"sku": sku, "name": name, "gtin": gtin, "warranty_months": months}

    for row in rows:
        _check(row, errors, rule)
    bad = {e["line"] for e in errors}
    _duplicates(rows, lambda r: r.parsed.get("sku"), lambda k: _l("article %(sku)r", sku=k), errors, bad)
    _duplicates(rows, lambda r: r.parsed.get("gtin"), lambda k: _l("GTIN %(gtin)s", gtin=k), errors, bad)
    return errors


def _write_products(session: Session, rows: list[_Row], *, progress: Progress | None, **_: Any) -> ImportReport:
    for done, row in enumerate(rows, 1):
        with _at_line(row.line, "products"):
            service.add_product(session, **row.parsed)
        if progress:
            progress(done, len(rows))
    return ImportReport(kind="products", rows=len(rows), products=len(rows))


# --- batches ---------------------------------------------------------------------------------------

def _validate_batches(session: Session, rows: list[_Row], *, today: date) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    products: dict[str, Product | None] = {}

    def rule(row: _Row) -> None:
        number = ensure_code(_required(row, "batch"), what="batch number")
        sku = ensure_sku(_required(row, "sku"))
        produced_on = parse_date(_required(row, "produced_on"), field="produced_on")
        ensure_business_date("produced_on", produced_on, today=today)
        quantity = _parse_int(_required(row, "quantity"), "quantity", low=1, high=MAX_BATCH_QUANTITY)
        supplier, lot = row.get("supplier"), row.get("supplier_lot")
        if lot and not supplier:
            raise _RowError(_l("board lot %(lot)r needs a board supplier", lot=lot))
        if supplier and not lot:
            raise _RowError(_l("board supplier %(supplier)r needs a board lot", supplier=supplier))
        if sku not in products:
            products[sku] = queries.find_product(session, sku)
        product = products[sku]
        if product is None:
            raise _RowError(_l("unknown article %(sku)r", sku=sku))
        if queries.find_batch(session, number, product_id=product.id) is not None:
            raise _RowError(_l("batch %(number)r of %(sku)s already exists", number=number, sku=sku))
        inputs = [service.LotInput(supplier=supplier, part="board", lot_number=lot)] if lot else []
        row.parsed = {"number": number, "product": product, "produced_on": produced_on, "quantity": quantity,
                      "line": row.get("line"), "shift": row.get("shift"), "inputs": inputs}

    for row in rows:
        _check(row, errors, rule)
    bad = {e["line"] for e in errors}
    _duplicates(rows, lambda r: (r.parsed["product"].sku, r.parsed["number"]) if r.parsed else None,
                lambda k: _l("batch %(number)r of %(sku)s", number=k[1], sku=k[0]), errors, bad)
    return errors


def _write_batches(session: Session, rows: list[_Row], *, scheme: service.SerialScheme,
                   author: service.Author | None, progress: Progress | None, today: date) -> ImportReport:
    units = 0
    for done, row in enumerate(rows, 1):
        with _at_line(row.line, "batches"):
            _, serials = service.register_batch(session, scheme=scheme, author=author, today=today, **row.parsed)
        units += len(serials)
        if progress:
            progress(done, len(rows))
    return ImportReport(kind="batches", rows=len(rows), batches=len(rows), units=units)


# --- shipments -------------------------------------------------------------------------------------

def _validate_shipments(session: Session, rows: list[_Row], *, today: date) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    products: dict[str, Product | None] = {}
    batches: dict[tuple[int, str], Batch | None] = {}

    def rule(row: _Row) -> None:
        document = _required(row, "document")
        shipped_on = parse_date(_required(row, "date"), field="shipped_on", what="date")
        ensure_business_date("shipped_on", shipped_on, today=today)
        customer = _required(row, "customer")
        tax_id = row.get("tax_id").translate(_NUMBER_SPACES)
        if tax_id and not (tax_id.isdigit() and len(tax_id) in (10, 12)):
            raise _RowError(_l("tax id %(tax_id)r must be 10 or 12 digits", tax_id=tax_id))
        sku = ensure_sku(_required(row, "sku"))
        number = _required(row, "batch")
        quantity = _parse_int(_required(row, "quantity"), "quantity", low=1, high=MAX_BATCH_QUANTITY)
        if sku not in products:
            products[sku] = queries.find_product(session, sku)
        product = products[sku]
        if product is None:
            raise _RowError(_l("unknown article %(sku)r", sku=sku))
        if (product.id, number) not in batches:
            batches[(product.id, number)] = queries.find_batch(session, number, product_id=product.id)
        batch = batches[(product.id, number)]
        if batch is None:
            raise _RowError(_l("unknown batch %(number)r of article %(sku)r", number=number, sku=sku))
        workflow.ensure_batch_shippable(batch.number, batch.status)
        row.parsed = {"document": document, "shipped_on": shipped_on, "customer": customer, "tax_id": tax_id or None,
                      "sku": product.sku, "batch": batch, "quantity": quantity, "carrier": row.get("carrier")}

    for row in rows:
        _check(row, errors, rule)
    bad = {e["line"] for e in errors}
    _duplicates(rows, lambda r: (_group_key(r), r.parsed["sku"], r.parsed["batch"].number) if r.parsed else None,
                lambda k: _l("batch %(number)s of %(sku)s in document %(document)s", number=k[2], sku=k[1],
                             document=k[0][0]), errors, bad)
    errors.extend(_stock_errors(session, [r for r in rows if r.parsed and r.line not in bad]))
    return errors


def _group_key(row: _Row) -> tuple[str, date, str, str | None]:
    p = row.parsed
    return p["document"], p["shipped_on"], p["customer"], p["tax_id"]


def _stock_errors(session: Session, rows: list[_Row]) -> list[dict[str, Any]]:
    """Rows asking for more units than their batch has left, counted in file order."""
    left: dict[int, int] = {}
    errors: list[dict[str, Any]] = []
    for row in rows:
        batch: Batch = row.parsed["batch"]
        if batch.id not in left:
            left[batch.id] = _available(session, batch)
        if row.parsed["quantity"] > left[batch.id]:
            errors.append({"line": row.line, "reason": _l("batch %(number)s has %(left)s units left, %(asked)s asked",
                                                          number=batch.number, left=left[batch.id],
                                                          asked=row.parsed["quantity"])})
        else:
            left[batch.id] -= row.parsed["quantity"]
    return errors


def _available(session: Session, batch: Batch) -> int:
    """Units of a batch a row can still ship: its stock serials (workflow.BATCH_STOCK, what a batch line picks), or
    the unshipped quantity of unserialised goods."""
    serialised = session.scalar(select(func.count()).select_from(Unit).where(Unit.batch_id == batch.id))
    if serialised:
        return session.scalar(select(func.count()).select_from(Unit).where(
            Unit.batch_id == batch.id, Unit.status.in_(sorted(workflow.BATCH_STOCK))))
    shipped = session.scalar(select(func.coalesce(func.sum(ShipmentItem.quantity), 0)).where(
        ShipmentItem.batch_id == batch.id, ShipmentItem.unit_id.is_(None)))
    return max(batch.quantity - shipped, 0)


def _write_shipments(session: Session, rows: list[_Row], *, author: service.Author | None,
                     progress: Progress | None, today: date, **_: Any) -> ImportReport:
    groups: dict[tuple, list[_Row]] = {}
    for row in rows:
        groups.setdefault(_group_key(row), []).append(row)
    customers_before = session.scalar(select(func.count()).select_from(Customer))
    done = shipped = 0
    for (document, shipped_on, name, tax_id), group in groups.items():
        lines = [service.BatchLine(batch=r.parsed["batch"].number, quantity=r.parsed["quantity"], sku=r.parsed["sku"])
                 for r in group]
        carrier = next((r.parsed["carrier"] for r in group if r.parsed["carrier"]), "")
        try:
            customer = service.get_or_create_customer(session, name=name, tax_id=tax_id)
            service.create_shipment(session, customer=customer, shipped_on=shipped_on, batch_lines=lines,
                                    reference=document, carrier=carrier, author=author, today=today)
        except DomainError as exc:
            raise _failed_at(_culprit(group, exc.message).line, "shipments", exc) from exc
        done += len(group)
        shipped += sum(r.parsed["quantity"] for r in group)
        if progress:
            progress(done, len(rows))
    customers = session.scalar(select(func.count()).select_from(Customer)) - customers_before
    return ImportReport(kind="shipments", rows=len(rows), shipments=len(groups), shipped_units=shipped,
                        customers_created=customers)


def _culprit(group: list[_Row], message: str) -> _Row:
    """The row of a shipment group that an error message names by batch number (else the group's first row)."""
    return next((r for r in group if re.search(rf"\b{re.escape(r.parsed['batch'].number)}\b", message)), group[0])


class _at_line:
    """Turn a domain error raised while writing one row into an ImportFailed naming that row's line."""

    def __init__(self, line: int, kind: str) -> None:
        self.line, self.kind = line, kind

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, DomainError) and not isinstance(exc, ImportFailed):
            raise _failed_at(self.line, self.kind, exc) from exc
        return False


def _failed_at(line: int, kind: str, exc: DomainError) -> ImportFailed:
    return ImportFailed(_l("line %(line)s of the %(kind)s file failed: %(message)s; nothing was imported", line=line,
                           kind=kind, message=exc.message),
                        details={"kind": kind, "errors": [{"line": line, "reason": exc.message}]})
