"""A database that goes away: 503 database_unavailable with Retry-After on API and pages, and recovery by itself.

The PostgreSQL tests run the app against a private cluster they start in a temporary folder (never the shared
server, which other tests use), stop it mid-run and start it again, with no restart of the app."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import event, text

from serialtrace.accounts import service as accounts_service
from serialtrace.db import make_engine
from serialtrace.migrate import upgrade
from serialtrace.runtime import Runtime
from serialtrace.web import create_app

from tests.web.conftest import PASSWORD, csrf_from

MESSAGE = "the database is not reachable; nothing was changed; try again in a moment"
PG_BIN = Path(os.environ.get("SERIALTRACE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class Cluster:
    """A throwaway PostgreSQL cluster in `folder` on a free port, run as the postgres user when we are root."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        # initdb and postgres refuse to run as root: drop to the postgres account for them.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{argv[0]} failed: {done.stdout} {done.stderr}")

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@pytest.fixture(scope="module")
def cluster():
    """A running private cluster, migrated, for this module; stopped and removed afterwards."""
    if not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN}")
    # Its own folder right under /tmp: pytest keeps its temporary root private (0700), out of the postgres
    # account's reach.
    pg = Cluster(Path(tempfile.mkdtemp(prefix="serialtrace-pg-")))
    try:
        pg.init()
        pg.start()
        engine = make_engine(pg.url)
        upgrade(engine)
        engine.dispose()
        yield pg
        try:
            pg.stop("immediate")
        except RuntimeError:
            pass  # a test left it stopped
    finally:
        shutil.rmtree(pg.folder, ignore_errors=True)


@pytest.fixture
def make_app():
    """make_app(url, username): the app on `url` with a warehouse user `username`, and that user's API token; the
    engines are disposed after the test (a connection left open warns)."""
    runtimes = []

    def _make(url: str, username: str):
        rt = Runtime.from_env({"database_url": url, "secret_key": "outage-test"})
        runtimes.append(rt)
        with rt.transaction() as s:
            user = accounts_service.create_user(s, username=username, role="warehouse", password=PASSWORD)
            token = accounts_service.create_token(s, name="outage", user=user)
        return create_app(runtime=rt), token

    yield _make
    for rt in runtimes:
        rt.engine.dispose()


def _logged_in(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def _scan(client, token: str, code: str):
    return client.post("/api/v1/scans", json={"code": code, "station": "outage"},
                       headers={"Authorization": f"Bearer {token}"})


def _assert_unavailable_api(resp) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.get_json() == {"error": "database_unavailable", "message": MESSAGE, "details": {"retry": True}}
    assert int(resp.headers["Retry-After"]) > 0


def _assert_unavailable_page(resp) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)
    html = resp.get_data(as_text=True)
    assert 'data-status="503"' in html and MESSAGE in html
    assert int(resp.headers["Retry-After"]) > 0


def _logged(url: str, raw: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT count(*) FROM scan_log WHERE raw = :r"), {"r": raw})
    engine.dispose()
    return count


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_restart_answers_503_then_the_app_recovers_without_a_restart(cluster, make_app, mode):
    app, token = make_app(cluster.url, f"restart-{mode}")
    client, page = app.test_client(), _logged_in(app, f"restart-{mode}")
    assert _scan(client, token, f"BEFORE-{mode}").status_code == 200
    assert page.get("/station").status_code == 200

    # The pool holds connections the server is about to close (fast: AdminShutdown; immediate: no goodbye).
    cluster.stop(mode)
    try:
        _assert_unavailable_api(_scan(client, token, f"DURING-{mode}"))
        _assert_unavailable_api(_scan(client, token, f"DURING-{mode}"))  # connection refused now, not a stale one
        _assert_unavailable_page(page.get("/station"))
    finally:
        cluster.start()

    # The very next requests work: pre-ping drops the dead pooled connections and connects again.
    assert _scan(client, token, f"AFTER-{mode}").status_code == 200
    assert page.get("/station").status_code == 200
    # A restart nobody noticed (no request while it was down): the first request after it does not fail on the
    # pooled connections the old server closed.
    cluster.stop(mode)
    cluster.start()
    assert _scan(client, token, f"UNNOTICED-{mode}").status_code == 200
    assert page.get("/station").status_code == 200
    assert [_logged(cluster.url, f"{when}-{mode}") for when in ("BEFORE", "DURING", "AFTER", "UNNOTICED")] == [
        1, 0, 1, 1]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_connection_dropped_mid_request_is_503_and_the_pool_replaces_it(cluster, make_app):
    """The server ends the request's own backend between two statements (pg_terminate_backend, as an operator or
    a failover does): that request is 503, the broken connection is thrown away, the next request works."""
    app, token = make_app(cluster.url, "dropped")
    client = app.test_client()
    assert _scan(client, token, "WARM").status_code == 200
    engine = app.extensions["serialtrace"].engine
    admin = make_engine(cluster.url)
    armed = {"left": 1}

    @event.listens_for(engine, "before_cursor_execute")
    def _kill_own_backend(conn, cursor, statement, parameters, context, executemany):
        if armed["left"] and statement.lstrip().upper().startswith("SELECT"):
            armed["left"] -= 1
            with admin.begin() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"),
                              {"pid": conn.connection.dbapi_connection.info.backend_pid})

    try:
        _assert_unavailable_api(_scan(client, token, "KILLED"))
        assert armed["left"] == 0
        assert _scan(client, token, "NEXT").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _kill_own_backend)
        admin.dispose()
    assert (_logged(cluster.url, "KILLED"), _logged(cluster.url, "NEXT")) == (0, 1)


def test_a_missing_sqlite_file_is_503_on_api_and_pages(tmp_path, make_app):
    """SQLite's "unable to open database file" (its folder unmounted or removed) is the same outage."""
    folder = tmp_path / "volume"
    url = f"sqlite:///{folder / 'serialtrace.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app, token = make_app(url, "sqlite")
    page = _logged_in(app, "sqlite")
    app.extensions["serialtrace"].engine.dispose()  # no open connection keeps the removed file alive
    shutil.rmtree(folder)
    _assert_unavailable_api(_scan(app.test_client(), token, "GONE"))
    _assert_unavailable_page(page.get("/station"))


def test_every_operation_documents_the_503_of_an_outage(tmp_path, make_app):
    url = f"sqlite:///{tmp_path / 'doc.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app, _ = make_app(url, "reader")
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}
    assert len(operations) > 50
    for (path, method), op in operations.items():
        if path != "/openapi.json":
            assert "database_unavailable" in op["responses"]["503"]["description"], (path, method)


@pytest.mark.postgres
@pytest.mark.slow
def test_a_connection_lost_after_the_answer_keeps_the_answer(cluster, make_app):
    """The server ends the connection after the view answered but before the request's closing rollback: the
    answer stands (not the WSGI server's bare 500) and the next request gets a new connection."""
    app, token = make_app(cluster.url, "late")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    admin = make_engine(cluster.url)
    killed = []

    # Registered after the app's own teardown, so it runs first (Flask runs them in reverse).
    @app.teardown_appcontext
    def _kill_before_rollback(_exc):
        session = g.get("db_session")
        if session is not None and session.in_transaction() and not killed:
            pid = session.connection().connection.dbapi_connection.info.backend_pid
            with admin.begin() as other:
                killed.append(other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}))

    try:
        resp = client.get("/api/v1/failure-codes", headers=headers)
        assert killed == [True]
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert client.get("/api/v1/failure-codes", headers=headers).status_code == 200
    finally:
        admin.dispose()
