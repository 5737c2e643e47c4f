"""Server-rendered pages: scanning station, unit dossier, batch genealogy and recall, ERP import."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for

from ..accounts.enums import Role
from ..config import business_today
from ..errors import DomainError, NotFound, PermissionDenied, ValidationError
from ..trace import genealogy, queries
from ..trace.importer import detect_kind, import_file
from ..trace.models import Product, Unit
from ..warranty.dossier import unit_dossier
from ..station import queries as station_queries
from ..station import service as station_service
from ..station.policy import profile_dict, search_term
from . import calibration
from .auth import current_user, requires
from .downloads import recall_csv_response
from .database import commit, db, reads_first
from .i18n import _
from .scanning import describe_separator, scan_log_writer

bp = Blueprint("pages", __name__)
R = Role
STATION_COOKIE = "st_station"
STATION_COOKIE_DAYS = 365
# Who may import which kind of ERP export (admins always may).
IMPORT_ROLES: dict[str, tuple[str, ...]] = {
    "products": (R.PRODUCTION,),
    "batches": (R.PRODUCTION,),
    "shipments": (R.WAREHOUSE, R.PRODUCTION),
}


def _settings():
    return current_app.extensions["serialtrace"].settings


def _dossier(unit: Unit) -> dict:
    # Warranty is judged on the business's calendar day (SERIALTRACE_TIMEZONE), not the server's.
    settings = _settings()
    return unit_dossier(db(), unit, today=business_today(settings), grace_days=settings.warranty_grace_days)


def user_text(value: str, field: str) -> str:
    """`value` when the database can store it; a NUL character is a 422 naming the field."""
    # PostgreSQL refuses NUL in text outright (SQLite stores it), so it is stopped here the same on both.
    if "\x00" in value:
        raise ValidationError(_("%(field)s contains a NUL character; type or scan it again", field=field),
                              details={"field": field})
    return value


@bp.get("/")
def index():
    """Start at the scanning station."""
    return redirect(url_for("pages.station"))


def _station_name() -> str:
    # The form field wins so one browser can be moved to another desk without clearing cookies.
    return user_text((request.form.get("station") or request.cookies.get(STATION_COOKIE) or "").strip(), "station")


@bp.route("/station", methods=["GET", "POST"])
@requires()
@reads_first
def station():
    """The scanning station: one field that keeps focus; Enter submits; the result is loud."""
    name = _station_name()
    if request.method == "GET":
        return render_template("station.html", code="", scan=None, dossier=None, station_name=name)
    code = user_text(request.form.get("code", ""), "code")
    source = "camera" if request.form.get("source") == "camera" else "typed"
    scan = station_service.scan_payload(db(), code, station=name, user=current_user(), source=source,
                                        log=scan_log_writer(),
                                        scheme=current_app.extensions["serialtrace"].serial_scheme())
    commit()
    dossier = None
    shown = scan.get("repeat_of") or scan["result"]
    if shown == "unit":
        unit = db().get(Unit, scan["matches"][0]["id"])
        dossier = _dossier(unit)
    elif shown == "batch":
        return redirect(url_for("pages.batch", number=scan["matches"][0]["batch"],
                                product=scan["matches"][0]["product_sku"]))
    # A found unit clears the field for the next scan; anything else keeps the code to correct it.
    keep = "" if dossier else code
    status = 404 if scan["result"] == "not_found" else 422 if scan["result"] == "invalid" else 200
    return render_template("station.html", code=keep, scan=scan, dossier=dossier, station_name=name,
                           search=search_term(scan)), status


@bp.route("/station/calibrate", methods=["GET", "POST"])
@requires()
def calibrate_station():
    """Scan the test symbol once; the station learns its scanner's prefix, suffix, separator and layout."""
    name = _station_name()
    page = {"symbols": calibration.test_symbols(), "human": calibration.human_readable(), "station_name": name,
            "learned": None, "error": None, "raw": "",
            "describe_separator": describe_separator}
    if request.method == "GET":
        page["learned"] = station_queries.find_station_profile(db(), name)
        return render_template("calibrate.html", **page)
    raw = user_text(request.form.get("code", ""), "code")
    try:
        learned = station_service.calibrate_station(db(), name=name, raw=raw, author=current_user())
        commit()
    except DomainError as exc:
        db().rollback()
        page.update(error=exc.message, raw=raw, station_name=name)
        return render_template("calibrate.html", **page), exc.status_code
    page.update(learned=profile_dict(learned), station_name=name)
    response = make_response(render_template("calibrate.html", **page))
    response.set_cookie(STATION_COOKIE, name, max_age=STATION_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=_settings().session_cookie_secure or request.is_secure)
    return response


@bp.get("/units")
@requires()
def units():
    """Units whose serial or external code starts with the search text."""
    q = user_text(request.args.get("q", "").strip(), "q")
    rows = queries.list_units(db(), prefix=q, limit=200) if q else []
    return render_template("units.html", rows=rows, q=q)


@bp.get("/units/<path:serial>")
@requires()
def unit(serial: str):
    """A unit's dossier."""
    if "\x00" in serial:
        raise NotFound(_("no unit with serial %(serial)r", serial=serial), details={"serial": serial})
    unit = queries.get_unit(db(), serial, gtin=user_text(request.args.get("gtin") or "", "gtin") or None)
    return render_template("unit.html", dossier=_dossier(unit))


@bp.get("/batches")
@requires()
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
    can_recall = current_user().has_role(R.QUALITY, R.SUPERVISOR, R.COORDINATOR)
    if can_recall:
        for i, row in enumerate(genealogy.recall_rows(db(), batch_ids=[b.id])):
            if i >= 200:
                break
            recall_rows.append(row)
    return render_template("batch.html", batch=b, product=product, back=genealogy.backward(db(), b),
                           fwd=genealogy.forward(db(), b), recall_rows=recall_rows, can_recall=can_recall)


@bp.get("/batches/<path:number>/recall.csv")
@requires(R.QUALITY, R.SUPERVISOR, R.COORDINATOR)
def batch_recall_csv(number: str):
    """The full recall list as CSV."""
    if "\x00" in number:
        raise NotFound(_("no batch %(number)r", number=number))
    return recall_csv_response(db(), queries.get_batch(db(), number, sku=request.args.get("product") or None))


@bp.route("/import", methods=["GET", "POST"])
@requires(R.PRODUCTION, R.WAREHOUSE)  # every role in IMPORT_ROLES; the kind is checked once the file is read
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
        report = import_file(db(), data=data, kind=kind, scheme=current_app.extensions["serialtrace"].serial_scheme(),
                             author=current_user(), today=business_today(_settings()))
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
