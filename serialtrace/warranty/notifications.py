"""Notifications under the bell: create one for a user, list a user's, count the unread, mark one read.
Flushes only; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..columns import utcnow
from ..errors import NotFound
from ..i18n import _l
from ..trace.policy import MAX_INT
from .models import Notification

# Mail states of a notification: to be mailed (when mail is on; escalation.mail_pending), mailed, or not mailed at
# all (no address, an address no server takes, or too old by the time mail was on).
PENDING, SENT, NONE = "pending", "sent", "none"
# The most notifications one list shows; older ones stay in the table.
LIST_MAX = 200


def create(session: Session, *, user: User, kind: str, subject: str, body: str = "", claim_id: int | None = None,
           mail: bool = True) -> Notification:
    """A new unread notification for `user`; mailed later when `mail` and the user has an address."""
    row = Notification(user_id=user.id, claim_id=claim_id, kind=kind, subject=subject[:200], body=body,
                       created_at=utcnow(), mail_state=PENDING if mail and user.email else NONE)
    session.add(row)
    session.flush()
    return row


def for_user(session: Session, user_id: int, *, limit: int = LIST_MAX) -> list[Notification]:
    """The user's notifications, newest first."""
    return list(session.scalars(select(Notification).where(Notification.user_id == user_id)
                                .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def unread_count(session: Session, user_id: int) -> int:
    """How many of the user's notifications are unread (read from the (user_id, read_at) index)."""
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, *, notification_id: int, user_id: int, now: datetime | None = None) -> Notification:
    """Mark one of the user's notifications read (already read: unchanged); someone else's is NotFound."""
    row = session.get(Notification, notification_id) if 0 < notification_id <= MAX_INT else None
    if row is None or row.user_id != user_id:
        raise NotFound(_l("no notification %(id)s", id=notification_id), details={"field": "id"})
    if row.read_at is None:
        row.read_at = now or utcnow()
        session.flush()
    return row


def mark_all_read(session: Session, *, user_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of the user read; how many were."""
    result = session.execute(update(Notification).where(Notification.user_id == user_id,
                                                        Notification.read_at.is_(None))
                             .values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def as_dict(row: Notification) -> dict:
    """A notification as the API answers it."""
    return {"id": row.id, "kind": row.kind, "subject": row.subject, "body": row.body, "claim_id": row.claim_id,
            "threshold": row.threshold, "created_at": row.created_at.isoformat(), "read": row.read_at is not None,
            "read_at": row.read_at.isoformat() if row.read_at else None, "mail_state": row.mail_state}
