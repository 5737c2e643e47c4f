"""Station reads: what a scan names resolved to units, batches, claims, lots or products (never guessed), what
the signal needs to know about it, the scan log (recent scans, earlier scans of the same thing), profiles."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, String, bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..i18n import _l
from ..trace import queries as trace_queries
from ..trace.models import Batch, BatchEvent, ComponentLot, Product, Unit
from ..warranty.dossier import unit_dossier
from ..warranty.models import Claim
from .models import ScanLog, ScannerStation
from .policy import HELD_BATCH_STATES, RAW_MAX, station_key


@dataclass(frozen=True)
class Match:
    """One thing a scan may mean."""

    kind: str  # unit | batch | claim | lot | product
    id: int
    label: str
    serial: str | None = None
    batch: str | None = None
    product_sku: str | None = None
    number: str | None = None  # a claim's number

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


def resolve(session: Session, *, gtin: str | None = None, serial: str | None = None, batch: str | None = None,
            text: str | None = None) -> list[Match]:
    """Every unit, batch, claim, component lot or product the scanned fields can mean; the caller lists several,
    never picks one."""
    if gtin and serial:
        # The common GS1 label: the product and its unit in one round trip.
        return _units_of_gtin(session, gtin, serial)
    product = trace_queries.find_product(session, gtin) if gtin else None
    if gtin and product is None:
        # Not one of our GTINs: a supplier's label, whose (10) is the lot of a part that went into our batches.
        return _lots(session, batch) if batch and not serial else []
    if serial:
        return _units(session, serial, product)
    if batch:
        return _batches(session, batch, product)
    if product is not None:
        return [_product(product)]
    if text:
        text = text.strip()
        matches = _text_matches(session, text)
        if text.isdigit() and len(text) in GTIN_LENGTHS:
            found = trace_queries.find_product(session, text)
            if found is not None and found.gtin is not None:
                matches.append(_product(found))
        return matches
    return []


# Digits of the GTIN forms (GTIN-8, UPC-A, EAN-13, GTIN-14) typed or scanned as plain text.
GTIN_LENGTHS = (8, 12, 13, 14)


def _lots(session: Session, number: str) -> list[Match]:
    # One match per lot number: its page lists every supplier's lot that carries it.
    lots = trace_queries.list_lots_by_number(session, number)
    return _lot_match([(lot.id, lot.lot_number, lot.part, lot.supplier) for lot in lots])


def _lot_match(lots: list[tuple[int, str, str, str]]) -> list[Match]:
    """The one match of a lot number's (id, lot number, part, supplier) rows, by part, supplier and id."""
    if not lots:
        return []
    parts = ", ".join(sorted({f"{part} · {supplier}" for _id, _number, part, supplier in lots}))
    first_id, number = lots[0][0], lots[0][1]
    return [Match("lot", first_id, _l("lot %(lot)s · %(parts)s", lot=number, parts=parts), batch=number)]


# Statements of the scan path are built once with bound parameters: building a union of selects took longer in
# Python than PostgreSQL takes to run it.

@cache
def _text_matches_stmt() -> Select:
    text, none = bindparam("text", type_=String), literal(None, String)
    units = (select(literal(0).label("kind"), Unit.id, Unit.serial.label("serial"), Batch.number.label("number"),
                    Product.sku.label("sku"), none.label("part"), none.label("supplier"))
             .join(Product, Product.id == Unit.product_id).join(Batch, Batch.id == Unit.batch_id)
             .where((Unit.serial == text) | (Unit.external_code == text)))
    batches = (select(literal(1), Batch.id, none, Batch.number, Product.sku, none, none)
               .join(Product, Product.id == Batch.product_id).where(Batch.number == text))
    # Claim numbers are unique: at most one row.
    claims = (select(literal(2), Claim.id, Unit.serial, Claim.number, Product.sku, none, none)
              .join(Unit, Unit.id == Claim.unit_id).join(Product, Product.id == Unit.product_id)
              .where(Claim.number == text))
    lots = select(literal(3), ComponentLot.id, none, ComponentLot.lot_number, none, ComponentLot.part,
                  ComponentLot.supplier).where(ComponentLot.lot_number == text)
    every = union_all(units, batches, claims, lots).subquery()
    return select(every).order_by(every.c.kind, every.c.part, every.c.supplier, every.c.id)


def _text_matches(session: Session, text: str) -> list[Match]:
    """The units, batches, claim and component lot that plain text names, in that order, read in one round trip
    (a bare serial is most scans)."""
    rows = session.execute(_text_matches_stmt(), {"text": text}).all()
    matches = []
    for r in rows:
        if r.kind == 0:
            matches.append(Match("unit", r.id, f"{r.sku} {r.serial}", serial=r.serial, batch=r.number,
                                 product_sku=r.sku))
        elif r.kind == 1:
            matches.append(Match("batch", r.id, f"{r.sku} batch {r.number}", batch=r.number, product_sku=r.sku))
        elif r.kind == 2:
            # Opened as the unit's dossier at this claim until claims have a page of their own.
            matches.append(Match("claim", r.id, f"claim {r.number}", serial=r.serial, product_sku=r.sku,
                                 number=r.number))
    return matches + _lot_match([(r.id, r.number, r.part, r.supplier) for r in rows if r.kind == 3])


@cache
def _units_of_gtin_stmt(by_gtin: bool) -> Select:
    # The product as trace_queries.find_product selects it: by SKU, or by GTIN when the key has a GTIN's digits.
    product = Product.sku == bindparam("key", type_=String)
    if by_gtin:
        product = product | (Product.gtin == bindparam("gtin", type_=String))
    serial = bindparam("serial", type_=String)
    return (select(Product.id.label("product_id"), Unit.id, Unit.serial, Product.sku, Batch.number)
            .select_from(Product)
            .outerjoin(Unit, (Unit.product_id == Product.id)
                       & ((Unit.serial == serial) | (Unit.external_code == serial)))
            .outerjoin(Batch, Batch.id == Unit.batch_id)
            .where(product))


def _units_of_gtin(session: Session, gtin: str, serial: str) -> list[Match]:
    """resolve() of a GTIN and a serial: the unit with this serial of the product find_product finds for the GTIN;
    none when the GTIN is not ours or its product has no such unit."""
    key = gtin.strip()
    by_gtin = key.isdigit() and len(key) in GTIN_LENGTHS
    rows = session.execute(_units_of_gtin_stmt(by_gtin),
                           {"key": key, "serial": serial, **({"gtin": key.zfill(14)} if by_gtin else {})}).all()
    # find_product takes the first product matching the key; only its units count.
    first = rows[0].product_id if rows else None
    return [Match("unit", r.id, f"{r.sku} {r.serial}", serial=r.serial, batch=r.number, product_sku=r.sku)
            for r in rows if r.product_id == first and r.id is not None]


def _product(product: Product) -> Match:
    return Match("product", product.id, f"{product.sku} {product.name}", product_sku=product.sku)


def _units(session: Session, serial: str, product: Product | None) -> list[Match]:
    rows = session.execute(
        select(Unit.id, Unit.serial, Product.sku, Batch.number)
        .join(Product, Product.id == Unit.product_id).join(Batch, Batch.id == Unit.batch_id)
        .where((Unit.serial == serial) | (Unit.external_code == serial))
        .where(True if product is None else Unit.product_id == product.id)
    ).all()
    return [Match("unit", r.id, f"{r.sku} {r.serial}", serial=r.serial, batch=r.number, product_sku=r.sku)
            for r in rows]


def _batches(session: Session, number: str, product: Product | None) -> list[Match]:
    rows = session.execute(
        select(Batch.id, Batch.number, Product.sku).join(Product, Product.id == Batch.product_id)
        .where(Batch.number == number).where(True if product is None else Batch.product_id == product.id)
    ).all()
    return [Match("batch", r.id, f"{r.sku} batch {r.number}", batch=r.number, product_sku=r.sku) for r in rows]


def find_recent_scan(session: Session, *, raw: str, station: str, since: datetime, user: Any = None) -> ScanLog | None:
    """The latest logged scan of `raw` at `station` since `since`; without a station name, by the same user."""
    stmt = (select(ScanLog).where(ScanLog.station == station_key(station), ScanLog.raw == raw[:RAW_MAX],
                                  ScanLog.scanned_at >= since)
            .order_by(ScanLog.scanned_at.desc()).limit(1))
    if not station:
        # Unnamed API clients are told apart by who they are, so two of them never swallow each other's scans.
        stmt = stmt.where(ScanLog.user_id == getattr(user, "id", None))
    return session.scalars(stmt).first()


def find_station(session: Session, name: str) -> ScannerStation | None:
    """The station called `name` (trimmed), or None when it was never calibrated."""
    if not name or not name.strip():
        return None
    return session.scalars(select(ScannerStation).where(ScannerStation.name == name.strip())).first()


def find_station_profile(session: Session, name: str) -> dict[str, Any] | None:
    """The saved profile of station `name`, or None when the station was never calibrated."""
    if not name or not name.strip():
        return None
    # The profile alone: every scan asks, and the rest of the row is not needed.
    profile = session.scalars(select(ScannerStation.profile).where(ScannerStation.name == name.strip())).first()
    return dict(profile) if profile is not None else None


def list_stations(session: Session) -> list[ScannerStation]:
    """Every calibrated station by name."""
    return list(session.scalars(select(ScannerStation).order_by(ScannerStation.name)))


# ---- what the signal needs to know about what a scan found ----

def scan_facts(session: Session, match: dict[str, Any], *, today: date, grace_days: int = 0,
               dossier: dict[str, Any] | None = None) -> dict[str, Any]:
    """The facts policy.scan_signal judges for one match: a unit's dossier (given, or read), a batch's status (with
    why it is held or recalled), a claim's unit dossier with the claim; nothing for lots and products."""
    facts = _facts(session, match, today=today, grace_days=grace_days, dossier=dossier)
    batch = facts.get("batch") or {}
    if batch.get("id") and batch.get("status") in HELD_BATCH_STATES:
        # The reason of the change that held it: a lot's hold names the lot and its reason there.
        reason = session.scalar(select(BatchEvent.reason).where(
            BatchEvent.batch_id == batch["id"], BatchEvent.to_status == batch["status"])
            .order_by(BatchEvent.id.desc()).limit(1))
        if reason:
            facts = {**facts, "batch": {**batch, "hold_reason": reason}}
    return facts


def _facts(session: Session, match: dict[str, Any], *, today: date, grace_days: int = 0,
           dossier: dict[str, Any] | None = None) -> dict[str, Any]:
    """scan_facts before the batch's hold reason."""
    kind = match.get("kind")
    if kind == "unit":
        unit = session.get(Unit, match["id"])
        return dossier or (unit_dossier(session, unit, today=today, grace_days=grace_days) if unit else {})
    if kind == "batch":
        batch = session.get(Batch, match["id"])
        return {"batch": {"id": batch.id, "number": batch.number, "status": batch.status}} if batch else {}
    if kind == "claim":
        claim = session.get(Claim, match["id"])
        unit = session.get(Unit, claim.unit_id) if claim else None
        if unit is None:
            return {}
        facts = dict(unit_dossier(session, unit, today=today, grace_days=grace_days))
        facts["claim"] = {"number": claim.number, "state": claim.state}
        return facts
    return {}


# ---- the scan log ----

@dataclass(frozen=True)
class ScanFilter:
    """Which logged scans to list: by station, user name, result and a time range [since, until)."""

    station: str | None = None
    username: str | None = None
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Only this user's scans (an unnamed station's log is its user's own).
    user_id: int | None = None


SCAN_COLUMNS = ["scanned_at", "station", "user", "source", "raw", "kind", "result", "serial", "batch",
                "product_sku"]


def _scan_rows(where: ScanFilter) -> Select:
    """The scan log with who scanned and what it matched, newest first, narrowed by `where`."""
    batch_id = func.coalesce(ScanLog.batch_id, Unit.batch_id)
    stmt = (select(ScanLog.id, ScanLog.scanned_at, ScanLog.station, User.username.label("user"), ScanLog.source,
                   ScanLog.raw, ScanLog.kind, ScanLog.result, Unit.serial, Batch.number.label("batch"),
                   Product.sku.label("product_sku"))
            .outerjoin(User, User.id == ScanLog.user_id)
            .outerjoin(Unit, Unit.id == ScanLog.unit_id)
            .outerjoin(Batch, Batch.id == batch_id)
            .outerjoin(Product, Product.id == Batch.product_id)
            .order_by(ScanLog.scanned_at.desc(), ScanLog.id.desc()))
    if where.station is not None:
        stmt = stmt.where(ScanLog.station == station_key(where.station))
    if where.username:
        stmt = stmt.where(User.username == where.username)
    if where.result:
        stmt = stmt.where(ScanLog.result == where.result)
    if where.since is not None:
        stmt = stmt.where(ScanLog.scanned_at >= where.since)
    if where.until is not None:
        stmt = stmt.where(ScanLog.scanned_at < where.until)
    if where.user_id is not None:
        stmt = stmt.where(ScanLog.user_id == where.user_id)
    return stmt


def list_scans(session: Session, where: ScanFilter, *, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """One page of the scan log, newest first (rows shaped as SCAN_COLUMNS plus the log id)."""
    rows = session.execute(_scan_rows(where).offset(offset).limit(limit))
    return [dict(row._mapping) for row in rows]


def iter_scans(session: Session, where: ScanFilter) -> Iterator[dict[str, Any]]:
    """Every logged scan `where` selects, newest first, streamed (for the CSV export)."""
    for row in session.execute(_scan_rows(where).execution_options(yield_per=2000)):
        yield dict(row._mapping)


def list_recent_scans(session: Session, *, station: str, user: Any = None, limit: int = 10) -> list[dict[str, Any]]:
    """The latest scans of `station`; without a station name, the user's own scans at unnamed stations."""
    where = ScanFilter(station=station, user_id=None if station_key(station) else getattr(user, "id", -1))
    return list_scans(session, where, limit=limit)


def find_previous_scan(session: Session, *, station: str, before: datetime, user: Any = None,
                       unit_id: int | None = None, batch_id: int | None = None,
                       raw: str | None = None) -> dict[str, Any] | None:
    """The latest scan of the same unit (else batch, else text) at `station` before `before`, with who scanned it;
    an unnamed station's are the user's own. None when it was never scanned there."""
    stmt = (select(ScanLog.scanned_at, ScanLog.station, ScanLog.result, User.username)
            .outerjoin(User, User.id == ScanLog.user_id)
            .where(ScanLog.station == station_key(station), ScanLog.scanned_at < before)
            .order_by(ScanLog.scanned_at.desc()).limit(1))
    if unit_id is not None:
        stmt = stmt.where(ScanLog.unit_id == unit_id)
    elif batch_id is not None:
        stmt = stmt.where(ScanLog.batch_id == batch_id)
    elif raw is not None:
        stmt = stmt.where(ScanLog.raw == raw[:RAW_MAX])
    else:
        return None
    if not station_key(station):
        stmt = stmt.where(ScanLog.user_id == getattr(user, "id", None))
    row = session.execute(stmt).first()
    return None if row is None else {"at": row.scanned_at, "station": row.station, "result": row.result,
                                     "user": row.username}


@cache
def _history_stmt(by: str, named: bool, anonymous: bool) -> Select:
    """find_scan_history's statement: the previous scan `by` unit, batch or raw text, at a named station or by
    one user (`anonymous`: no user), and the repeat check."""
    station, raw = bindparam("station", type_=String), bindparam("raw", type_=String)
    recent = (select(literal(1).label("which"), ScanLog.scanned_at, ScanLog.station, ScanLog.result,
                     literal(None, String).label("username"))
              .where(ScanLog.station == station, ScanLog.raw == raw, ScanLog.scanned_at >= bindparam("since"))
              .order_by(ScanLog.scanned_at.desc()).limit(1))
    previous = (select(literal(0).label("which"), ScanLog.scanned_at, ScanLog.station, ScanLog.result,
                       User.username)
                .outerjoin(User, User.id == ScanLog.user_id)
                .where(ScanLog.station == station, ScanLog.scanned_at < bindparam("now"))
                .order_by(ScanLog.scanned_at.desc()).limit(1))
    target = {"unit": ScanLog.unit_id == bindparam("unit_id"), "batch": ScanLog.batch_id == bindparam("batch_id"),
              "raw": ScanLog.raw == raw}
    previous = previous.where(target[by])
    if not named:
        # Unnamed API clients are told apart by who they are, as in find_recent_scan and find_previous_scan.
        user = ScanLog.user_id.is_(None) if anonymous else ScanLog.user_id == bindparam("user_id")
        recent, previous = recent.where(user), previous.where(user)
    # By name, so both halves of the union list their columns in the same order.
    return union_all(*(select(q.c.which, q.c.scanned_at, q.c.station, q.c.result, q.c.username)
                       for q in (recent.subquery(), previous.subquery())))


def find_scan_history(session: Session, *, raw: str, station: str, now: datetime, since: datetime, user: Any = None,
                      unit_id: int | None = None, batch_id: int | None = None) -> tuple[dict[str, Any] | None, bool]:
    """What find_previous_scan finds before `now` (the unit, else the batch, else `raw`) and whether
    find_recent_scan finds `raw` since `since`, in one statement: every scan asks both."""
    key = station_key(station)
    user_id = getattr(user, "id", None)
    by = "unit" if unit_id is not None else "batch" if batch_id is not None else "raw"
    params = {"station": key, "raw": raw[:RAW_MAX], "since": since, "now": now, "unit_id": unit_id,
              "batch_id": batch_id, "user_id": user_id}
    stmt = _history_stmt(by, bool(key), user_id is None)
    rows = session.execute(stmt, {k: v for k, v in params.items() if v is not None}).all()
    found = next((r for r in rows if r.which == 0), None)
    previous = None if found is None else {"at": found.scanned_at, "station": found.station, "result": found.result,
                                           "user": found.username}
    return previous, any(r.which == 1 for r in rows)
