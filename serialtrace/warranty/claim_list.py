"""Reads of the claims list: one filtered, sorted, limited query over the indexed claim columns, and the choices of
its filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..trace.models import Customer, Product, Unit, search_key
from ..trace.queries import prefix_end
from .models import Claim

# The customer select of a form lists at most this many (a longer list is not a select any more).
CUSTOMER_CHOICES = 500


@dataclass(frozen=True)
class ClaimFilter:
    """What the claims list is narrowed to; None or empty: no narrowing."""

    state: str | None = None
    customer_id: int | None = None
    product_id: int | None = None
    # "My claims": the claims this user registered or is assigned.
    user_id: int | None = None
    # The start of a claim number or a unit serial.
    text: str = ""
    newest_first: bool = True


def _starts_with(column: Any, text: str) -> Any:
    """`column` starts with `text`, as a key range the column's index answers (LIKE would not use it everywhere)."""
    end = prefix_end(text)
    return column >= text if end is None else (column >= text) & (column < end)


def list_claims(session: Session, where: ClaimFilter, *, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """Claims matching `where`, by opening time, `limit` rows from `offset`, with unit, product and customer."""
    stmt = (select(Claim.id, Claim.number, Claim.state, Claim.priority, Claim.symptom, Claim.channel,
                   Claim.opened_at, Claim.closed_at, Unit.serial, Product.sku, Customer.name.label("customer"))
            .join(Unit, Unit.id == Claim.unit_id).join(Product, Product.id == Unit.product_id)
            .outerjoin(Customer, Customer.id == Claim.customer_id))
    if where.state:
        stmt = stmt.where(Claim.state == where.state)
    if where.customer_id is not None:
        stmt = stmt.where(Claim.customer_id == where.customer_id)
    if where.product_id is not None:
        stmt = stmt.where(Unit.product_id == where.product_id)
    if where.user_id is not None:
        stmt = stmt.where(or_(Claim.author_id == where.user_id, Claim.assignee_id == where.user_id))
    if where.text:
        # Claim numbers are stored upper-case (CL-000123); serials are searched by their upper-cased key.
        stmt = stmt.where(or_(_starts_with(Claim.number, where.text.upper()),
                              _starts_with(Unit.serial_key, search_key(where.text))))
    order = (Claim.opened_at.desc(), Claim.id.desc()) if where.newest_first else (Claim.opened_at, Claim.id)
    rows = session.execute(stmt.order_by(*order).offset(offset).limit(limit)).all()
    return [{"id": r.id, "number": r.number, "state": r.state, "priority": r.priority, "symptom": r.symptom,
             "channel": r.channel, "opened_at": r.opened_at, "closed_at": r.closed_at, "serial": r.serial,
             "product": r.sku, "customer": r.customer} for r in rows]


def list_customers(session: Session, *, limit: int = CUSTOMER_CHOICES) -> list[tuple[int, str]]:
    """(id, name) of customers by name, for a form's select."""
    return [(r.id, r.name) for r in session.execute(select(Customer.id, Customer.name)
                                                    .order_by(Customer.name, Customer.id).limit(limit))]


def list_products(session: Session) -> list[tuple[int, str, str]]:
    """(id, sku, name) of every product by SKU, for the list's product filter."""
    return [(r.id, r.sku, r.name) for r in session.execute(select(Product.id, Product.sku, Product.name)
                                                           .order_by(Product.sku))]
