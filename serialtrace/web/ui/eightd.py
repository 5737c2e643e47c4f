"""8D / CAPA pages: the list (open first, overdue steps marked), one record with its steps and links, and the one
click that opens a record from a flagged batch or component lot. Quality and supervisors change records;
engineers and coordinators read them. A refused change shows the page again with the reason and changes nothing."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ...accounts.models import User
from ...config import business_today
from ...errors import DomainError, ValidationError
from ...quality import eightd
from ...trace.policy import parse_date
from ..auth import EIGHTD_MANAGERS, current_user, may_open, requires, requires_page
from ..database import commit, db
from ..downloads import table_download
from ..i18n import _, tr
from .bench import refusal
from .common import bp, optional_id, settings, user_text
from .quality import DEFAULTS


def _may_manage() -> bool:
    user = g.get("user")
    return user is not None and user.active and user.has_role(*EIGHTD_MANAGERS)


@bp.app_template_global("may_manage_eightd")
def may_manage_eightd() -> bool:
    """True when the reader may open and change 8Ds (the pages show the forms only then)."""
    return _may_manage()


@bp.app_template_global("linked_eightds")
def linked_eightds(kind: str, target_ids: list[int]) -> list[dict[str, Any]] | None:
    """The 8Ds linked to a claim, batch or lot for its page; None when the reader may not read 8Ds."""
    if not may_open(g.get("user"), "pages.quality_eightds"):
        return None
    return [{"number": row.number, "title": row.title, "state": row.state,
             "state_label": tr(eightd.STATE_LABELS.get(row.state, row.state))}
            for row in eightd.linked_to(db(), kind=kind, target_ids=list(target_ids))]


def _today():
    return business_today(settings())


def _field(name: str, limit: int = 8000) -> str:
    value = user_text(request.form.get(name, ""), name)
    if len(value) > limit:
        raise ValidationError(_("%(field)s has at most %(limit)s characters", field=name, limit=limit),
                              details={"field": name})
    return value


def _version() -> int:
    version = optional_id(request.form.get("version", ""), "version")
    if version is None:
        raise ValidationError(_("the form lacks the version it was read at: reload the page"),
                              details={"field": "version"})
    return version


def _filters() -> dict[str, Any]:
    """The list's filters from the query string (state, overdue, q)."""
    return {"state": request.args.get("state", ""), "overdue": request.args.get("overdue") == "1",
            "q": user_text(request.args.get("q", ""), "q")[:200]}


def _list_page(status: int = 200, **page: Any):
    filters = _filters()
    state, overdue, q = filters["state"], filters["overdue"], filters["q"]
    rows = eightd.list_eightds(db(), today=_today(), state=state, overdue=overdue, q=q)
    page = {"error": None, "error_field": None, "values": {}, **page}
    return render_template("quality_eightds.html", rows=rows, filters={"state": state, "overdue": overdue, "q": q},
                           states=eightd.STATE_LABELS, may_manage=_may_manage(), **page), status


@bp.get("/quality/eightd")
@requires_page("pages.quality_eightds")
def quality_eightds():
    """Every 8D, open first: progress, the current step and its due date, overdue steps highlighted; filters."""
    return _list_page()


# The list's columns as downloaded: what the table shows, one value per cell.
TABLE_COLUMNS = ("number", "title", "state", "done", "current", "current_due", "overdue", "created_at", "created_by")


@bp.get("/quality/eightd.<any(csv, xlsx):fmt>")
@requires_page("pages.quality_eightds")
def quality_eightds_table(fmt: str):
    """The list as CSV or XLSX, with the page's filters."""
    filters = _filters()
    rows = eightd.list_eightds(db(), today=_today(), **filters)
    return table_download(({**r, "overdue": " ".join(r["overdue"])} for r in rows), TABLE_COLUMNS,
                          "quality-eightd", fmt)


@bp.post("/quality/eightd")
@requires(*EIGHTD_MANAGERS)
def quality_eightd_create():
    """Open an 8D with a title and, optionally, the claims it is about (numbers separated by spaces or commas)."""
    values = {"title": request.form.get("title", ""), "claims": request.form.get("claims", "")}
    try:
        claims = [c for c in _field("claims", 4000).replace(",", " ").split() if c]
        row = eightd.open_eightd(db(), title=_field("title", 200), claims=claims, author=current_user())
        number = row.number
        commit()
    except DomainError as exc:
        return _list_page(exc.status_code, values=values, **refusal(exc))
    flash(_("8D %(number)s opened", number=number), "ok")
    return redirect(url_for("pages.quality_eightd", number=number))


def _rate_settings() -> dict[str, Any]:
    """The dashboard's q, min_units and min_claims the row was flagged at (from the form; defaults when empty)."""
    out = dict(DEFAULTS)
    text = request.form.get("q", "").strip()
    if text:
        try:
            out["q"] = float(text)
        except ValueError:
            out["q"] = -1.0
        if not 0 < out["q"] < 1:
            raise ValidationError(_("q must be a number between 0 and 1, not %(value)r", value=text),
                                  details={"field": "q"})
    for name in ("min_units", "min_claims"):
        value = optional_id(request.form.get(name, ""), name)
        if value is not None:
            out[name] = value
    return out


@bp.post("/quality/eightd/open")
@requires(*EIGHTD_MANAGERS)
def quality_eightd_open():
    """One click on a flagged batch or lot: its open 8D if it has one, else a new one linked to it and its claims."""
    kind = request.form.get("kind", "")
    if kind not in ("batch", "lot"):
        raise ValidationError(_("kind must be batch or lot"), details={"field": "kind"})
    target_id = optional_id(request.form.get("id", ""), "id")
    if target_id is None:
        raise ValidationError(_("field %(name)s is required", name="id"), details={"field": "id"})
    title = tr(eightd.flagged_title(db(), kind=kind, target_id=target_id, **_rate_settings()))
    row, made = eightd.open_from_row(db(), kind=kind, target_id=target_id, title=title[:200], author=current_user())
    number = row.number
    commit()
    flash(_("8D %(number)s opened", number=number) if made else
          _("8D %(number)s is already open for this row", number=number), "ok")
    return redirect(url_for("pages.quality_eightd", number=number))


def _record_page(number: str, status: int = 200, **page: Any):
    row = eightd.get_eightd(db(), number)
    page = {"error": None, "error_field": None, "error_step": None, "typed": {}, **page}
    users = [u.username for u in db().scalars(select(User).where(User.active.is_(True)).order_by(User.username))]
    steps = [{**s, "name": eightd.DISCIPLINE_LABELS[s["discipline"]]} for s in eightd.step_rows(db(), row,
                                                                                                today=_today())]
    return render_template("quality_eightd.html", record=row, steps=steps, links=eightd.link_rows(db(), row),
                           states=eightd.STATE_LABELS, kinds=eightd.LINK_LABELS, users=users,
                           may_manage=_may_manage() and row.state == eightd.OPEN,
                           may_close=steps[-1]["done_at"] is not None if steps else False, **page), status


@bp.get("/quality/eightd/<number>")
@requires_page("pages.quality_eightd")
def quality_eightd(number: str):
    """One 8D: steps D1-D8 with owner, due date, text and when done; its links; the forms for managers."""
    return _record_page(number)


@bp.post("/quality/eightd/<number>/steps/<discipline>")
@requires(*EIGHTD_MANAGERS)
def quality_eightd_step(number: str, discipline: str):
    """Save a step's owner, due date and text (naming the version read); with complete, mark it done too."""
    row = eightd.get_eightd(db(), number)
    typed = {name: request.form.get(name, "") for name in ("owner", "due_on", "text")}
    completing = request.form.get("action") == "complete"
    try:
        due = typed["due_on"].strip()
        changes = {"owner": _field("owner", 64), "text": _field("text"),
                   "due_on": parse_date(due, field="due_on", what=_("due date")) if due else None}
        eightd.edit_step(db(), row, discipline, version=_version(), changes=changes)
        if completing:
            eightd.complete_step(db(), row, discipline, version=row.version)
        commit()
    except DomainError as exc:
        return _record_page(number, exc.status_code, error_step=discipline.upper(), typed=typed, **refusal(exc))
    flash(_("step %(discipline)s completed", discipline=discipline.upper()) if completing else
          _("step %(discipline)s saved", discipline=discipline.upper()), "ok")
    return redirect(url_for("pages.quality_eightd", number=number, _anchor=f"step-{discipline.upper()}"))


@bp.post("/quality/eightd/<number>/links")
@requires(*EIGHTD_MANAGERS)
def quality_eightd_links(number: str):
    """Link a claim, batch or lot by its number (already linked: nothing changes), or take a link off by id."""
    row = eightd.get_eightd(db(), number)
    kind = request.form.get("kind", "")
    try:
        if request.form.get("remove"):
            target = optional_id(request.form.get("id", ""), "id")
            eightd.remove_link(db(), row, kind=kind, ref=target or 0, version=_version())
            message = _("link removed")
        else:
            made = eightd.add_link(db(), row, kind=kind, ref=_field("ref", 64), author=current_user(),
                                   version=_version())
            message = _("link added") if made else _("already linked")
        commit()
    except DomainError as exc:
        return _record_page(number, exc.status_code, error_step="links",
                            typed={"kind": kind, "ref": request.form.get("ref", "")}, **refusal(exc))
    flash(message, "ok")
    return redirect(url_for("pages.quality_eightd", number=number, _anchor="links"))


@bp.post("/quality/eightd/<number>/close")
@requires(*EIGHTD_MANAGERS)
def quality_eightd_close(number: str):
    """Close the 8D once D8 is completed."""
    row = eightd.get_eightd(db(), number)
    try:
        eightd.close_eightd(db(), row, version=_version())
        commit()
    except DomainError as exc:
        return _record_page(number, exc.status_code, error_step="close", **refusal(exc))
    flash(_("8D %(number)s closed", number=number), "ok")
    return redirect(url_for("pages.quality_eightd", number=number))
