"""One database session per request; the view commits once, the teardown rolls back anything left."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from flask import current_app, g, request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..db import integrity_to_conflict, is_unavailable

View = TypeVar("View", bound=Callable)


def reads_first(view: View) -> View:
    """Mark a view whose POST only reads through db() and writes through a writer of its own (the scan log), so
    it gets the read session: on SQLite a scan is answered while a long batch registration holds the write lock;
    on PostgreSQL its reads run without a transaction (see _without_transaction). Put it below @requires, which
    copies the mark onto its wrapper."""
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def _factory(rt) -> sessionmaker:
    if request.method in ("GET", "HEAD"):
        return rt.read_sessions
    if getattr(current_app.view_functions.get(request.endpoint or ""), "reads_first", False):
        return _without_transaction(rt.read_sessions)
    return rt.sessions


@lru_cache(maxsize=16)
def _without_transaction(factory: sessionmaker) -> sessionmaker:
    """`factory` with PostgreSQL's autocommit: each read is its own statement, with no BEGIN before and no COMMIT
    after (two round trips of the few a scan makes; it writes through a writer of its own). Elsewhere (SQLite, a
    session bound to a connection) `factory` itself."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        return factory
    return sessionmaker(**{**factory.kw, "bind": bind.execution_options(isolation_level="AUTOCOMMIT")},
                        class_=factory.class_)


def db() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = _factory(current_app.extensions["serialtrace"])()
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
