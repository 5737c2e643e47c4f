"""Holds on component lots: a held lot holds every released batch it went into; its release frees those only."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..accounts.enums import Role
from ..columns import utcnow
from ..errors import Conflict, NotFound
from ..i18n import _l
from .enums import BatchStatus
from .models import Batch, BatchEvent, BatchInput, ComponentLot
from .service import Author, author_fields, ensure_text, held_lot_in, set_batch_status

# Who may hold and release lots (admins always).
LOT_HOLDERS: tuple[str, ...] = (Role.QUALITY, Role.SUPERVISOR)
_REASON = ComponentLot.__table__.c.hold_reason
_EVENT_REASON = BatchEvent.__table__.c.reason.type.length


def find_lot(session: Session, lot_number: str, *, supplier: str | None = None,
             part: str | None = None) -> ComponentLot:
    """The one component lot with this number (narrowed by supplier and part); NotFound, or ValidationError
    listing the candidates when suppliers' numbers coincide."""
    stmt = select(ComponentLot).where(ComponentLot.lot_number == (lot_number or "").strip())
    if supplier:
        stmt = stmt.where(ComponentLot.supplier == supplier.strip())
    if part:
        stmt = stmt.where(ComponentLot.part == part.strip())
    lots = list(session.scalars(stmt.order_by(ComponentLot.part, ComponentLot.supplier, ComponentLot.id).limit(20)))
    if not lots:
        raise NotFound(_l("no component lot %(lot)r", lot=lot_number), details={"lot": lot_number})
    if len(lots) > 1:
        choices = ", ".join(f"{lot.part} from {lot.supplier}" for lot in lots)
        raise Conflict(_l("component lot %(lot)s exists for several parts or suppliers (%(choices)s); name the "
                          "supplier and the part", lot=lot_number, choices=choices),
                       details={"lot": lot_number, "choices": [[lot.supplier, lot.part] for lot in lots]})
    return lots[0]


def _lock(session: Session, lot: ComponentLot) -> str:
    """The lot's status read under its row lock (PostgreSQL), so of two people the second sees the first's change."""
    current = session.scalar(select(ComponentLot.status).where(ComponentLot.id == lot.id).with_for_update())
    if current is None:
        raise NotFound(_l("no component lot %(lot)r", lot=lot.lot_number), details={"lot": lot.lot_number})
    session.refresh(lot)
    return current


def _event_reason(message: str) -> str:
    # The batch event's column is shorter than the lot's prefix plus its longest reason.
    return message if len(message) <= _EVENT_REASON else message[:_EVENT_REASON - 1] + "…"


def _lot_batches(session: Session, lot: ComponentLot, status: BatchStatus) -> list[Batch]:
    """The batches in `status` the lot went into, locked in id order so two holds never wait on each other."""
    return list(session.scalars(
        select(Batch).join(BatchInput, BatchInput.batch_id == Batch.id)
        .where(BatchInput.component_lot_id == lot.id, Batch.status == status.value).order_by(Batch.id)))


def hold_lot(session: Session, lot: ComponentLot, *, reason: str, author: Author | None = None) -> list[Batch]:
    """Put the lot on hold, and with it every released batch it went into (each with its own batch event).
    Returns the batches it held. Flushes; the caller commits."""
    reason = ensure_text(reason, field="reason", column=_REASON, required=True)
    if _lock(session, lot) == BatchStatus.ON_HOLD:
        raise Conflict(_l("component lot %(lot)s is already on hold: %(reason)s", lot=lot.lot_number,
                          reason=lot.hold_reason), details={"lot": lot.lot_number, "status": lot.status})
    message = _event_reason(str(_l("component lot %(lot)s on hold: %(reason)s", lot=lot.lot_number, reason=reason)))
    held = []
    for batch in _lot_batches(session, lot, BatchStatus.RELEASED):
        set_batch_status(session, batch=batch, status=BatchStatus.ON_HOLD, reason=message, author=author)
        held.append(batch)
    session.execute(update(ComponentLot).where(ComponentLot.id == lot.id).values(
        status=BatchStatus.ON_HOLD.value, hold_reason=reason, held_at=utcnow(),
        held_by=author_fields(author)["author"], held_batch_ids=[b.id for b in held]))
    session.flush()
    session.refresh(lot)
    return held


def release_lot(session: Session, lot: ComponentLot, *, reason: str, author: Author | None = None) -> list[Batch]:
    """Release the lot and the batches its hold held; a batch another held lot went into passes to that lot's
    hold, and a batch held for its own reason stays held. Returns the batches released. Flushes."""
    reason = ensure_text(reason, field="reason", column=_REASON, required=True)
    if _lock(session, lot) != BatchStatus.ON_HOLD:
        raise Conflict(_l("component lot %(lot)s is not on hold", lot=lot.lot_number),
                       details={"lot": lot.lot_number, "status": lot.status})
    mine = set(lot.held_batch_ids or ())
    session.execute(update(ComponentLot).where(ComponentLot.id == lot.id).values(
        status=BatchStatus.RELEASED.value, held_batch_ids=[]))
    message = _event_reason(str(_l("component lot %(lot)s released: %(reason)s", lot=lot.lot_number, reason=reason)))
    released = []
    for batch in _lot_batches(session, lot, BatchStatus.ON_HOLD):
        if batch.id not in mine:
            continue
        other = held_lot_in(session, batch.id, besides=lot.id)
        if other is not None:
            # Still held, now for the other lot: its release frees the batch.
            session.execute(update(ComponentLot).where(ComponentLot.id == other.id).values(
                held_batch_ids=sorted({*other.held_batch_ids, batch.id})))
            continue
        set_batch_status(session, batch=batch, status=BatchStatus.RELEASED, reason=message, author=author)
        released.append(batch)
    session.flush()
    session.refresh(lot)
    return released
