"""The ranked worklist: GET /worklist (a person's list or a team's board) and GET /worklist/version for live pages."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import Tag

from ...columns import utcnow
from ...warranty import worklist
from ...warranty.worklist_schemas import WorklistQuery, WorklistRead, WorklistVersionRead, filters_of
from ..auth import PAGE_ROLES, current_user, requires
from ..database import db
from . import bp, errors

TAG = Tag(name="worklist", description="open stage tasks ranked by their SLA clocks")
# Everyone with stage work, as the worklist page: the claim readers (see web/auth.py).
WORKLIST_ROLES = PAGE_ROLES["pages.worklist"]


def page_of(query: WorklistQuery) -> tuple[worklist.Chosen, worklist.Page]:
    """The list the caller may see and one ranked page of it (with each person's counts for a team)."""
    return worklist.read(db(), current_user(), now=utcnow(), user=query.user or None, team=query.team or None,
                         filters=filters_of(query), limit=query.limit, offset=query.offset)


@bp.get("/worklist", tags=[TAG], responses={200: WorklistRead, **errors(401, 403, 404, 409, 422)})
@requires(*WORKLIST_ROLES)
def get_worklist(query: WorklistQuery):
    """The caller's open stage tasks (their own and their teams' unassigned ones), another person's for
    supervisors, or a team's board with per-person counts: breached first, then by remaining business time, then
    priority, then age."""
    _, page = page_of(query)
    answer = {"items": page.items, "total": page.total, "limit": page.limit, "offset": page.offset}
    if page.counts is not None:
        answer["counts"] = page.counts
    return jsonify(answer)


@bp.get("/worklist/version", tags=[TAG], responses={200: WorklistVersionRead, **errors(401, 403, 409, 422)})
@requires(*WORKLIST_ROLES)
def get_worklist_version():
    """A marker that changes when any claim moves, is reassigned or changes priority: poll it, reload on change."""
    return jsonify({"version": worklist.version(db())})
