"""Recall campaigns: started from a batch, a component lot or a filter, followed customer by customer, closed.

The units a campaign recalls are the units of its batches that are out with customers when it starts, each with
the customer of its last shipment. A unit counts as returned under the recall when it came back after the campaign
started (recall_queries reads that from the unit's events and cases, so every way of taking a unit back counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.enums import Role
from ..columns import utcnow
from ..errors import Conflict, InvalidTransition, NotFound, ValidationError
from ..i18n import _l
from ..trace import genealogy, lots
from ..trace import queries as trace_queries
from ..trace.enums import BatchStatus
from ..trace.models import Batch, BatchEvent, ComponentLot
from ..trace.policy import MAX_INT
from ..trace.service import Author, allocate_counter, author_fields, ensure_text, set_batch_status
from .models import RecallCampaign, RecallCustomer, RecallNote, RecallUnit

# Who starts, follows and closes campaigns (admins always); coordinators may read them, as they read recall lists.
RECALL_MANAGERS: tuple[str, ...] = (Role.QUALITY, Role.SUPERVISOR)
RECALL_READERS: tuple[str, ...] = (Role.COORDINATOR, Role.QUALITY, Role.SUPERVISOR)
RECALL_COUNTER = "recall"
OPEN, CLOSED = "open", "closed"
SCOPES = ("batch", "lot", "filter")
_EVENT_REASON = BatchEvent.__table__.c.reason.type.length


class RecallStatus(StrEnum):
    """Where a customer stands in a campaign; it moves one step on, or one step back with a note."""

    TO_CONTACT = "to_contact"
    CONTACTED = "contacted"
    UNITS_RETURNED = "units_returned"
    CLOSED = "closed"


STEPS: tuple[RecallStatus, ...] = tuple(RecallStatus)
RECALL_STATUS_LABELS: dict[str, str] = {
    RecallStatus.TO_CONTACT: _l("To contact"),
    RecallStatus.CONTACTED: _l("Contacted"),
    RecallStatus.UNITS_RETURNED: _l("Units returned"),
    RecallStatus.CLOSED: _l("Closed"),
}
CAMPAIGN_STATE_LABELS: dict[str, str] = {OPEN: _l("Open"), CLOSED: _l("Closed")}


def recall_number(value: int) -> str:
    """The printed number of the recall counter's value: RC-000042."""
    return f"RC-{value:06d}"


def ensure_step(current: str, target: str, *, note: str) -> None:
    """A customer's status may move one step on, or one step back with a note; anything else is refused."""
    if target not in STEPS:
        raise ValidationError(_l("status %(value)r is not known; use one of %(allowed)s", value=target,
                                 allowed=", ".join(STEPS)), details={"field": "status"})
    here, there = STEPS.index(RecallStatus(current)), STEPS.index(RecallStatus(target))
    if there == here - 1 and not note:
        raise ValidationError(_l("going back from %(current)s to %(target)s needs a note saying why",
                                 current=current, target=target), details={"field": "note"})
    if there not in (here + 1, here - 1):
        raise InvalidTransition(_l("cannot move a recall customer from %(current)s to %(target)s (one step on, or "
                                   "one step back with a note)", current=current, target=target),
                                details={"status": current, "to": target})


def _text(value: Any, field: str, column: Any, *, required: bool = False) -> str:
    return ensure_text(value, field=field, column=column, required=required)


def _lock_batches(session: Session, batch_ids: Sequence[int]) -> list[Batch]:
    """The batches locked in id order (PostgreSQL), so two campaigns over one batch queue and the second sees the
    first."""
    return list(session.scalars(select(Batch).where(Batch.id.in_(sorted(set(batch_ids)))).order_by(Batch.id)
                                .with_for_update()))


def open_campaign_of(session: Session, batch_ids: Sequence[int]) -> tuple[RecallCampaign, int] | None:
    """An open campaign recalling one of the batches, with that batch's id, or None."""
    wanted = set(batch_ids)
    for campaign in session.scalars(select(RecallCampaign).where(RecallCampaign.state == OPEN)
                                    .order_by(RecallCampaign.id)):
        common = wanted.intersection(campaign.scope.get("batch_ids") or ())
        if common:
            return campaign, min(common)
    return None


def _create(session: Session, *, kind: str, scope: dict[str, Any], batches: list[Batch], title: str, reason: str,
            author: Author | None) -> RecallCampaign:
    """The campaign over `batches`: its units and customers, the batches recalled. Flushes; the caller commits."""
    title = _text(title, "title", RecallCampaign.__table__.c.title)
    reason = _text(reason, "reason", RecallCampaign.__table__.c.reason, required=True)
    batches = _lock_batches(session, [b.id for b in batches])
    if not batches:
        raise ValidationError(_l("no batch matches; nothing to recall"), details={"field": kind})
    taken = open_campaign_of(session, [b.id for b in batches])
    if taken is not None:
        campaign, batch_id = taken
        number = next(b.number for b in batches if b.id == batch_id)
        raise Conflict(_l("batch %(batch)s is already in open recall campaign %(campaign)s", batch=number,
                          campaign=campaign.number), details={"batch": number, "campaign": campaign.number})
    units = genealogy.shipped_units(session, batch_ids=[b.id for b in batches])
    if not units:
        raise ValidationError(_l("nothing to recall: no unit of batches %(batches)s is out with a customer",
                                 batches=", ".join(b.number for b in batches)),
                              details={"field": kind, "batches": [b.number for b in batches]})
    number = recall_number(allocate_counter(session, key=RECALL_COUNTER, count=1) + 1)
    who = author_fields(author)["author"]
    campaign = RecallCampaign(number=number, title=title or _default_title(kind, scope), reason=reason,
                              scope_kind=kind, scope={**scope, "batch_ids": [b.id for b in batches],
                                                      "batches": [b.number for b in batches]},
                              created_by=who)
    session.add(campaign)
    session.flush()
    session.add_all(RecallUnit(campaign_id=campaign.id, unit_id=u, customer_id=c) for u, c in sorted(units.items()))
    session.add_all(RecallCustomer(campaign_id=campaign.id, customer_id=c, status=RecallStatus.TO_CONTACT.value,
                                   updated_by=who) for c in sorted(set(units.values())))
    why = str(_l("recall campaign %(number)s: %(reason)s", number=number, reason=reason))
    why = why if len(why) <= _EVENT_REASON else why[:_EVENT_REASON - 1] + "…"
    for batch in batches:
        # A batch recalled before (by hand, or by a closed campaign) stays recalled: no second event.
        if batch.status != BatchStatus.RECALLED:
            set_batch_status(session, batch=batch, status=BatchStatus.RECALLED, reason=why, author=author)
    session.flush()
    return campaign


def _default_title(kind: str, scope: dict[str, Any]) -> str:
    if kind == "lot":
        return str(_l("Component lot %(lot)s (%(part)s from %(supplier)s)", lot=scope["lot_number"],
                      part=scope["part"], supplier=scope["supplier"]))[:200]
    if kind == "batch":
        return str(_l("Batch %(batch)s", batch=", ".join(scope["asked"])))[:200]
    return str(_l("Filter: %(what)s", what=", ".join(f"{k}={v}" for k, v in scope.items() if v)))[:200]


def create_from_batch(session: Session, *, number: str, sku: str | None = None, title: str = "", reason: str,
                      author: Author | None = None) -> RecallCampaign:
    """Recall the units of one batch (its number, narrowed by product SKU when shared). Flushes."""
    batch = trace_queries.get_batch(session, _text(number, "batch", Batch.__table__.c.number, required=True),
                                    sku=sku or None)
    return _create(session, kind="batch", scope={"asked": [batch.number], "sku": sku or None}, batches=[batch],
                   title=title, reason=reason, author=author)


def find_component_lot(session: Session, *, lot_id: int | None = None, lot_number: str = "", supplier: str = "",
                       part: str = "") -> ComponentLot:
    """The component lot by id, or by number narrowed by supplier and part (trace.lots.find_lot)."""
    if lot_id is not None:
        lot = session.get(ComponentLot, lot_id) if 0 < lot_id <= MAX_INT else None
        if lot is None:
            raise NotFound(_l("no component lot with id %(id)s", id=lot_id), details={"lot_id": lot_id})
        return lot
    if not (lot_number or "").strip():
        raise ValidationError(_l("name the component lot: its number (with supplier and part) or its id"),
                              details={"field": "lot_number"})
    return lots.find_lot(session, lot_number, supplier=supplier or None, part=part or None)


def create_from_lot(session: Session, *, lot: ComponentLot, title: str = "", reason: str,
                    author: Author | None = None) -> RecallCampaign:
    """Recall the units of every batch the component lot went into. Flushes."""
    batch_ids = genealogy.lot_batch_ids(session, lot)
    if not batch_ids:
        raise ValidationError(_l("component lot %(lot)s has not gone into any batch; nothing to recall",
                                 lot=lot.lot_number), details={"field": "lot"})
    batches = list(session.scalars(select(Batch).where(Batch.id.in_(batch_ids))))
    scope = {"lot_id": lot.id, "supplier": lot.supplier, "part": lot.part, "lot_number": lot.lot_number}
    return _create(session, kind="lot", scope=scope, batches=batches, title=title, reason=reason, author=author)


def create_from_filter(session: Session, *, sku: str = "", produced_from: date | None = None,
                       produced_to: date | None = None, batch_numbers: Sequence[str] = (), title: str = "",
                       reason: str, author: Author | None = None) -> RecallCampaign:
    """Recall the units of the batches of a product produced in a date range and/or named in a list. Flushes."""
    numbers = [n.strip() for n in batch_numbers if n and n.strip()]
    if not numbers and not (sku or "").strip():
        raise ValidationError(_l("a filter needs a product SKU (with a production date range) or batch numbers"),
                              details={"field": "sku"})
    if (produced_from or produced_to) and not (sku or "").strip():
        raise ValidationError(_l("a production date range needs the product SKU"), details={"field": "sku"})
    if produced_from and produced_to and produced_from > produced_to:
        raise ValidationError(_l("the range starts after it ends"), details={"field": "produced_from"})
    stmt = select(Batch)
    if sku and sku.strip():
        product = trace_queries.get_product(session, sku.strip())
        stmt = stmt.where(Batch.product_id == product.id)
    if produced_from:
        stmt = stmt.where(Batch.produced_on >= produced_from)
    if produced_to:
        stmt = stmt.where(Batch.produced_on <= produced_to)
    if numbers:
        stmt = stmt.where(Batch.number.in_(numbers))
    batches = list(session.scalars(stmt.order_by(Batch.id)))
    missing = sorted(set(numbers) - {b.number for b in batches})
    if missing:
        raise NotFound(_l("no batch %(batches)s matches the filter", batches=", ".join(missing)),
                       details={"field": "batches", "batches": missing})
    if not batches:
        raise ValidationError(_l("no batch matches the filter; nothing to recall"), details={"field": "sku"})
    scope = {"sku": (sku or "").strip() or None,
             "produced_from": produced_from.isoformat() if produced_from else None,
             "produced_to": produced_to.isoformat() if produced_to else None, "batch_numbers": numbers}
    return _create(session, kind="filter", scope=scope, batches=batches, title=title, reason=reason, author=author)


def get_campaign(session: Session, number: str, *, lock: bool = False) -> RecallCampaign:
    """The campaign with this number (locked for update when asked); NotFound otherwise."""
    stmt = select(RecallCampaign).where(RecallCampaign.number == (number or "").strip().upper())
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    campaign = session.scalars(stmt).one_or_none()
    if campaign is None:
        raise NotFound(_l("no recall campaign %(number)r", number=number), details={"campaign": number})
    return campaign


def _ensure_open(campaign: RecallCampaign) -> None:
    if campaign.state != OPEN:
        raise Conflict(_l("recall campaign %(number)s is closed", number=campaign.number),
                       details={"campaign": campaign.number, "state": campaign.state})


def update_customer(session: Session, *, number: str, customer_id: int, status: str | None = None,
                    note: str = "", author: Author | None = None) -> RecallNote:
    """Move a campaign's customer to `status` (one step on, or back with a note) and/or note something; each is
    one append-only RecallNote with who, from and to. Flushes; the caller commits."""
    campaign = get_campaign(session, number, lock=True)
    _ensure_open(campaign)
    note = _text(note, "note", RecallNote.__table__.c.text)
    status = (status or "").strip()
    if not status and not note:
        raise ValidationError(_l("give a new status or a note"), details={"field": "status"})
    row = session.scalars(
        select(RecallCustomer).where(RecallCustomer.campaign_id == campaign.id,
                                     RecallCustomer.customer_id == customer_id)
        .with_for_update().execution_options(populate_existing=True)).one_or_none() if 0 < customer_id <= MAX_INT \
        else None
    if row is None:
        raise NotFound(_l("customer %(id)s is not in recall campaign %(number)s", id=customer_id,
                          number=campaign.number), details={"customer_id": customer_id})
    before = row.status
    who = author_fields(author)["author"]
    if status:
        ensure_step(before, status, note=note)
        row.status = status
        row.updated_at = utcnow()
        row.updated_by = who
    entry = RecallNote(recall_customer_id=row.id, author=who, text=note, status_from=before if status else "",
                       status_to=status)
    session.add(entry)
    session.flush()
    return entry


def close_campaign(session: Session, *, number: str, reason: str, author: Author | None = None) -> RecallCampaign:
    """Close an open campaign with the reason (kept in its scope, with who closed it). Flushes."""
    campaign = get_campaign(session, number, lock=True)
    reason = _text(reason, "reason", RecallCampaign.__table__.c.reason, required=True)
    _ensure_open(campaign)
    campaign.state = CLOSED
    campaign.closed_at = utcnow()
    # The table has no column for it: the scope keeps why and by whom, beside what was asked.
    campaign.scope = {**campaign.scope, "closed_reason": reason, "closed_by": author_fields(author)["author"]}
    session.flush()
    return campaign

