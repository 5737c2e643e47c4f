"""Engine and session construction; SQLite gets WAL, foreign keys and real transactions."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import SQLModel

from .errors import AppendOnly, Conflict, Contention
from .i18n import _l

log = logging.getLogger(__name__)

def load_models():
    """Import every domain's `models` module so the metadata lists every table; returns that metadata."""
    # Found by name rather than imported here, so db (a base module) depends on no domain.
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg and importlib.util.find_spec(f"{__package__}.{info.name}.models") is not None:
            importlib.import_module(f"{__package__}.{info.name}.models")
    return SQLModel.metadata


# Execution option marking an engine whose transactions only read.
READ_ONLY = "serialtrace_read_only"
# Execution option: milliseconds a transaction waits for SQLite's write lock (or a PostgreSQL row lock) before
# it gives up with a Contention; unset keeps the default (SQLite's busy timeout, no limit on PostgreSQL).
LOCK_WAIT_MS = "serialtrace_lock_wait_ms"
BUSY_TIMEOUT_MS = 30_000
# PostgreSQL states of a transaction that lost to another one and can simply be tried again:
# serialization_failure, deadlock_detected, lock_not_available (lock_timeout ran out).
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# PostgreSQL states of a server that is going away or not up yet: admin_shutdown (a restart or pg_terminate_backend),
# crash_shutdown, cannot_connect_now (starting up or shutting down); class 08 is every connection exception.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# SQLITE_CANTOPEN: the file or its folder is gone or unreadable (an unmounted volume).
_SQLITE_UNAVAILABLE_CODES = frozenset({14})
# What the drivers say when there is no server or the connection broke; connect errors carry no SQLSTATE.
_UNAVAILABLE_TEXT = re.compile(
    r"connection refused|server closed the connection|could not connect|connection failed|connection is closed|"
    r"connection to server .* failed|terminating connection|no connection to the server|"
    r"the database system is (?:starting up|shutting down|in recovery mode)|unable to open database file",
    re.IGNORECASE)
# SQLITE_BUSY and SQLITE_LOCKED, with or without extended codes (SQLITE_BUSY_SNAPSHOT is 517).
_SQLITE_BUSY_CODES = frozenset({5, 6})
# The refusal of the append-only triggers (migrate.append_only_ddl), on either database.
_APPEND_ONLY = re.compile(r"(?P<table>[a-z_][a-z0-9_]*)".join(map(re.escape, AppendOnly.TEMPLATE.split("{table}"))))


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for `url`; SQLite files get their folder, WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # A pooled connection is checked before use, so the first request after a database restart reconnects instead
    # of failing on a connection the server closed; a connection that breaks mid-request is invalidated (and with it
    # every older one in the pool) by SQLAlchemy's disconnect detection.
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    """Honour LOCK_WAIT_MS with a transaction-local lock_timeout."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        wait = conn.get_execution_options().get(LOCK_WAIT_MS)
        if wait is not None:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait)}")


def _configure_sqlite(engine: Engine) -> None:
    """Let SQLAlchemy own BEGIN so SAVEPOINTs and rollbacks work (the pysqlite transaction fix)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB page cache: unit inserts touch random pages of the serial index.
        cur.execute("PRAGMA cache_size=-65536")
        mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "memory":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front (IMMEDIATE), so two of them queue on busy_timeout instead of
        # one failing on lock upgrade halfway through. Readers (read_only engines) must not: in WAL mode a
        # plain BEGIN reads a snapshot while a long batch registration holds the write lock.
        options = conn.get_execution_options()
        if options.get(READ_ONLY, False):
            conn.exec_driver_sql("BEGIN")
            return
        wait = options.get(LOCK_WAIT_MS)
        if wait is None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        # The busy timeout is the connection's, and the connection goes back to the pool: set it for this
        # BEGIN only, the one statement that waits for the write lock.
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait)}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def is_sqlite(engine_or_session) -> bool:
    """True when the bound database is SQLite."""
    bind = getattr(engine_or_session, "bind", None) or engine_or_session
    return bind.dialect.name == "sqlite"


def make_session_factory(engine: Engine, *, read_only: bool = False, lock_wait_ms: int | None = None) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit; read_only ones never take SQLite's write lock,
    and with lock_wait_ms a writer gives up waiting for a lock after that many milliseconds."""
    options = {READ_ONLY: True} if read_only else {}
    if lock_wait_ms is not None:
        options[LOCK_WAIT_MS] = lock_wait_ms
    bind = engine.execution_options(**options) if options else engine
    return sessionmaker(bind=bind, class_=Session, expire_on_commit=False)


def with_lock_wait(factory: sessionmaker, lock_wait_ms: int) -> sessionmaker:
    """A copy of `factory` whose transactions give up waiting for a lock after `lock_wait_ms`; a factory bound to
    a connection (a caller managing the transaction, as tests do) is returned as it is."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        return factory
    return sessionmaker(**{**factory.kw, "bind": bind.execution_options(**{LOCK_WAIT_MS: lock_wait_ms})},
                        class_=factory.class_)


@contextmanager
def transaction(factory: sessionmaker) -> Iterator[Session]:
    """One action, one transaction: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise integrity_to_conflict(exc, "conflicts with existing data") from exc
    except DBAPIError as exc:
        session.rollback()
        busy = contention_error(exc)
        if busy is None:
            raise
        raise busy from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _integrity_reason(exc: IntegrityError) -> str:
    """First line of the driver's text, for the log only."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return text[:200]


def integrity_to_conflict(exc: IntegrityError, message: str, *, details: dict | None = None) -> Conflict:
    """Wrap a database uniqueness failure in a Conflict with `message` (and `details`), or a refused change of a
    history row in AppendOnly naming the table; the driver's text goes to the log."""
    # The driver's text names tables, constraints and values (DETAIL: Key (serial)=(...)); users get `message`.
    log.info("integrity error: %s", _integrity_reason(exc))
    refused = _APPEND_ONLY.search(_integrity_reason(exc))
    if refused:
        return AppendOnly(AppendOnly.TEMPLATE.format(table=refused["table"]))
    return Conflict(message, details=details)


def is_contention(exc: BaseException) -> bool:
    """True for a deadlock, a serialisation failure or a lock wait that ran out (SQLite: database is locked)."""
    if not isinstance(exc, DBAPIError) or isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY_CODES
    return "database is locked" in str(orig)


def is_unavailable(exc: BaseException) -> bool:
    """True when the database cannot be reached or dropped the connection (a restart, a crash, a missing SQLite
    file): nothing the request did was kept, and the same request works once the database is back."""
    if not isinstance(exc, DBAPIError) or isinstance(exc, IntegrityError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or ""
    if state in _UNAVAILABLE_SQLSTATES or state.startswith("08"):
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _SQLITE_UNAVAILABLE_CODES:
        return True
    return bool(_UNAVAILABLE_TEXT.search(str(orig if orig is not None else exc)))


def contention_error(exc: BaseException) -> Contention | None:
    """The Contention a user sees for a lost lock race (see is_contention); None for every other error."""
    if not is_contention(exc):
        return None
    log.info("contention: %s", _integrity_reason(exc))  # type: ignore[arg-type]
    state = getattr(exc.orig, "sqlstate", None)  # type: ignore[attr-defined]
    what = ({"40P01": _l("a deadlock"), "40001": _l("a serialisation failure")}.get(state)
            or _l("the wait for a lock ran out"))
    return Contention(_l("another action was changing the same data at the same time (%(what)s); nothing was "
                         "changed, try again", what=what), details={"retry": True})
