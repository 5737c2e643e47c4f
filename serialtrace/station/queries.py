"""Station reads: what a scan names resolved to units, batches or claims (never guessed), recent scans, profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..trace import queries as trace_queries
from ..trace.models import Batch, Product, Unit
from ..warranty.models import Claim
from .models import ScanLog, ScannerStation
from .policy import RAW_MAX, station_key


@dataclass(frozen=True)
class Match:
    """One thing a scan may mean."""

    kind: str  # unit | batch | claim
    id: int
    label: str
    serial: str | None = None
    batch: str | None = None
    product_sku: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


def resolve(session: Session, *, gtin: str | None = None, serial: str | None = None, batch: str | None = None,
            text: str | None = None) -> list[Match]:
    """Every unit, batch or claim the scanned fields can mean; the caller lists several, never picks one."""
    product = trace_queries.find_product(session, gtin) if gtin else None
    if gtin and product is None:
        return []
    if serial:
        return _units(session, serial, product)
    if batch:
        return _batches(session, batch, product)
    if text:
        text = text.strip()
        matches = _units(session, text, None) + _batches(session, text, None)
        claim = session.scalars(select(Claim).where(Claim.number == text)).first()
        if claim is not None:
            matches.append(Match("claim", claim.id, f"claim {claim.number}"))
        return matches
    return []


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
    station = find_station(session, name)
    return dict(station.profile) if station is not None else None


def list_stations(session: Session) -> list[ScannerStation]:
    """Every calibrated station by name."""
    return list(session.scalars(select(ScannerStation).order_by(ScannerStation.name)))
