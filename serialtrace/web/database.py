"""One database session per request; the view commits once, the teardown rolls back anything left."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ..db import integrity_to_conflict, is_unavailable

View = TypeVar("View", bound=Callable)


def reads_first(view: View) -> View:
    """Mark a view whose POST only reads through db() and writes through a writer of its own (the scan log), so
    it gets the read session: on SQLite a scan is answered while a long batch registration holds the write lock.
    Put it below @requires, which copies the mark onto its wrapper."""
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def _reads_only() -> bool:
    if request.method in ("GET", "HEAD"):
        return True
    return getattr(current_app.view_functions.get(request.endpoint or ""), "reads_first", False)


def db() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        rt = current_app.extensions["serialtrace"]
        g.db_session = (rt.read_sessions if _reads_only() else rt.sessions)()
    return g.db_session


def commit() -> None:
    """Commit the request's work; a uniqueness failure becomes a Conflict."""
    try:
        db().commit()
    except IntegrityError as exc:
        db().rollback()
        raise integrity_to_conflict(exc, "conflicts with existing data") from exc


def close_session(_exc: BaseException | None = None) -> None:
    """Roll back whatever was not committed and release the connection."""
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.rollback()
    except DBAPIError as exc:
        # The server went away after the view had its answer (a restart): there is nothing left to roll back,
        # and raising here would replace that answer with the WSGI server's bare 500.
        if not is_unavailable(exc):
            raise
        current_app.logger.warning("database connection lost before the request's rollback: %s",
                                   str(exc.orig or exc).strip().splitlines()[0][:200])
    finally:
        session.close()
