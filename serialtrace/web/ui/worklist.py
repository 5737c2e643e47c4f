"""The worklist pages: my worklist (the start page of coordinators and engineers) and a team's board with each
person's load; both refresh their list without a reload when a claim changes (worklist.js)."""

from __future__ import annotations

import math
from typing import Any

from flask import render_template, request, url_for
from pydantic import ValidationError as ModelError

from ...columns import utcnow
from ...errors import ValidationError
from ...warranty import worklist
from ...warranty.enums import CLAIM_STATE_LABELS, PRIORITY_LABELS, STAGE_LABELS
from ...warranty.worklist_schemas import WorklistQuery, filters_of
from ..auth import PAGE_ROLES, current_user, requires, requires_page
from ..database import db
from ..i18n import _
from .common import bp

PAGE_SIZE = 50
# The arguments a worklist page reads; anything else in the address is ignored.
ARGS = ("user", "stage", "priority", "state", "breached", "q", "page")


def _query(team: str | None = None) -> tuple[WorklistQuery, int, dict[str, str]]:
    """The page's query from the address (a bad value is a 422 naming it), the page number, and the form's values."""
    form = {name: request.args.get(name, "").strip() for name in ARGS}
    number = form["page"] or "1"
    if not number.isascii() or not number.isdigit() or not 1 <= int(number) <= 10_000:
        raise ValidationError(_("page must be a whole number from 1 to 10000"), details={"field": "page"})
    values: dict[str, Any] = {k: v for k, v in form.items() if v and k not in ("page", "breached")}
    values["breached"] = form["breached"] in ("1", "on", "true")
    values.update(team=team, limit=PAGE_SIZE, offset=(int(number) - 1) * PAGE_SIZE)
    try:
        query = WorklistQuery.model_validate(values)
    except ModelError as exc:
        first = exc.errors(include_url=False)[0]
        name = str(first["loc"][0]) if first["loc"] else "q"
        raise ValidationError(_("%(field)s: %(problem)s", field=name, problem=first["msg"]),
                              details={"field": name}) from None
    return query, int(number), form


def left_text(item: dict[str, Any]) -> str:
    """The business time left as people say it: '2 h 15 min left', 'overdue by 1 h', 'paused, 3 h left'."""
    seconds = item["remaining_seconds"]
    if item["breached"] or seconds < 0:
        return _("overdue by %(time)s", time=_duration(max(0.0, -seconds))) if seconds < 0 else _("overdue")
    text = _("%(time)s left", time=_duration(seconds))
    return _("paused, %(left)s", left=text) if item["clock_state"] == "paused" else text


def _duration(seconds: float) -> str:
    """Business hours and minutes: '2 h 15 min', '45 min', '3 h', under a minute '<1 min'."""
    minutes = math.ceil(seconds / 60)
    if minutes < 1:
        return _("<1 min")
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("%(m)s min", m=minutes)
    return _("%(h)s h %(m)s min", h=hours, m=minutes) if minutes else _("%(h)s h", h=hours)


def _page_url(form: dict[str, str]):
    """The address of another page of this list, with the same filters."""

    def url(number: int) -> str:
        args = {k: v for k, v in form.items() if v and k != "page"}
        return url_for(request.endpoint, **(request.view_args or {}), **args, page=number)

    return url


def _render(template: str, team: str | None):
    query, number, form = _query(team)
    chosen, page = worklist.read(db(), current_user(), now=utcnow(), user=query.user, team=query.team,
                                 filters=filters_of(query), limit=query.limit, offset=query.offset)
    context = {"items": page.items, "total": page.total, "counts": page.counts, "form": form, "number": number,
               "pages": max(1, math.ceil(page.total / PAGE_SIZE)), "chosen": chosen, "left": left_text,
               "stages": {k: str(v) for k, v in STAGE_LABELS.items()},
               "states": {k: str(v) for k, v in CLAIM_STATE_LABELS.items()},
               "priorities": {k: str(v) for k, v in PRIORITY_LABELS.items()},
               "version": worklist.version(db()), "boards": worklist.boards_for(db(), current_user()),
               "may_see_people": current_user().role in worklist.OVERSEERS, "page_url": _page_url(form)}
    if request.args.get("fragment") == "1":
        # The live part only, for worklist.js to swap in without reloading the page.
        return render_template("_worklist_live.html", **context)
    return render_template(template, **context)


@bp.get("/worklist", endpoint="worklist")
@requires_page("pages.worklist")
def worklist_page():
    """My worklist: my open stage tasks and my teams' unassigned ones, most urgent first (a supervisor may open
    another person's with ?user=)."""
    return _render("worklist.html", None)


@bp.get("/teams/<name>/board")
# Not in the navigation: the worklist's roles, then the team's own check (its members and supervisors).
@requires(*PAGE_ROLES["pages.worklist"])
def team_board(name: str):
    """A team's board: each person's open, overdue and due-today tasks, and the team's ranked list."""
    return _render("team_board.html", name)
