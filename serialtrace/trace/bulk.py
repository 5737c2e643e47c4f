"""Set-based writes for large volumes (demo data, bulk loads): ranges of units per statement, never one ORM object per unit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import DateTime, Integer, String, bindparam, insert, literal, select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationError
from ..columns import JsonType
from .enums import BatchStatus, EventKind, UnitStatus
from .models import Batch, Shipment, ShipmentItem, Unit, UnitEvent
from .service import Author, author_fields

# Shipped events carry the shipment's day; noon UTC keeps the date the same in every time zone we serve.
_SHIP_TIME = time(12, 0, tzinfo=timezone.utc)
_EVENT_KINDS = frozenset(k.value for k in EventKind)
_UNIT_STATUSES = frozenset(s.value for s in UnitStatus)


@dataclass(frozen=True)
class RangeShipment:
    """A shipment of the in-stock units of one batch whose ids lie in [first_unit_id, last_unit_id]."""

    customer_id: int
    shipped_on: date
    batch_id: int
    first_unit_id: int
    last_unit_id: int
    reference: str = ""
    carrier: str = ""
    destination: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)


def ship_unit_ranges(session: Session, *, shipments: Sequence[RangeShipment],
                     author: Author | None = None) -> list[tuple[int, int]]:
    """Create each shipment and ship its unit range: items, `shipped` events and status in three set-based statements.

    Returns (shipment id, units shipped) per shipment, in order. Flushes; the caller commits.
    """
    conn = session.connection()
    unit, item, event = Unit.__table__, ShipmentItem.__table__, UnitEvent.__table__
    who = author_fields(author)
    statuses: dict[int, str | None] = {}
    results: list[tuple[int, int]] = []
    for s in shipments:
        if s.batch_id not in statuses:
            statuses[s.batch_id] = session.scalar(select(Batch.status).where(Batch.id == s.batch_id))
        if statuses[s.batch_id] != BatchStatus.RELEASED:
            raise Conflict(f"batch id {s.batch_id} is {statuses[s.batch_id] or 'missing'}; it cannot be shipped")
        shipment_id = conn.execute(insert(Shipment.__table__).returning(Shipment.__table__.c.id).values(
            customer_id=s.customer_id, shipped_on=s.shipped_on, reference=s.reference, carrier=s.carrier,
            destination=s.destination, attributes=_jsonable(s.attributes), created_at=datetime.now(timezone.utc),
        )).scalar_one()
        in_range = (unit.c.batch_id == s.batch_id, unit.c.id.between(s.first_unit_id, s.last_unit_id),
                    unit.c.status == UnitStatus.IN_STOCK.value)
        conn.execute(insert(item).from_select(
            ["shipment_id", "unit_id", "batch_id", "quantity"],
            select(literal(shipment_id, Integer), unit.c.id, unit.c.batch_id, literal(1, Integer)).where(*in_range),
        ))
        payload = {"shipment_id": shipment_id, "reference": s.reference, "shipped_on": s.shipped_on.isoformat(),
                   "customer_id": s.customer_id}
        conn.execute(insert(event).from_select(
            ["unit_id", "kind", "at", "author_id", "author", "payload"],
            select(unit.c.id, literal(EventKind.SHIPPED.value, String),
                   literal(datetime.combine(s.shipped_on, _SHIP_TIME), DateTime),
                   literal(who["author_id"], Integer), literal(who["author"], String), literal(payload, JsonType))
            .where(*in_range),
        ))
        # Items and events were selected from the same in-stock rows this UPDATE now flips.
        count = conn.execute(update(unit).where(*in_range).values(status=UnitStatus.SHIPPED.value)).rowcount
        results.append((shipment_id, count))
    return results


def append_events(session: Session, *, events: Iterable[Mapping[str, Any]], author: Author | None = None) -> int:
    """Append unit events given as dicts of unit_id, kind, at and payload with one executemany; returns the count."""
    who = author_fields(author)
    rows = []
    for e in events:
        if e["kind"] not in _EVENT_KINDS:
            raise ValidationError(f"unknown event kind {e['kind']!r}")
        rows.append({"unit_id": e["unit_id"], "kind": str(e["kind"]), "at": e["at"],
                     "author_id": e.get("author_id", who["author_id"]), "author": e.get("author", who["author"]),
                     "payload": _jsonable(e.get("payload") or {})})
    if rows:
        session.connection().execute(insert(UnitEvent.__table__), rows)
    return len(rows)


def set_unit_statuses(session: Session, *, changes: Iterable[tuple[int, str]]) -> int:
    """Set the status of many units (unit id, status) with one executemany; returns the count."""
    rows = []
    for unit_id, status in changes:
        if status not in _UNIT_STATUSES:
            raise ValidationError(f"unknown unit status {status!r}")
        rows.append({"target_id": unit_id, "new_status": str(status)})
    if rows:
        table = Unit.__table__
        session.connection().execute(
            update(table).where(table.c.id == bindparam("target_id")).values(status=bindparam("new_status")), rows)
    return len(rows)


def _jsonable(value: Mapping[str, Any]) -> dict[str, Any]:
    """Dates and other plain objects as JSON-safe values, as record_event stores them."""
    return json.loads(json.dumps(dict(value), default=str))
