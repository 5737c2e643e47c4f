"""Killing a process mid-action and checking what it left: the driver processes (tests/crash_driver.py), seeded kill
points spread over an action's measured duration, and the checks every database must pass after a crash."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import and_, exists, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url

from serialtrace.cli import main as cli_main
from serialtrace.db import load_models, make_engine
from serialtrace.runtime import Runtime
from serialtrace.web import create_app

from tests.fakeprinter import FakePrinter

ROOT = Path(__file__).resolve().parent.parent
# Kill points reach this far past the measured duration, so some runs finish and the "all of it" side is checked.
OVERSHOOT = 1.3


@dataclass
class Outcome:
    """How one driver run ended: killed by the test, or finished on its own with an exit code."""

    killed: bool
    returncode: int
    seconds: float
    stderr: str


class Armed:
    """A driver process, code loaded, waiting for its go line; nothing touches the database before it."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.crash_driver", *args], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)

    def fire(self, delay: float | None) -> Outcome:
        """Start the action and SIGKILL the process `delay` seconds later (None: let it finish)."""
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                stream.close()  # else their ResourceWarning at exit lands on whichever test runs then
            raise AssertionError(f"driver did not start: {line!r} {self._read_stderr()}")
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        start = time.monotonic()
        killed = False
        try:
            self.proc.wait(timeout=120 if delay is None else delay)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            killed = True
        seconds = time.monotonic() - start
        self.proc.stdin.close()
        self.proc.stdout.close()
        return Outcome(killed=killed, returncode=self.proc.returncode, seconds=seconds, stderr=self._read_stderr())

    def abandon(self) -> None:
        """Kill a process that was never fired (a check failed before its turn)."""
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            stream.close()
        self._stderr.close()

    def _read_stderr(self) -> str:
        self._stderr.seek(0)
        data = self._stderr.read().decode(errors="replace")
        self._stderr.close()
        return data


class DyingSenderPrinter(FakePrinter):
    """A FakePrinter whose sender may be killed mid-job: a connection that breaks ends its job with what arrived."""

    reading = False

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.reading = True
            data = bytearray()
            with connection:
                try:
                    while chunk := connection.recv(65536):
                        data.extend(chunk)
                except OSError:
                    pass  # reset by a killed sender: what arrived was printed
            with self._done:
                self.jobs.append(bytes(data))
                self.reading = False
                self._done.notify_all()

    def serials_from(self, job: int) -> list[str]:
        """The serials on the labels of the jobs (connections) from number `job` on; each job holds whole labels."""
        return [m.group(1).decode() for data in self.jobs[job:]
                for m in re.finditer(rb"\^FDSN (\S+?)\^FS", data)]

    def settle(self, quiet: float = 0.2) -> None:
        """Wait until the printer has read every connection to its end and none came for `quiet` seconds: a
        sender commits a chunk once its bytes are out, possibly before they were read here."""
        seen = -1
        while self.reading or seen != len(self.jobs):
            seen = len(self.jobs)
            time.sleep(quiet)


def driver_env(url: str, **settings: str) -> dict[str, str]:
    """The environment of a driver: this one, the database and any SERIALTRACE_* settings given."""
    env = {**os.environ, "SERIALTRACE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    env.update({f"SERIALTRACE_{k.upper()}": v for k, v in settings.items()})
    return env


class SqliteSnapshot:
    """A copy of a closed SQLite database file, put back between kills so every kill starts from the same state
    (and the checks, which read the whole file, stay as quick as on the first kill)."""

    def __init__(self, url: str, folder: Path) -> None:
        self.path = Path(make_url(url).database)
        self.copy = folder / f"{self.path.name}.snapshot"
        assert not self._companions()[0].exists(), "close every connection before taking a snapshot"
        shutil.copyfile(self.path, self.copy)

    def _companions(self) -> list[Path]:
        return [self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]

    def restore(self) -> None:
        """Put the copy back; only once every connection is closed (the last close checkpoints the WAL)."""
        for path in self._companions():
            path.unlink(missing_ok=True)
        shutil.copyfile(self.copy, self.path)


def run_to_end(args: Sequence[str], env: dict[str, str]) -> Outcome:
    """Run a driver action unkilled; AssertionError with its stderr when it fails."""
    outcome = Armed(args, env).fire(None)
    assert outcome.returncode == 0, outcome.stderr
    return outcome


def kill_fractions(count: int, seed: int) -> list[float]:
    """`count` kill points as fractions of the action's duration, one in each equal slice of 0..OVERSHOOT (so the
    start, the middle and the end of the action are all hit whatever the seed), in a seeded random order."""
    rng = random.Random(seed)
    fractions = [OVERSHOOT * (i + rng.random()) / count for i in range(count)]
    rng.shuffle(fractions)
    return fractions


def kill_repeatedly(args: Callable[[int], Sequence[str]], env: dict[str, str], duration: float,
                    fractions: Sequence[float], check: Callable[[int, Outcome], None]) -> list[Outcome]:
    """Run the action args(i), kill it after fractions[i] of its duration, then check(i, outcome), for every
    fraction; the next process loads its code while the last one's leftovers are checked. The duration is the
    shortest seen (a busy machine makes one run slow), so the kill points stay inside the action."""
    outcomes = []
    armed: Armed | None = Armed(args(0), env)
    try:
        for i, fraction in enumerate(fractions):
            outcome = armed.fire(fraction * duration)
            armed = None
            if not outcome.killed:
                assert outcome.returncode == 0, outcome.stderr
                duration = min(duration, outcome.seconds)
            armed = Armed(args(i + 1), env) if i + 1 < len(fractions) else None
            check(i, outcome)
            outcomes.append(outcome)
    finally:
        if armed is not None:
            armed.abandon()
    return outcomes


# --- what every database must pass after a crash ---------------------------------------------------------------

def init_succeeds(url: str) -> None:
    """`serialtrace init` on the crashed database exits 0 (no leftover lock or journal stops it)."""
    rt = Runtime.from_env({"database_url": url})
    try:
        result = CliRunner().invoke(cli_main, ["init"], obj=rt)
    finally:
        rt.engine.dispose()
    assert result.exit_code == 0, result.output


def sqlite_file_sound(url: str) -> None:
    """PRAGMA integrity_check says ok and foreign_key_check finds nothing (SQLite only)."""
    con = sqlite3.connect(make_url(url).database)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


def dangling_references(conn: Connection) -> dict[str, int]:
    """Rows whose foreign key names a missing row, per `table.columns -> parent`, for every foreign key of every
    mapped table the database has (tables added later are covered without naming them here)."""
    present = set(inspect(conn).get_table_names())
    found = {}
    for table in load_models().sorted_tables:
        if table.name not in present:
            continue
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name not in present:
                continue
            child, parent = table.alias("child"), fk.referred_table.alias("parent")
            pairs = [(child.c[e.parent.name], parent.c[e.column.name]) for e in fk.elements]
            stmt = (select(func.count()).select_from(child)
                    .where(*[c.is_not(None) for c, _ in pairs], ~exists().where(and_(*[c == p for c, p in pairs]))))
            count = conn.execute(stmt).scalar_one()
            if count:
                found[f"{table.name}.{','.join(c.name for c in fk.columns)} -> {fk.referred_table.name}"] = count
    return found


def trace_inconsistencies(conn: Connection) -> list[str]:
    """What the trace tables may never show, whatever was interrupted: a serialised batch without all its units,
    a unit without its one `produced` event, a serial counter behind (or ahead of) the units drawn from it, a
    batch-number counter out of step, a shipment without lines, a shipped line without its `shipped` event."""
    q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
    problems = [f"batch {n}: quantity {want}, units {got}" for n, want, got in q(
        "SELECT b.number, b.quantity, (SELECT count(*) FROM unit u WHERE u.batch_id = b.id) FROM batch b "
        "WHERE b.serial_scheme <> '' AND b.quantity <> (SELECT count(*) FROM unit u WHERE u.batch_id = b.id)")]
    produced = q("SELECT count(*), count(DISTINCT unit_id) FROM unit_event WHERE kind = 'produced'")[0]
    units = q("SELECT count(*) FROM unit")[0][0]
    if tuple(produced) != (units, units):
        problems.append(f"{units} units, produced events {produced[0]} for {produced[1]} units")
    # Every serial scheme draws its serials from one counter; registration bumps it in the units' transaction.
    for name, drawn in q("SELECT b.serial_scheme, count(u.id) FROM batch b JOIN unit u ON u.batch_id = b.id "
                         "GROUP BY b.serial_scheme"):
        counter = q(f"SELECT next_value FROM serial_counter WHERE name LIKE 'serial:{name}:%'")
        if [tuple(r) for r in counter] != [(drawn,)]:
            problems.append(f"scheme {name}: {drawn} units, counter {counter}")
    for name, value in q("SELECT name, next_value FROM serial_counter WHERE name LIKE 'batch:%'"):
        stem = name.split(":", 1)[1]
        numbered = q(f"SELECT count(*) FROM batch WHERE number LIKE '{stem}-%'")[0][0]
        if value != numbered:
            problems.append(f"batch counter {name} at {value}, {numbered} batches numbered from it")
    empty = q("SELECT count(*) FROM shipment s WHERE NOT EXISTS (SELECT 1 FROM shipment_item i "
              "WHERE i.shipment_id = s.id)")[0][0]
    if empty:
        problems.append(f"{empty} shipments without lines")
    lines = q("SELECT count(*) FROM shipment_item WHERE unit_id IS NOT NULL")[0][0]
    events = q("SELECT count(*) FROM unit_event WHERE kind = 'shipped'")[0][0]
    if lines != events:
        problems.append(f"{lines} shipped unit lines, {events} shipped events")
    stock = q("SELECT count(*) FROM shipment_item i JOIN unit u ON u.id = i.unit_id WHERE u.status = 'in_stock'")
    if stock[0][0]:
        problems.append(f"{stock[0][0]} shipped lines whose unit is still in stock")
    return problems


def database_sound(url: str) -> None:
    """init succeeds, the SQLite file is intact, no dangling reference, the trace tables consistent."""
    init_succeeds(url)
    if make_url(url).get_backend_name() == "sqlite":
        sqlite_file_sound(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert dangling_references(conn) == {}
            assert trace_inconsistencies(conn) == []
    finally:
        engine.dispose()


def app_answers(url: str, token: str, serial: str) -> None:
    """A freshly built app serves a unit's dossier over the API and the sign-in page."""
    rt = Runtime.from_env({"database_url": url, "secret_key": "crash-test"})
    try:
        client = create_app(runtime=rt).test_client()
        answer = client.get(f"/api/v1/units/{serial}", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        assert answer.json["unit"]["serial"] == serial
        assert client.get("/login").status_code == 200
    finally:
        rt.engine.dispose()
