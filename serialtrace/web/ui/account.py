"""The account pages: log in (with lockout), log out everywhere, change one's own password."""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ...accounts import policy as accounts_policy
from ...accounts import service as accounts_service
from ...columns import utcnow
from ...errors import ValidationError
from ..auth import SESSION_VERSION, current_user, requires
from ..database import commit, db
from ..i18n import _, refresh, tr
from .common import settings

# Named "auth" as before, so the endpoints (auth.login, auth.logout, auth.password) stay as the templates name them.
bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """A local path to go to after login; none is the start page; anything else (another host, a scheme, odd
    characters) is the station."""
    # Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so "/\t/evil" and
    # "/\\evil" would leave the site; such targets are refused rather than cleaned.
    if not target:
        return url_for("pages.index")  # the role's start page (the worklist for coordinators and engineers)
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" or ch == "\\" for ch in target):
        return url_for("pages.station")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.station")
    return target


def _address() -> str:
    """The client address the per-address lockout counts."""
    return request.remote_addr or ""


def _locked(exc: accounts_service.SignInLocked, template: str, **context):
    """The form again with status 429, saying until when (in the site's time zone) no password is checked."""
    zone = ZoneInfo(settings().timezone)
    seconds = max(1, math.ceil((exc.until - utcnow()).total_seconds()))
    until = exc.until.astimezone(zone)
    when = until.strftime("%H:%M") if until.date() == datetime.now(zone).date() else until.strftime("%Y-%m-%d %H:%M")
    if exc.scope == "user":
        message = _("too many failed log-ins for this user name; try again after %(when)s (in %(minutes)s min)",
                    when=when, minutes=math.ceil(seconds / 60))
    else:
        message = _("too many failed log-ins from this address; try again after %(when)s (in %(minutes)s min)",
                    when=when, minutes=math.ceil(seconds / 60))
    flash(message, "error")
    return render_template(template, **context), 429, {"Retry-After": str(seconds)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with user name and password; repeated failures lock the user name or the address for a while."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            user = accounts_service.sign_in(db(), username=username, password=request.form.get("password", ""),
                                    address=_address(), commit=commit)
        except accounts_service.SignInLocked as exc:
            return _locked(exc, "login.html", username=username)
        except accounts_service.SignInRefused:
            # One message for an unknown user and a wrong password, so the form tells nobody which names exist.
            flash(_("wrong user name or password"), "error")
            return render_template("login.html", username=username), 401
        session.clear()
        session["user_id"] = user.id
        session[SESSION_VERSION] = user.session_version
        session.permanent = True
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out: every session of this user ends, on this device and others, copied cookies included."""
    user = current_user()
    if user is not None and not g.via_token:
        accounts_service.log_out(db(), user, address=_address())
        commit()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires()
def password():
    """Change one's own password (the current one is checked under the lockout); other sessions end."""
    user = current_user()
    if request.method == "POST":
        new = request.form.get("new_password", "")
        try:
            if new != request.form.get("confirm_password", ""):
                raise ValidationError(_("the new password and its confirmation differ"))
            # The rule first, so a new password that would be refused costs no attempt.
            accounts_policy.ensure_password(new, username=user.username)
            accounts_service.sign_in(db(), username=user.username, password=request.form.get("current_password", ""),
                             address=_address(), commit=commit, purpose="password_change")
            accounts_service.set_password(db(), user, password=new, actor=user, address=_address())
        except accounts_service.SignInLocked as exc:
            return _locked(exc, "password.html", min_length=accounts_policy.MIN_LENGTH)
        except accounts_service.SignInRefused:
            flash(_("the current password is wrong; the password was not changed"), "error")
            return _password_form(403)
        except ValidationError as exc:
            flash(tr(exc.message), "error")
            return _password_form(422)
        commit()
        # This browser stays logged in with the new version; every other session of the user has ended.
        session[SESSION_VERSION] = user.session_version
        flash(_("password changed; your sessions on other devices have ended"), "ok")
        return redirect(url_for("pages.station"))
    return _password_form(200)


@bp.route("/account/language", methods=["POST"])
@requires()
def language():
    """Choose the language of one's own pages (empty: follow the browser); an unknown one changes nothing (422)."""
    user = current_user()
    try:
        accounts_service.set_language(db(), user, language=request.form.get("language", ""))
    except ValidationError as exc:
        flash(tr(exc.message), "error")
        return _password_form(422)
    commit()
    # This very answer is already in the new language: the flash below, and the page it leads to.
    refresh()
    flash(_("Language saved."), "ok")
    return redirect(url_for("auth.password"))


def _password_form(status: int):
    return render_template("password.html", min_length=accounts_policy.MIN_LENGTH), status
