"""The trace pages: unit search and dossier, batches with their genealogy and recall list, ERP import."""

from __future__ import annotations

from babel.numbers import get_decimal_symbol
from flask import flash, render_template, request

from ...accounts.enums import Role
from ...config import business_today
from ...errors import DomainError, NotFound, PermissionDenied
from ...trace import genealogy, queries
from ...trace.importer import detect_kind, import_file
from ...trace.models import Product
from ..auth import current_user, requires, requires_page
from ..database import commit, db
from ..downloads import recall_csv_response
from ..i18n import _, language
from .common import bp, dossier, runtime, settings, user_text

R = Role
# Who may read a recall list: customers' contacts for every unit of a batch.
RECALL_ROLES = (R.QUALITY, R.SUPERVISOR, R.COORDINATOR)
RECALL_ROWS_SHOWN = 200
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
# Who may import which kind of ERP export (admins always may).
IMPORT_ROLES: dict[str, tuple[str, ...]] = {
    "products": (R.PRODUCTION,),
    "batches": (R.PRODUCTION,),
    "shipments": (R.WAREHOUSE, R.PRODUCTION),
}


@bp.get("/units")
@requires_page("pages.units")
def units():
    """Units whose serial or external code starts with the search text."""
    q = user_text(request.args.get("q", "").strip(), "q")
    rows = queries.list_units(db(), prefix=q, limit=200) if q else []
    # A whole serial typed with a wrong check character finds nothing of its own: say it is a typo.
    typo = bool(q) and all(u.serial != q for u, *_ in rows) and queries.is_typo(q, scheme=runtime().serial_scheme())
    return render_template("units.html", rows=rows, q=q, typo=typo)


@bp.get("/units/<path:serial>")
@requires()
def unit(serial: str):
    """A unit's dossier."""
    if "\x00" in serial:
        raise NotFound(_("no unit with serial %(serial)r", serial=serial), details={"serial": serial})
    unit = queries.get_unit(db(), serial, gtin=user_text(request.args.get("gtin") or "", "gtin") or None,
                            scheme=runtime().serial_scheme())
    return render_template("unit.html", dossier=dossier(unit))


@bp.get("/batches")
@requires_page("pages.batches")
def batches():
    """Recent batches, newest first."""
    q = user_text(request.args.get("q", "").strip(), "q")
    return render_template("batches.html", rows=queries.list_batches(db(), prefix=q, limit=200), q=q)


@bp.get("/batches/<path:number>")
@requires()
def batch(number: str):
    """A batch: what went in, where it went, its recall list."""
    if "\x00" in number:
        raise NotFound(_("no batch %(number)r", number=number))
    b = queries.get_batch(db(), number, sku=request.args.get("product") or None)
    product = db().get(Product, b.product_id)
    recall_rows = []
    can_recall = current_user().has_role(*RECALL_ROLES)
    options = _recall_options() if can_recall else genealogy.RecallOptions()
    if can_recall:
        for i, row in enumerate(genealogy.recall_list(db(), batch_ids=[b.id], options=options)):
            if i >= RECALL_ROWS_SHOWN:
                break
            recall_rows.append(row)
    return render_template("batch.html", batch=b, product=product, back=genealogy.backward(db(), b),
                           fwd=genealogy.forward(db(), b), recall_rows=recall_rows, can_recall=can_recall,
                           recall=options, rows_shown=RECALL_ROWS_SHOWN, excel_delimiter=_excel_delimiter())


@bp.get("/batches/<path:number>/recall.csv")
@requires(R.QUALITY, R.SUPERVISOR, R.COORDINATOR)
def batch_recall_csv(number: str):
    """The full recall list as CSV (?exclude_returned=1, ?group=customer, ?delimiter=semicolon, ?excel=1)."""
    if "\x00" in number:
        raise NotFound(_("no batch %(number)r", number=number))
    options = _recall_options()
    return recall_csv_response(db(), queries.get_batch(db(), number, sku=request.args.get("product") or None),
                               options)


def _recall_options() -> genealogy.RecallOptions:
    """The recall list's cut and CSV form from the query string; an unknown group or delimiter is a 422."""
    args = request.args
    return genealogy.recall_options(
        exclude_returned=args.get("exclude_returned", "").lower() in TRUE_WORDS,
        group=user_text(args.get("group", ""), "group") or None,
        delimiter=user_text(args.get("delimiter", ""), "delimiter") or None,
        excel=args.get("excel", "").lower() in TRUE_WORDS)


def _excel_delimiter() -> str:
    """The delimiter Excel expects from this reader: Windows lists with ";" where the decimal mark is a comma."""
    return "semicolon" if get_decimal_symbol(language()) == "," else "comma"


@bp.route("/import", methods=["GET", "POST"])
@requires_page("pages.import_page")  # every role in IMPORT_ROLES; the kind is checked once the file is read
def import_page():
    """Upload an ERP export; all rows or nothing."""
    if request.method == "GET":
        return render_template("import.html", errors=None, report=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("choose a CSV file to import"), "error")
        return render_template("import.html", errors=None, report=None), 422
    # Flask's MAX_CONTENT_LENGTH (SERIALTRACE_MAX_UPLOAD_BYTES) has already answered a larger upload with 413.
    data = upload.read()
    try:
        kind = request.form.get("kind") or detect_kind(data)
        _ensure_may_import(kind)
        report = import_file(db(), data=data, kind=kind, scheme=runtime().serial_scheme(),
                             author=current_user(), today=business_today(settings()))
        commit()
    except DomainError as exc:
        db().rollback()
        errors = (exc.details or {}).get("errors") if isinstance(exc.details, dict) else None
        return render_template("import.html", errors=errors or [], message=exc.message, report=None), exc.status_code
    flash(report.summary(), "ok")
    return render_template("import.html", errors=None, report=report)


def _ensure_may_import(kind: str | None) -> None:
    """PermissionDenied unless the user's role may import this kind; unknown kinds are left to the importer."""
    roles = IMPORT_ROLES.get(kind or "")
    user = current_user()
    if roles is not None and not user.has_role(*roles):
        raise PermissionDenied(_("your role %(role)s may not import %(kind)s; it needs %(roles)s",
                                 role=user.role, kind=kind, roles=" or ".join(roles)))
