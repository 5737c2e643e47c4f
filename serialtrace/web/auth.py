"""Authentication (session cookie for pages, bearer tokens for the API) and server-side role checks."""

from __future__ import annotations

import functools
import unicodedata
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from .. import accounts
from ..errors import PermissionDenied
from .database import db
from .i18n import _

bp = Blueprint("auth", __name__)


class Unauthorized(PermissionDenied):
    """No valid login or token."""

    status_code = 401
    code = "unauthorized"


def load_user() -> None:
    """Put the current user (or None) on g from a bearer token or the session cookie."""
    g.user = None
    g.via_token = False
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = accounts.user_for_token(db(), header[7:].strip())
        if user is None:
            raise Unauthorized(_("invalid or revoked API token"))
        g.user, g.via_token = user, True
        return
    user_id = session.get("user_id")
    if user_id is not None:
        user = db().get(accounts.User, user_id)
        if user is not None and user.active:
            g.user = user


def current_user() -> accounts.User | None:
    """The logged-in user or token owner."""
    return g.get("user")


def requires(*roles: str) -> Callable:
    """Allow the view to users holding one of `roles` (admins always); no roles means any logged-in user."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    raise Unauthorized(_("log in or send an API token (Authorization: Bearer ...)"))
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and not user.has_role(*roles):
                raise PermissionDenied(_("your role %(role)s may not do this; it needs %(roles)s",
                                         role=user.role, roles=" or ".join(roles)))
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the test that checks every view is guarded
        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (another host, a scheme, odd characters) is the station."""
    # Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so "/\t/evil" and
    # "/\\evil" would leave the site; such targets are refused rather than cleaned.
    if not target or any(ch.isspace() or unicodedata.category(ch)[0] == "C" or ch == "\\" for ch in target):
        return url_for("pages.station")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.station")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with user name and password."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = accounts.authenticate(db(), username=username, password=request.form.get("password", ""))
        if user is None:
            flash(_("wrong user name or password"), "error")
            return render_template("login.html", username=username), 401
        session.clear()
        session["user_id"] = user.id
        session.permanent = True
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
def logout():
    """Forget the login."""
    session.clear()
    return redirect(url_for("auth.login"))
