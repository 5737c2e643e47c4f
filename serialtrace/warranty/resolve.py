"""Turn what a scan names (GTIN, serial, batch, free text) into the units or batches it matches; never guess."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..trace import queries
from ..trace.models import Batch, Product, Unit
from .models import Claim


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
    product = queries.find_product(session, gtin) if gtin else None
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
