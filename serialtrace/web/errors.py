"""The one place that turns errors into the JSON envelope (API) or a page with a message (UI)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from ..db import contention_error, is_unavailable
from ..errors import DecoderBusy, DomainError, ImageRejected, ImageTooLarge, InvalidScan
from ..labels import LabelError
from ..scanner import ImageError, ScanError
from .i18n import _, tr, tr_all


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


# Seconds a client waits before trying again when the database is down: about what a PostgreSQL restart takes.
RETRY_AFTER_SECONDS = 5


def _respond(status: int, error: str, message: str, details=None, headers=None):
    """The JSON envelope for API calls, the error page with the message for everything else."""
    # A message raised below web is shown here, in the reader's language (the CLI shows it in English).
    message, details = tr(message), tr_all(details)
    if _wants_json():
        return jsonify({"error": error, "message": message, "details": details}), status, headers or {}
    return render_template("error.html", status=status, message=message, back=_way_back()), status, headers or {}


def _drop_session() -> None:
    """Roll back the request's session after the database went away, keeping the logged-in user readable."""
    session = g.get("db_session")
    if session is None:
        return
    # A rollback expires what the session loaded, and the error page reads the user's name: detached first, the
    # user keeps the values already loaded and the page does not ask the absent database for them again.
    session.expunge_all()
    try:
        session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone either way; the teardown closes the session
        current_app.logger.info("rollback after a lost database connection failed", exc_info=True)


def _way_back() -> str | None:
    """The page the reader came from, when it is one of ours and not this one; None sends them home instead."""
    # Only a same-site referrer: a link back to another site from our error page would be an open redirect.
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host or referrer == request.url:
        return None
    return referrer


def scan_domain_error(exc: ScanError) -> DomainError:
    """The DomainError of a scanner error: 413 for a size limit, 503 when every decoder is busy, 422 otherwise."""
    if isinstance(exc, ImageError):
        kind = {413: ImageTooLarge, 503: DecoderBusy}.get(exc.status_code, ImageRejected)
        return kind(exc.message, details={"field": "image"})
    details = exc.details if exc.details is not None else {"part": exc.part} if exc.part else None
    return InvalidScan(exc.message, details=details)


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return _respond(exc.status_code, exc.code, exc.message, exc.details)

    @app.errorhandler(ScanError)
    def scan_error(exc: ScanError):
        # The scanner package is pure (it cannot raise a DomainError); its errors answer as their DomainError twins.
        return domain_error(scan_domain_error(exc))

    @app.errorhandler(LabelError)
    def label_error(exc: LabelError):
        # The labels package names the field and the rule; both go to the client so a template can be fixed.
        message = _("label %(where)s: %(rule)s", where=exc.field, rule=exc.rule)
        return _respond(422, "invalid_label", message, {"field": exc.field, "rule": exc.rule, "index": exc.index})

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = _("the form expired or was sent from elsewhere; reload the page and try again")
        return _respond(400, "csrf", message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {404: _("not found"), 405: _("method not allowed"), 400: _("bad request"),
                    413: _("upload too large: the limit is %(limit)s bytes",
                           limit=app.config.get("MAX_CONTENT_LENGTH"))}
        message = messages.get(exc.code, exc.description or exc.name)
        return _respond(exc.code or 500, exc.name.lower().replace(" ", "_"), message)

    @app.errorhandler(DataError)
    def data_error(exc: DataError):
        # A value the column cannot hold (too long, out of range, a NUL byte on PostgreSQL) is the user's input,
        # not a server fault; the driver's text stays in the log because it names tables and values.
        app.logger.info("database refused a value on %s: %s", request.path, str(exc.orig or exc).splitlines()[0])
        session = g.get("db_session")
        if session is not None:
            # Now, not only in the teardown: the error page reads the logged-in user through this session.
            session.rollback()
        message = _("a value is too long or out of range; nothing was changed")
        return _respond(422, "invalid_value", message)

    def database_unavailable(exc: Exception):
        # The server is down, restarting, or dropped the connection: the transaction is lost with it (only a COMMIT
        # the server finished just before the connection broke is kept, and that cannot be told from here). The
        # pool drops the broken connections and a later request connects again (pre-ping), no restart needed.
        app.logger.warning("database unavailable on %s: %s", request.path,
                           str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200])
        _drop_session()
        message = _("the database is not reachable; nothing was changed; try again in a moment")
        return _respond(503, "database_unavailable", message, {"retry": True},
                        {"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.errorhandler(InterfaceError)
    def database_interface(exc: InterfaceError):
        # psycopg says "the connection is closed" as an InterfaceError when a broken connection is used again.
        return database_unavailable(exc) if is_unavailable(exc) else unexpected(exc)

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError):
        # A deadlock, a serialisation failure or SQLite's "database is locked" is a race another request won:
        # 409 with the reason, so the client tries again. A database that is down or restarting is 503 with
        # Retry-After. Any other operational error is the server's.
        if is_unavailable(exc):
            return database_unavailable(exc)
        busy = contention_error(exc)
        if busy is None:
            return unexpected(exc)
        session = g.get("db_session")
        if session is not None:
            session.rollback()
        return _respond(busy.status_code, busy.code, busy.message, busy.details)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        message = _("internal error; nothing was changed")
        return _respond(500, "internal", message)
