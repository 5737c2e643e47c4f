"""Notifications and escalation: GET /notifications, POST /notifications/<id>/read, POST /escalations."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import Tag

from ...accounts.enums import Role
from ...columns import utcnow
from ...warranty import escalation, notifications
from ...warranty.notification_schemas import (
    EscalationRun,
    EscalationSummary,
    NotificationList,
    NotificationPath,
    NotificationRead,
)
from ..auth import current_user, requires
from ..database import commit, db, reads_first
from . import bp, errors, runtime

TAG = Tag(name="notifications", description="the bell: escalations of SLA clocks and other notices")


def _me() -> int:
    user = current_user()
    assert user is not None and user.id is not None  # @requires let only a logged-in user in
    return user.id


@bp.get("/notifications", tags=[TAG], responses={200: NotificationList, **errors(401, 409, 422)})
@requires()
def get_notifications():
    """The caller's notifications, newest first, and how many are unread."""
    me = _me()
    return jsonify({"unread": notifications.unread_count(db(), me),
                    "items": [notifications.as_dict(row) for row in notifications.for_user(db(), me)]})


@bp.post("/notifications/<int:id>/read", tags=[TAG],
         responses={200: NotificationRead, **errors(400, 401, 404, 409, 413, 422)})
@requires()
def post_notification_read(path: NotificationPath):
    """Mark one of the caller's notifications read; someone else's is 404."""
    row = notifications.mark_read(db(), notification_id=path.id, user_id=_me())
    commit()
    return jsonify(notifications.as_dict(row))


@bp.post("/escalations", tags=[TAG], responses={200: EscalationSummary, **errors(400, 401, 403, 409, 413, 422)})
@requires(Role.SUPERVISOR)
@reads_first
def post_escalations(body: EscalationRun):
    """Run one escalation pass now (as cron and the server do), sent an empty object `{}`: the notifications it
    wrote and the mails it sent or will retry."""
    rt = runtime()
    # The pass commits in transactions of its own; the request's session only read who is asking, and ends here so
    # it holds no connection or snapshot while the pass runs.
    db().rollback()
    summary = escalation.run_pass(rt.sessions, rt.settings, utcnow())
    return jsonify(summary.as_dict())
