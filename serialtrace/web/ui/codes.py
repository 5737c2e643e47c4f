"""The failure-code lists page: quality adds, renames, retires and reactivates codes and imports or exports them
as CSV; engineers and coordinators read the lists. A refused change shows the reason next to its field and changes
nothing (an import is all or nothing)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ...accounts.enums import Role
from ...errors import DomainError, ValidationError
from ...trace.csvexport import csv_chunks
from ...warranty import codes as codes_service
from ...warranty.enums import FAILURE_LIST_LABELS
from ..auth import current_user, requires, requires_page
from ..database import commit, db
from ..downloads import attachment
from ..i18n import _
from .bench import refusal
from .common import bp, user_text

# Who changes the lists (admins always may); the page itself opens for the readers of PAGE_ROLES too.
EDIT_ROLES = (Role.QUALITY,)


def _codes_page(status: int = 200, **page: Any):
    """The five lists with every code, retired ones too, and the forms quality uses."""
    page = {"error": None, "error_field": None, "error_form": None, "values": {}, "import_errors": [], **page}
    return render_template("codes.html", lists=codes_service.code_lists(db(), active_only=False),
                           labels=FAILURE_LIST_LABELS, may_edit=current_user().has_role(*EDIT_ROLES),
                           **page), status


def _field(name: str) -> str:
    return user_text(request.form.get(name, ""), name).strip()


def _changed(form: str, values: dict[str, str], change) -> Any:
    """Run `change` as one transaction and go back to the lists; a refusal shows them again with the reason."""
    try:
        done = change()
        commit()
    except DomainError as exc:
        return _codes_page(exc.status_code, error_form=form, values=values, **refusal(exc))
    flash(done, "ok")
    return redirect(url_for("pages.codes", _anchor=form.split(":")[1] if ":" in form else None))


@bp.get("/codes")
@requires_page("pages.codes")
def codes():
    """Every failure-code list with its active and retired codes."""
    return _codes_page()


@bp.post("/codes")
@requires(*EDIT_ROLES)
def code_add():
    """Add a code at the end of a list."""
    values = {name: _field(name) for name in ("list", "code", "name")}

    def add() -> str:
        row = codes_service.add_code(db(), kind=values["list"], code=values["code"], name=values["name"])
        return _("code %(code)s added", code=row.code)

    return _changed(f"add:{values['list']}", values, add)


def _code_action(kind: str, code: str, **change: Any):
    form = f"code:{kind}:{code}"
    values = {"name": change.get("name") or ""}

    def update() -> str:
        row = codes_service.update_code(db(), kind=kind, code=code, **change)
        if "name" in change:
            return _("code %(code)s renamed", code=row.code)
        return _("code %(code)s reactivated", code=row.code) if row.active else _("code %(code)s retired",
                                                                                   code=row.code)

    return _changed(form, values, update)


@bp.post("/codes/<kind>/<code>/rename")
@requires(*EDIT_ROLES)
def code_rename(kind: str, code: str):
    """Give a code a new name; records keep the code."""
    return _code_action(kind, code, name=_field("name"))


@bp.post("/codes/<kind>/<code>/retire")
@requires(*EDIT_ROLES)
def code_retire(kind: str, code: str):
    """Stop offering a code; records that used it keep it."""
    return _code_action(kind, code, active=False)


@bp.post("/codes/<kind>/<code>/reactivate")
@requires(*EDIT_ROLES)
def code_reactivate(kind: str, code: str):
    """Offer a retired code again."""
    return _code_action(kind, code, active=True)


@bp.post("/codes/import")
@requires(*EDIT_ROLES)
def code_import():
    """Import codes from a CSV file (list,code,name[,active]): all rows or none."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationError(_("choose a CSV file to import"), details={"field": "file"})
        done = codes_service.import_codes(db(), upload.read(codes_service.IMPORT_MAX_BYTES + 1))
        commit()
    except DomainError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        return _codes_page(exc.status_code, error_form="import", import_errors=details.get("errors", []),
                           **refusal(exc))
    flash(_("codes imported: %(added)s added, %(updated)s changed, %(unchanged)s unchanged", added=done.added,
            updated=done.updated, unchanged=done.unchanged), "ok")
    return redirect(url_for("pages.codes"))


@bp.get("/codes.csv")
@requires_page("pages.codes")
def codes_csv():
    """Every code as CSV in the import's columns, so a file exported, edited and imported round-trips."""
    # Read in full before the answer streams: the lists are short, and the session ends with the request.
    rows = [{"list": row.list, "code": row.code, "name": row.name, "active": "true" if row.active else "false"}
            for row in codes_service.list_codes(db(), active_only=False)]
    return attachment(csv_chunks(rows, codes_service.IMPORT_COLUMNS, bom=True), "text/csv; charset=utf-8",
                      "failure-codes.csv")
