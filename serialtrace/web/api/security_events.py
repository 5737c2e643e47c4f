"""The security log over the API: GET /security-events (admins only), filtered and paged."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import jsonify
from flask_openapi3 import Tag

from ...accounts import security_log
from ...accounts.enums import Role
from ...accounts.schemas import SecurityEventPage, SecurityEventQuery
from ..auth import requires
from ..database import db
from . import bp, errors

TAG = Tag(name="security", description="the security log: sign-ins, lockouts, tokens, account changes, exports")


def _start(day) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None


@bp.get("/security-events", tags=[TAG], responses={200: SecurityEventPage, **errors(401, 403, 409, 422)})
@requires(Role.ADMIN)
def get_security_events(query: SecurityEventQuery):
    """The security log, newest first: filter by kind, user name and UTC days; paged."""
    where = security_log.SecurityFilter(kind=query.kind or "", user=query.user.strip(), since=_start(query.since),
                                        until=_start(query.until + timedelta(days=1)) if query.until else None)
    events = security_log.list_security_events(db(), where, offset=(query.page - 1) * query.per_page,
                                               limit=query.per_page)
    return jsonify({"items": [security_log.event_row(e) for e in events], "page": query.page,
                    "per_page": query.per_page, "total": security_log.count_security_events(db(), where)})
