"""Shared fixtures: a real database per backend (SQLite file, PostgreSQL), one rolled-back transaction per test."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from serialtrace.accounts import service as accounts_service
from serialtrace.cli import main as cli_main
from serialtrace.db import load_models, make_engine
from serialtrace.migrate import upgrade
from serialtrace.runtime import Runtime
from serialtrace.serials import OpaqueDigits

from tests.fakesmtp import running_smtp

load_models()  # every domain's tables mapped, whichever models a test module imports itself

# Password hashing cost is not what these tests are about; scrypt per user would dominate their time.
accounts_service.PASSWORD_METHOD = "pbkdf2:sha256:1000"

PG_URL = os.environ.get("SERIALTRACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests are slow tests too, so the quick lane (`-m "not slow"`) leaves them out."""
    # tryfirst: the mark is added before pytest's own -m filter runs in this same hook.
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.slow)


def _postgres_available() -> str | None:
    """None when the server answers, else the reason."""
    try:
        engine = make_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver/network failure means: no server here
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"


def _skip_or_fail(reason: str) -> None:
    # In CI a missing PostgreSQL run would silently halve the coverage, so it is an error there.
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI requires the PostgreSQL run)")
    pytest.skip(reason)


@contextmanager
def _fresh_database(kind: str, folder):
    """A new, migrated, empty database: a SQLite file in `folder`, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'test-{uuid.uuid4().hex[:8]}.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    reason = _postgres_available()
    if reason:
        _skip_or_fail(reason)
    schema = f"st_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = _with_search_path(PG_URL, schema)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory):
    """A migrated, empty database for the whole run, once per backend; tests roll their work back."""
    with _fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db_url(request, tmp_path):
    """A database of its own for a test that must really commit (several processes, crash recovery)."""
    with _fresh_database(request.param, tmp_path) as url:
        yield url


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def engine(db_url):
    """The engine of the run's database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside an outer transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    if trans.is_active:
        trans.rollback()
    conn.close()


@pytest.fixture
def sessions(connection):
    """A session factory whose commits become SAVEPOINTs inside the test's transaction."""
    return sessionmaker(bind=connection, class_=Session, expire_on_commit=False,
                        join_transaction_mode="create_savepoint")


@pytest.fixture
def session(sessions):
    """One session for a service-level test."""
    s = sessions()
    yield s
    s.close()


@pytest.fixture
def make_runtime(db_url, connection, sessions):
    """make_runtime(**settings): a Runtime with those settings whose sessions join the test transaction."""

    def _make(**overrides) -> Runtime:
        settings = {"database_url": db_url, "secret_key": "test-secret", "testing": True, **overrides}
        return Runtime.from_env(settings, engine=connection.engine, sessions=sessions, read_sessions=sessions)

    return _make


@pytest.fixture
def settings_overrides():
    """Settings the `runtime` fixture adds; a test parametrizes this name to run the app with others."""
    return {}


@pytest.fixture
def runtime(make_runtime, settings_overrides):
    """A Runtime bound to the test transaction (for the app and CLI-level helpers)."""
    return make_runtime(**settings_overrides)


@pytest.fixture
def scheme():
    """The default opaque serial scheme with a test key."""
    return OpaqueDigits(secret="test-key")


@pytest.fixture
def product(session):
    """A product with a GTIN."""
    from serialtrace.trace import service

    return service.add_product(session, sku="PR-100", name="Flow meter UR-100", gtin="04601234560016",
                               warranty_months=24)


@pytest.fixture
def make_batch(session, product, scheme):
    """Register a batch of `quantity` units and return (batch, serials)."""
    from serialtrace.trace import service

    def _make(quantity: int = 5, number: str | None = None, **kw):
        return service.register_batch(session, product=product, quantity=quantity, number=number, scheme=scheme,
                                      produced_on=kw.pop("produced_on", date(2025, 1, 13)), **kw)

    return _make


@pytest.fixture
def fresh_cli(tmp_path, monkeypatch):
    """Run the console script (arguments, optional stdin `input`) on a fresh initialised SQLite file."""
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    runner = CliRunner()

    def _run(*args, input=None):
        return runner.invoke(cli_main, list(args), input=input, catch_exceptions=False)

    assert _run("init").exit_code == 0
    return _run


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 for the test: (host, port, received messages); `unknown@` is refused."""
    with running_smtp() as server:
        yield server
