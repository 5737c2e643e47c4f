"""One database session per request; the view commits once, the teardown rolls back anything left."""

from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import integrity_to_conflict


def db() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        rt = current_app.extensions["serialtrace"]
        factory = rt.read_sessions if request.method in ("GET", "HEAD") else rt.sessions
        g.db_session = factory()
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
    if session is not None:
        session.rollback()
        session.close()
