"""The scanning station pages: the scan field with the dossier it finds, and the scanner calibration."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from ...errors import DomainError
from ...station import queries as station_queries
from ...station import service as station_service
from ...station.policy import profile_dict, search_term
from ...trace.models import Unit
from ..auth import current_user, requires, requires_page
from ..database import commit, db, reads_first
from ..i18n import _
from ..scanning import scan_log_writer
from . import calibration
from .common import (
    STATION_COOKIE,
    STATION_COOKIE_DAYS,
    bp,
    dossier,
    runtime,
    settings,
    station_name,
    user_text,
)


@bp.get("/")
def index():
    """Start at the scanning station."""
    return redirect(url_for("pages.station"))


@bp.route("/station", methods=["GET", "POST"])
@requires_page("pages.station")
@reads_first
def station():
    """The scanning station: one field that keeps focus; Enter submits; the result is loud."""
    name = station_name()
    if request.method == "GET":
        return render_template("station.html", code="", scan=None, dossier=None, station_name=name)
    code = user_text(request.form.get("code", ""), "code")
    source = "camera" if request.form.get("source") == "camera" else "typed"
    scan = station_service.scan_payload(db(), code, station=name, user=current_user(), source=source,
                                        log=scan_log_writer(), scheme=runtime().serial_scheme())
    commit()
    found = None
    shown = scan.get("repeat_of") or scan["result"]
    if shown == "unit":
        found = dossier(db().get(Unit, scan["matches"][0]["id"]))
    elif shown == "batch":
        return redirect(url_for("pages.batch", number=scan["matches"][0]["batch"],
                                product=scan["matches"][0]["product_sku"]))
    # A found unit clears the field for the next scan; anything else keeps the code to correct it.
    keep = "" if found else code
    status = 404 if scan["result"] == "not_found" else 422 if scan["result"] == "invalid" else 200
    return render_template("station.html", code=keep, scan=scan, dossier=found, station_name=name,
                           search=search_term(scan)), status


@bp.route("/station/calibrate", methods=["GET", "POST"])
@requires()
def calibrate_station():
    """Scan the test symbol once; the station learns its scanner's prefix, suffix, separator and layout."""
    name = station_name()
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
                        secure=settings().session_cookie_secure or request.is_secure)
    return response


def describe_separator(separator: str) -> str:
    """A readable name for what a scanner sends between GS1 fields."""
    if separator == "\x1d":
        return _("GS (0x1D), as the standard says")
    if separator == "":
        return _("nothing: the scanner drops separators")
    return _("%(char)r stands for GS", char=separator)
