"""`serialtrace backup` and `restore` on real databases: an online SQLite backup while scans keep being written, a
pg_dump of the test's PostgreSQL schema, every table compared row by row after the restore, and the refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from serialtrace import backup as backups
from serialtrace.cli import main
from serialtrace.db import load_models, make_engine, transaction
from serialtrace.demo import DEMO_PASSWORD
from serialtrace.migrate import alembic_config, heads, upgrade
from serialtrace.runtime import Runtime
from serialtrace.station.service import scan_payload
from serialtrace.trace.models import Unit
from serialtrace.web import create_app

from tests.conftest import PG_URL, _fresh_database

DEMO_UNITS = "200"


def _cli(url: str, *args: str):
    """Run the console script on the database at `url`."""
    rt = Runtime.from_env({"database_url": url})
    try:
        return CliRunner().invoke(main, list(args), obj=rt, catch_exceptions=False)
    finally:
        rt.engine.dispose()


def _demo(url: str) -> None:
    result = _cli(url, "demo", "--units", DEMO_UNITS)
    assert result.exit_code == 0, result.output


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the database at `url`, each table ordered by its primary key."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            tables = {}
            for name in sorted(found.get_table_names()):
                columns = [c["name"] for c in found.get_columns(name)]
                order = found.get_pk_constraint(name)["constrained_columns"] or columns
                quote = conn.dialect.identifier_preparer.quote
                tables[name] = [tuple(row) for row in conn.execute(text(
                    f"SELECT {', '.join(map(quote, columns))} FROM {quote(name)} "
                    f"ORDER BY {', '.join(map(quote, order))}"))]
    finally:
        engine.dispose()
    # Every table of the models is there (and compared), not only those the inspector happened to list.
    assert set(load_models().tables) | {"alembic_version"} <= set(tables)
    return tables


def _differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> list[str]:
    """The tables whose rows differ between two `_rows` results."""
    return [name for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]


def _revision(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _error(result, *parts: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    for part in parts:
        assert part in result.output, result.output


def _app_and_init_work(url: str) -> None:
    """The restored database serves the app (a demo login, a unit's page), takes writes and `init`."""
    rt = Runtime.from_env({"database_url": url, "secret_key": "backup-test", "serial_key": "backup-test"})
    try:
        with rt.transaction() as s:
            serial = s.scalars(select(Unit.serial).order_by(Unit.id).limit(1)).one()
        client = create_app(runtime=rt).test_client()
        page = client.get("/login").get_data(as_text=True)
        marker = 'name="csrf_token" value="'
        start = page.index(marker) + len(marker)
        answer = client.post("/login", data={"username": "quality", "password": DEMO_PASSWORD,
                                             "csrf_token": page[start:page.index('"', start)]})
        assert answer.status_code == 302
        unit_page = client.get(f"/units/{serial}")
        assert unit_page.status_code == 200 and serial in unit_page.get_data(as_text=True)
    finally:
        rt.engine.dispose()
    # New rows get new keys: the restored sequences (PostgreSQL) and the rowids go on from the backup's.
    _ok(_cli(url, "products", "add", "--sku", "AFTER-RESTORE", "--name", "added after the restore"))
    assert "database ready" in _ok(_cli(url, "init"))
    assert _revision(url) == heads()[0]


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory) -> str:
    """A SQLite file with the demo data (scans are appended to it by the tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('backup') / 'source.sqlite'}"
    _demo(url)
    return url


class _Scanner(threading.Thread):
    """Writes scans into the database at `url`, one transaction each, until stopped; times the slowest."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.rt = Runtime.from_env({"database_url": url})
        with self.rt.transaction() as s:
            self.serials = list(s.scalars(select(Unit.serial).order_by(Unit.id)))
        self.written = 0
        self.slowest = 0.0
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                # Known serials and unknown codes, never the same code twice in a row (a repeat is not logged).
                n = self.written
                code = self.serials[n % len(self.serials)] if n % 2 else f"BACKUP-TEST-{n}"
                started = time.perf_counter()
                with transaction(self.rt.sessions) as s:
                    scan_payload(s, code, station="backup-test")
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.written += 1
        except BaseException as exc:  # reported by the test thread
            self.failure = exc
        finally:
            self.rt.engine.dispose()


@pytest.mark.slow  # loads the demo data
def test_sqlite_backup_while_scans_are_written_restores_every_row(sqlite_demo, tmp_path):
    backup, restored = tmp_path / "nightly.sqlite", f"sqlite:///{tmp_path / 'restored.sqlite'}"
    scanner = _Scanner(sqlite_demo)
    scanner.start()
    try:
        while scanner.written < 5 and scanner.is_alive():
            time.sleep(0.01)
        scans_before = len(_rows(sqlite_demo)["scan_log"])
        written_before = scanner.written
        # Small steps with pauses, so the scanner commits between steps (the demo file is about 1 MB).
        engine = make_engine(sqlite_demo)
        summary = backups.backup(engine, backup, pages=4, pause=0.01)
        engine.dispose()
        written_during = scanner.written - written_before
    finally:
        scanner.stop.set()
        scanner.join(10)
    assert scanner.failure is None
    assert written_during >= 5, "the scans did not go on while the backup ran"
    assert scanner.slowest < 2.0, f"a scan waited {scanner.slowest:.2f} s"
    assert summary.kind == "sqlite" and summary.revision == heads()[0] and summary.size == backup.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["nightly.sqlite"]  # no temporary file left beside it
    assert backup.read_bytes()[18:20] == b"\x01\x01"  # a self-contained file, not one needing a -wal beside it

    out = _ok(_cli(restored, "restore", str(backup)))
    assert f"{summary.tables} tables, {summary.rows:,} rows, schema revision {summary.revision}" in out
    assert "serialtrace init" not in out
    source, copy = _rows(sqlite_demo), _rows(restored)
    # The backup is one consistent moment: every table as the source has it, the scan log up to that moment.
    scans = copy.pop("scan_log")
    assert scans_before <= len(scans) < len(source["scan_log"])
    assert scans == source.pop("scan_log")[:len(scans)]
    assert _differences(source, copy) == []
    assert sum(map(len, copy.values())) + len(scans) == summary.rows
    # The comparison sees a change in any table.
    engine = make_engine(restored)
    with engine.begin() as conn:
        conn.execute(text("UPDATE customer SET name = name || '.' WHERE id = (SELECT min(id) FROM customer)"))
    engine.dispose()
    assert _differences(copy, _rows(restored)) == ["customer", "scan_log"]
    _app_and_init_work(restored)


def _schema_of(url: str) -> str:
    return make_url(url).query["options"].split("search_path=")[1]


@pytest.mark.slow  # loads the demo data
def test_postgresql_backup_of_the_schema_restores_every_row(tmp_path):
    backup = tmp_path / "nightly.dump"
    with _fresh_database("postgresql", tmp_path) as url:
        _demo(url)
        out = _ok(_cli(url, "backup", str(backup)))
        assert backup.read_bytes().startswith(b"PGDMP") and f"schema revision {heads()[0]}" in out
        source = _rows(url)
        schema = _schema_of(url)
        # Set the source aside under another name; the URL's schema is then a new, empty one (as public is in a
        # new database) and the restore fills it.
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{schema}_src"'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            out = _ok(_cli(url, "restore", str(backup)))
            assert f"schema revision {heads()[0]}" in out
            assert _differences(source, _rows(url)) == []
            _app_and_init_work(url)
            # The restore into an existing database is refused, naming a table with rows.
            _error(_cli(url, "restore", str(backup)), " has rows", "empty database")
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}_src" CASCADE'))
            admin.dispose()


@pytest.mark.slow  # loads the demo data
def test_postgresql_backup_while_scans_are_written_restores_one_consistent_moment(tmp_path):
    backup = tmp_path / "nightly.dump"
    with _fresh_database("postgresql", tmp_path) as url:
        _demo(url)
        scanner = _Scanner(url)
        scanner.start()
        try:
            while scanner.written < 5 and scanner.is_alive():
                time.sleep(0.01)
            scans_before = len(_rows(url)["scan_log"])
            written_before = scanner.written
            out = _ok(_cli(url, "backup", str(backup)))
            written_during = scanner.written - written_before
            # Scans go on after the dump too, so the source ends with rows the backup cannot have.
            while scanner.written < written_before + written_during + 5 and scanner.is_alive():
                time.sleep(0.01)
        finally:
            scanner.stop.set()
            scanner.join(10)
        assert scanner.failure is None
        assert written_during >= 5, "the scans did not go on while the backup ran"
        assert scanner.slowest < 2.0, f"a scan waited {scanner.slowest:.2f} s"
        assert backup.read_bytes().startswith(b"PGDMP") and f"schema revision {heads()[0]}" in out
        with _emptied(url) as (source_url, holds):
            assert holds() is None
            _ok(_cli(url, "restore", str(backup)))
            source, copy = _rows(source_url), _rows(url)
            # pg_dump reads every table in one snapshot: the scan log up to one moment, every other table whole.
            scans = copy.pop("scan_log")
            assert scans_before <= len(scans) < len(source["scan_log"])
            assert scans == source.pop("scan_log")[:len(scans)]
            assert _differences(source, copy) == []
            # A scan after the restore gets a key of its own (the sequence is not behind the restored rows).
            rt = Runtime.from_env({"database_url": url})
            try:
                with transaction(rt.sessions) as s:
                    scan_payload(s, "AFTER-RESTORE", station="backup-test")
            finally:
                rt.engine.dispose()
            assert len(_rows(url)["scan_log"]) == len(scans) + 1
            _app_and_init_work(url)


def _add_product(url: str) -> None:
    _ok(_cli(url, "products", "add", "--sku", "KEEP-1", "--name", "kept"))


@pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgresql"], indirect=True)
def test_restore_into_a_database_with_rows_is_refused_and_changes_nothing(fresh_db_url, tmp_path):
    _add_product(fresh_db_url)
    backup = tmp_path / "backup.bin"
    _ok(_cli(fresh_db_url, "backup", str(backup)))
    _ok(_cli(fresh_db_url, "products", "add", "--sku", "KEEP-2", "--name", "kept too"))
    before = _rows(fresh_db_url)
    refused = _cli(fresh_db_url, "restore", str(backup))
    _error(refused, "the database is not empty: table ", " has rows", "into an empty database only")
    # The table it names does have rows (the migrations' own, such as the default business calendar, count too).
    named = refused.output.split("table ")[1].split()[0]
    assert before[named]
    assert _differences(before, _rows(fresh_db_url)) == []


def test_restore_into_a_database_whose_schema_exists_is_refused(tmp_path):
    target = tmp_path / "target.sqlite"
    engine = make_engine(f"sqlite:///{target}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE leftover (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    source = f"sqlite:///{tmp_path / 'source.sqlite'}"
    _ok(_cli(source, "init"))
    _ok(_cli(source, "backup", str(tmp_path / "backup.sqlite")))
    _error(_cli(f"sqlite:///{target}", "restore", str(tmp_path / "backup.sqlite")),
           "its schema exists (1 tables, such as leftover)")


@contextmanager
def _emptied(url: str) -> Iterator[tuple[str, Callable[[], list[str] | None]]]:
    """Move the database at `url` aside and yield (its URL there, what the now empty `url` holds: None when
    nothing, else its files or tables); a PostgreSQL schema is renamed and a new empty one takes its name."""
    if make_url(url).get_backend_name() == "sqlite":
        path = Path(make_url(url).database)
        aside = path.with_name(f"aside-{path.name}")
        for suffix in ("", "-wal", "-shm"):  # a database file moves with its write-ahead log
            if Path(f"{path}{suffix}").exists():
                Path(f"{path}{suffix}").rename(f"{aside}{suffix}")
        yield f"sqlite:///{aside}", lambda: sorted(p.name for p in path.parent.glob(f"{path.name}*")) or None
        return
    schema = _schema_of(url)
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{schema}_aside"'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def tables() -> list[str] | None:
        with admin.connect() as conn:
            return sorted(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                                       {"s": schema}).scalars()) or None

    try:
        yield url.replace(f"search_path%3D{schema}", f"search_path%3D{schema}_aside"), tables
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}_aside" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_truncated_or_wrong_file_is_refused_and_the_target_is_untouched(fresh_db_url, tmp_path):
    sqlite = make_url(fresh_db_url).get_backend_name() == "sqlite"
    _add_product(fresh_db_url)
    backup = tmp_path / "good.bin"
    _ok(_cli(fresh_db_url, "backup", str(backup)))
    data = backup.read_bytes()
    cut, garbage, other = tmp_path / "cut.bin", tmp_path / "garbage.bin", tmp_path / "other.bin"
    cut.write_bytes(data[:len(data) // 2])
    garbage.write_bytes(b"not a backup at all\n" * 100)
    # The other kind's magic with nothing sensible after it.
    other.write_bytes((b"PGDMP" if sqlite else b"SQLite format 3\x00") + os.urandom(5000))
    with _emptied(fresh_db_url) as (source, holds):
        _error(_cli(fresh_db_url, "restore", str(cut)), "cut.bin is truncated or damaged")
        _error(_cli(fresh_db_url, "restore", str(garbage)), "garbage.bin is not a serialtrace backup")
        _error(_cli(fresh_db_url, "restore", str(other)), "other.bin is a ", "but the database is")
        _error(_cli(fresh_db_url, "restore", str(tmp_path / "missing.bin")), "cannot read", "missing.bin")
        assert holds() is None
        # The whole file restores into the same target.
        _ok(_cli(fresh_db_url, "restore", str(backup)))
        assert _differences(_rows(source), _rows(fresh_db_url)) == []


def test_an_existing_file_is_kept_unless_force(tmp_path):
    source = f"sqlite:///{tmp_path / 'db' / 'source.sqlite'}"
    _ok(_cli(source, "init"))
    _add_product(source)
    backup = tmp_path / "backup.sqlite"
    backup.write_bytes(b"yesterday's backup")
    _error(_cli(source, "backup", str(backup)), f"{backup} exists", "--force")
    assert backup.read_bytes() == b"yesterday's backup"
    out = _ok(_cli(source, "backup", str(backup), "--force"))
    assert out.startswith(f"backup written: {backup} (") and "schema revision" in out
    assert backup.read_bytes().startswith(b"SQLite format 3\x00")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.sqlite", "db"]
    _error(_cli(source, "backup", str(tmp_path / "nowhere" / "b.sqlite")), "the folder", "does not exist")
    _error(_cli(f"sqlite:///{tmp_path / 'none.sqlite'}", "backup", str(tmp_path / "b.sqlite")),
           "there is no database at", "none.sqlite")


@pytest.mark.slow  # waits for a backup process to be half done
def test_a_backup_killed_halfway_leaves_nothing_under_its_name(sqlite_demo, tmp_path):
    backup = tmp_path / "killed.sqlite"
    script = ("import sys; from pathlib import Path; from serialtrace.backup import backup; "
              "from serialtrace.db import make_engine; "
              "backup(make_engine(sys.argv[1]), Path(sys.argv[2]), pages=1, pause=0.05)")
    process = subprocess.Popen([sys.executable, "-c", script, sqlite_demo, str(backup)])
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".killed.sqlite.*.partial")):
            assert time.monotonic() < deadline and process.poll() is None, "the backup never started"
            time.sleep(0.05)
        # About 250 pages a twentieth of a second apart: a second in, the copy is under way.
        time.sleep(1.0)
        assert process.poll() is None, "the backup ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
    assert not backup.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("fresh_db_url", ["postgresql"], indirect=True)
def test_a_missing_pg_dump_is_named(fresh_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    _error(_cli(fresh_db_url, "backup", str(tmp_path / "b.dump")), "pg_dump is not installed")
    assert list(tmp_path.iterdir()) == []


def test_a_backup_older_than_the_code_says_to_run_init(tmp_path):
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(heads()[0]).down_revision
    source = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(source)
    upgrade(engine, previous)
    engine.dispose()
    _ok(_cli(source, "backup", str(tmp_path / "old-backup.sqlite")))
    restored = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    out = _ok(_cli(restored, "restore", str(tmp_path / "old-backup.sqlite")))
    assert f"revision {previous}) is older than this serialtrace's ({heads()[0]}): run `serialtrace init`" in out
    assert _revision(restored) == previous
    _ok(_cli(restored, "init"))
    assert _revision(restored) == heads()[0]
