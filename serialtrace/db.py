"""Engine and session construction; SQLite gets WAL, foreign keys and real transactions."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from .errors import Conflict

log = logging.getLogger(__name__)

# Execution option marking an engine whose transactions only read.
READ_ONLY = "serialtrace_read_only"


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
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """Let SQLAlchemy own BEGIN so SAVEPOINTs and rollbacks work (the pysqlite transaction fix)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
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
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def is_sqlite(engine_or_session) -> bool:
    """True when the bound database is SQLite."""
    bind = getattr(engine_or_session, "bind", None) or engine_or_session
    return bind.dialect.name == "sqlite"


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit; read_only ones never take SQLite's write lock."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, class_=Session, expire_on_commit=False)


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
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _integrity_reason(exc: IntegrityError) -> str:
    """First line of the driver's text, for the log only."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return text[:200]


def integrity_to_conflict(exc: IntegrityError, message: str) -> Conflict:
    """Wrap a database uniqueness failure in a Conflict with `message`; the driver's text goes to the log."""
    # The driver's text names tables, constraints and values (DETAIL: Key (serial)=(...)); users get `message`.
    log.info("integrity error: %s", _integrity_reason(exc))
    return Conflict(message)
