"""The bell: the unread count in every page's header, /notifications with a way to mark them read."""

from __future__ import annotations

from flask import Flask, flash, g, redirect, render_template, url_for

from ...warranty import notifications
from ..auth import current_user, requires
from ..database import commit, db
from ..i18n import _
from .common import bp


def unread() -> int:
    """The logged-in user's unread notifications (one indexed count per page), 0 for nobody."""
    user = current_user()
    if user is None or user.id is None:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = notifications.unread_count(db(), user.id)
    return g.unread_notifications


def install(app: Flask) -> None:
    """Offer `unread_notifications()` to the templates (the bell in base.html)."""
    app.jinja_env.globals.update(unread_notifications=unread)


def _me() -> int:
    user = current_user()
    assert user is not None and user.id is not None  # @requires let only a logged-in user in
    return user.id


@bp.get("/notifications")
@requires()
def notifications_page():
    """The reader's notifications, newest first; unread ones with a button that marks them read."""
    me = _me()
    return render_template("notifications.html", rows=notifications.for_user(db(), me),
                           unread_count=notifications.unread_count(db(), me))


@bp.post("/notifications/<int:notification_id>/read")
@requires()
def notification_read(notification_id: int):
    """Mark one of the reader's notifications read (someone else's is 404) and go back to the list."""
    notifications.mark_read(db(), notification_id=notification_id, user_id=_me())
    commit()
    return redirect(url_for("pages.notifications_page", _anchor=f"n{notification_id}"))


@bp.post("/notifications/read")
@requires()
def notifications_read_all():
    """Mark all the reader's notifications read."""
    count = notifications.mark_all_read(db(), user_id=_me())
    commit()
    flash(_("%(count)s notifications marked read", count=count), "ok")
    return redirect(url_for("pages.notifications_page"))
