"""The scanning station pages: the scan field with the dossier it finds, and the scanner calibration."""

from __future__ import annotations

import secrets

from flask import jsonify, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf

from ...accounts.enums import Role
from ...errors import DomainError
from ...station import queries as station_queries
from ...station import service as station_service
from ...station.policy import profile_dict, search_term
from ...trace.models import Unit
from .. import csrf
from ..auth import current_user, may_open, requires, requires_page
from ..database import commit, db, reads_first
from ..i18n import _
from ..scanning import scan_log_writer
from . import calibration
from .common import (
    STATION_COOKIE,
    STATION_COOKIE_DAYS,
    STATION_KEY_COOKIE,
    bp,
    dossier,
    runtime,
    settings,
    station_name,
    user_text,
)
from .scan_result import (
    OPENS_PAGE,
    flash_signal,
    match_url,
    previous_text,
    scan_answer,
    shown_result,
    signal_of,
    token_refused,
)

# Whose working day is a list of claims: they start at their worklist after logging in.
START_AT_WORKLIST = (Role.COORDINATOR, Role.ENGINEER)


@bp.get("/")
def index():
    """Start at the worklist for coordinators and engineers (their day is the list), else at the station."""
    user = current_user()
    if user is not None and user.role in START_AT_WORKLIST:
        return redirect(url_for("pages.worklist"))
    return redirect(url_for("pages.station"))


@bp.route("/station", methods=["GET", "POST"])
@requires_page("pages.station")
@reads_first
def station():
    """The scanning station: one field that keeps focus; Enter submits; the result is loud."""
    name = station_name()
    if request.method == "GET":
        return _station_page(name)
    if token_refused():
        # The scan is kept; the page sends it again once with the fresh token it carries (station.js).
        code = request.form.get("code", "")
        again = request.form.get("renewed") != "1"
        return _station_page(name, code=code, renew=again, renew_failed=not again), 400
    code = user_text(request.form.get("code", ""), "code")
    source = "camera" if request.form.get("source") == "camera" else "typed"
    scan = station_service.scan_payload(db(), code, station=name, user=current_user(), source=source,
                                        log=scan_log_writer(), scheme=runtime().serial_scheme())
    commit()
    shown, matches = shown_result(scan), scan["matches"]
    found = dossier(db().get(Unit, matches[0]["id"])) if shown == "unit" else None
    signal = signal_of(scan, found)
    if shown in OPENS_PAGE and shown != "unit":
        # A batch, claim, lot or product opens its own page, which shows the signal and plays its tone.
        flash_signal(scan, signal)
        return redirect(match_url(matches[0], matches))
    # A found unit clears the field for the next scan; anything else keeps the code to correct it.
    keep = "" if found else code
    status = 404 if scan["result"] == "not_found" else 422 if scan["result"] == "invalid" else 200
    return _station_page(name, code=keep, scan=scan, dossier=found, signal=signal, search=search_term(scan),
                         previous=previous_text(scan)), status


def _station_page(name: str, **page):
    """The station page with this station's recent scans."""
    recent = station_queries.list_recent_scans(db(), station=name, user=current_user())
    page = {"code": "", "scan": None, "dossier": None, "signal": None, "search": "", "previous": None,
            "renew": False, "renew_failed": False, **page}
    return render_template("station.html", station_name=name, recent=recent, match_url=match_url,
                           may_complain=may_open(current_user(), "pages.station_complaint"), **page)


@bp.post("/scan")
@requires()
@reads_first
def scan_anywhere():
    """A scan from the field in every page's header: JSON with the signal and the page it opens, or why none."""
    if token_refused():
        # Answered with a fresh token, which the page retries with once, keeping the scan (scanfield.js).
        return jsonify({"error": "csrf", "message": _("the page's form token had expired; sending the scan again"),
                        "details": {"csrf_token": generate_csrf()}}), 400
    code = user_text(request.form.get("code", ""), "code")
    scan = station_service.scan_payload(db(), code, station=station_name(), user=current_user(),
                                        log=scan_log_writer(), scheme=runtime().serial_scheme())
    commit()
    answer = scan_answer(scan)
    if answer["url"]:
        flash_signal(scan, signal_of(scan))
    status = 404 if scan["result"] == "not_found" else 422 if scan["result"] == "invalid" else 200
    return jsonify(answer), status


# Both check their token themselves (token_refused), so an old token is renewed instead of losing the scan.
csrf.exempt(station)
csrf.exempt(scan_anywhere)


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
    # The device's key binds the stations it calibrates first to this browser; one is made on its first calibration.
    device_key = request.cookies.get(STATION_KEY_COOKIE) or secrets.token_urlsafe(32)
    try:
        learned = station_service.calibrate_station(db(), name=name, raw=raw, author=current_user(),
                                                    device_key=device_key)
        commit()
    except DomainError as exc:
        db().rollback()
        page.update(error=exc.message, raw=raw, station_name=name)
        return render_template("calibrate.html", **page), exc.status_code
    page.update(learned=profile_dict(learned), station_name=name)
    response = make_response(render_template("calibrate.html", **page))
    secure = settings().session_cookie_secure or request.is_secure
    response.set_cookie(STATION_COOKIE, name, max_age=STATION_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=secure)
    response.set_cookie(STATION_KEY_COOKIE, device_key, max_age=STATION_COOKIE_DAYS * 86400, httponly=True,
                        samesite="Strict", secure=secure)
    return response


def describe_separator(separator: str) -> str:
    """A readable name for what a scanner sends between GS1 fields."""
    if separator == "\x1d":
        return _("GS (0x1D), as the standard says")
    if separator == "":
        return _("nothing: the scanner drops separators")
    return _("%(char)r stands for GS", char=separator)
