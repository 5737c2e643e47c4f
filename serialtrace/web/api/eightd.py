"""8D / CAPA records: GET/POST /eightd, GET /eightd/<number>, POST its steps, links and close."""

from __future__ import annotations

from datetime import date, datetime

from flask import jsonify
from flask_openapi3 import Tag

from ...config import business_today
from ...errors import ValidationError
from ...quality import eightd
from ...quality.eightd_schemas import (
    EightDClose,
    EightDCreate,
    EightDLinkChange,
    EightDListRead,
    EightDPath,
    EightDQuery,
    EightDRead,
    EightDStepChange,
    EightDStepPath,
)
from ..auth import EIGHTD_MANAGERS, PAGE_ROLES, current_user, requires
from ..database import commit, db
from ..i18n import _, tr
from . import bp, errors, runtime

TAG = Tag(name="8D", description="8D / CAPA records: steps D1-D8, links to claims, batches and component lots")
# The 8D pages' readers read over the API too; quality and supervisors change records.
READERS = PAGE_ROLES["pages.quality_eightds"]


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _read(number: str) -> dict:
    row = eightd.get_eightd(db(), number)
    today = business_today(runtime().settings)
    steps = [{**s, "name": tr(eightd.DISCIPLINE_LABELS[s["discipline"]]), "due_on": _iso(s["due_on"]),
              "done_at": _iso(s["done_at"])}
             for s in eightd.step_rows(db(), row, today=today)]
    links = [{"kind": link["kind"], "id": link["id"], "label": link["label"]} for link in eightd.link_rows(db(), row)]
    return {"number": row.number, "title": row.title, "state": row.state, "version": row.version,
            "created_at": _iso(row.created_at), "created_by": row.created_by, "closed_at": _iso(row.closed_at),
            "steps": steps, "links": links}


@bp.get("/eightd", tags=[TAG], responses={200: EightDListRead, **errors(401, 403, 409, 422)})
@requires(*READERS)
def get_eightds(query: EightDQuery):
    """The 8Ds, open first then newest first, with progress and overdue steps; filter by state, overdue, q."""
    rows = eightd.list_eightds(db(), today=business_today(runtime().settings), state=query.state,
                               overdue=query.overdue, q=query.q)
    keys = ("number", "title", "state", "version", "created_at", "created_by", "closed_at", "done", "current",
            "overdue")
    return jsonify({"eightds": [{**{k: r[k] for k in keys}, "created_at": _iso(r["created_at"]),
                                 "closed_at": _iso(r["closed_at"])} for r in rows]})


@bp.post("/eightd", tags=[TAG], responses={201: EightDRead, **errors(400, 401, 403, 409, 413, 422)})
@requires(*EIGHTD_MANAGERS)
def post_eightd(body: EightDCreate):
    """Open an 8D with its eight steps and links (422 naming claim, batch or lot when one does not exist)."""
    row = eightd.open_eightd(db(), title=body.title, claims=body.claims, batches=body.batches, lots=body.lots,
                             author=current_user())
    number = row.number
    commit()
    return jsonify(_read(number)), 201


@bp.get("/eightd/<number>", tags=[TAG], responses={200: EightDRead, **errors(401, 403, 404, 409, 422)})
@requires(*READERS)
def get_eightd(path: EightDPath):
    """One 8D with its steps (owner, due date, text, done, overdue) and links."""
    return jsonify(_read(path.number))


@bp.post("/eightd/<number>/steps/<discipline>", tags=[TAG],
         responses={200: EightDRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*EIGHTD_MANAGERS)
def post_eightd_step(path: EightDStepPath, body: EightDStepChange):
    """Change a step's owner, due date or text (the fields sent) and/or complete it, naming the version read:
    an older version is a 409. Steps complete in order and need text and an owner (422 naming the field)."""
    row = eightd.get_eightd(db(), path.number)
    changes = body.model_dump(include={"owner", "due_on", "text"}, exclude_unset=True)
    version = body.version
    if changes:
        eightd.edit_step(db(), row, path.discipline, version=version, changes=changes)
        version = row.version
    if body.complete:
        eightd.complete_step(db(), row, path.discipline, version=version)
    elif not changes:
        raise ValidationError(_("send owner, due_on, text or complete"), details={"field": "complete"})
    commit()
    return jsonify(_read(path.number))


@bp.post("/eightd/<number>/links", tags=[TAG], responses={200: EightDRead, **errors(400, 401, 403, 404, 409, 413,
                                                                                      422)})
@requires(*EIGHTD_MANAGERS)
def post_eightd_link(path: EightDPath, body: EightDLinkChange):
    """Link a claim, batch or lot (already linked: unchanged), or take a link off (not linked: 404); a target that
    does not exist is a 422."""
    row = eightd.get_eightd(db(), path.number)
    ref = body.claim if body.kind == "claim" else body.id
    if ref is None:
        field = "claim" if body.kind == "claim" else "id"
        raise ValidationError(_("field %(name)s is required", name=field), details={"field": field})
    if body.remove:
        eightd.remove_link(db(), row, kind=body.kind, ref=ref, version=body.version)
    else:
        eightd.add_link(db(), row, kind=body.kind, ref=ref, author=current_user(), version=body.version)
    commit()
    return jsonify(_read(path.number))


@bp.post("/eightd/<number>/close", tags=[TAG], responses={200: EightDRead, **errors(400, 401, 403, 404, 409, 413,
                                                                                     422)})
@requires(*EIGHTD_MANAGERS)
def post_eightd_close(path: EightDPath, body: EightDClose):
    """Close the 8D: 409 unless D8 is completed (and so D1-D7 before it)."""
    row = eightd.get_eightd(db(), path.number)
    eightd.close_eightd(db(), row, version=body.version)
    commit()
    return jsonify(_read(path.number))
