"""Flask app factory: settings, database, auth, CSRF, blueprints (UI pages and /api/v1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from ..config import DEFAULT_SERIAL_KEY, instance_secret_key
from ..runtime import Runtime
from ..trace.policy import MAX_INT
from . import errors, i18n, jsonbody, ratelimit, security
from .database import close_session

if TYPE_CHECKING:
    from ..scanner import FrameTrackers

csrf = CSRFProtect()


class _Id(IntegerConverter):
    """`<int:...>` in a URL: ids are 32-bit in the database, so a larger number names nothing (a 404) rather than
    reaching the driver, which cannot bind it (a 500)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_INT:
            # Raised, not a failed match: a failed converter makes Werkzeug answer 405 when the same URL has a rule
            # for another method.
            raise NotFound()
        return number


def create_app(overrides: Mapping[str, Any] | None = None, *, runtime: Runtime | None = None,
               frame_trackers: FrameTrackers | None = None) -> Flask:
    """Build the app; the engine is made here (lazily), never at import time. `runtime` (settings, engine,
    sessions) and `frame_trackers` (the camera frames' clock) are made from the settings unless given."""
    rt = runtime or Runtime.from_env(overrides)
    from .api import openapi_app

    app = openapi_app(__name__)
    app.url_map.converters["int"] = _Id
    jsonbody.install(app)
    settings = rt.settings
    app.config.update(
        # Kept in the instance folder when not configured, so a restart keeps logins and open stations' form tokens.
        SECRET_KEY=settings.secret_key or instance_secret_key(settings.instance_dir),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
    )
    if settings.serial_key == DEFAULT_SERIAL_KEY and settings.serial_scheme != "pattern":
        app.logger.warning("SERIALTRACE_SERIAL_KEY is not set; opaque serials are predictable from the source code")
    app.extensions["serialtrace"] = rt
    if frame_trackers is not None:
        app.extensions["serialtrace_frames"] = frame_trackers
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    csrf.init_app(app)
    i18n.install(app, settings.timezone)
    errors.register(app)
    security.install(app, settings)
    ratelimit.install(app, settings)
    app.teardown_appcontext(close_session)

    from . import api, auth, ui

    app.before_request(auth.load_user)
    app.before_request(jsonbody.check_json_body)
    ui.register(app)
    app.register_api(api.bp)
    # The API authenticates with bearer tokens, which a cross-site form cannot send; cookie-authenticated
    # API calls from our own pages still carry the CSRF header (see api.before_request).
    csrf.exempt(api.bp)

    @app.context_processor
    def _globals():
        # `_` in templates is Flask-Babel's (jinja2.ext.i18n, new style: `_("%(n)s units", n=3)`).
        return {"current_user": g.get("user"), "settings": settings}

    return app
