"""Set-based writes for large volumes (demo data, bulk loads): ranges of units per statement, no ORM object per unit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Integer, and_, insert, literal, select
from sqlalchemy.orm import Session

from ..errors import Contention
from ..i18n import _l
from . import service, workflow
from .enums import EventKind, UnitStatus
from .models import Batch, Shipment, ShipmentItem, Unit
from .service import Author

# Shipped events carry the shipment's day; noon UTC keeps the date the same in every time zone we serve.
_SHIP_TIME = time(12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class RangeShipment:
    """A shipment of the stock units of one batch whose ids lie in [first_unit_id, last_unit_id]."""

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
    """Create each shipment and ship its unit range: items, `shipped` events and status in set-based statements.

    The range ships the batch's stock (workflow.BATCH_STOCK) in it; a batch that may not ship
    (workflow.ensure_batch_shippable) is a conflict. Returns (shipment id, units shipped) per shipment, in order.
    Flushes; the caller commits.
    """
    conn = session.connection()
    unit, item = Unit.__table__, ShipmentItem.__table__
    batches: dict[int, Any] = {}
    results: list[tuple[int, int]] = []
    for s in shipments:
        if s.batch_id not in batches:
            batches[s.batch_id] = session.execute(
                select(Batch.number, Batch.status).where(Batch.id == s.batch_id)).first()
        batch = batches[s.batch_id]
        workflow.ensure_batch_shippable(batch.number if batch else f"id {s.batch_id}", batch.status if batch else None)
        shipment_id = conn.execute(insert(Shipment.__table__).returning(Shipment.__table__.c.id).values(
            customer_id=s.customer_id, shipped_on=s.shipped_on, reference=s.reference, carrier=s.carrier,
            destination=s.destination, attributes=service.json_payload(s.attributes),
            created_at=datetime.now(UTC),
        )).scalar_one()
        in_range = and_(unit.c.batch_id == s.batch_id, unit.c.id.between(s.first_unit_id, s.last_unit_id),
                        unit.c.status.in_(sorted(workflow.BATCH_STOCK)))
        items = conn.execute(insert(item).from_select(
            ["shipment_id", "unit_id", "batch_id", "quantity"],
            select(literal(shipment_id, Integer), unit.c.id, unit.c.batch_id, literal(1, Integer)).where(in_range),
        ), execution_options={"preserve_rowcount": True}).rowcount
        # Items were selected from the same stock rows this status change now moves.
        count = service.set_unit_status(session, units=in_range, to=UnitStatus.SHIPPED, kind=EventKind.SHIPPED,
                                        at=datetime.combine(s.shipped_on, _SHIP_TIME), author=author,
                                        payload=service.shipped_payload(shipment_id=shipment_id, reference=s.reference,
                                                                        shipped_on=s.shipped_on,
                                                                        customer_id=s.customer_id))
        if count != items:
            raise Contention(_l("units of batch %(number)s changed while shipment %(value)s was written; nothing was "
                                "changed, try again", number=batch.number, value=s.reference or shipment_id))
        results.append((shipment_id, count))
    return results

