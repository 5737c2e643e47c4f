"""Commands that only read use a read-only session: they answer while another connection holds the write lock."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, make_url, select

from serialtrace.cli import main
from serialtrace.trace.models import Product

# A command waiting for the write lock would wait SQLite's busy timeout (30 s); an answer within this is no wait.
DEADLINE_S = 5


@pytest.fixture
def filled(tmp_path, monkeypatch):
    """A SQLite file with a product, a batch with a component lot, a shipment and an API token: (url, serials)."""
    url = f"sqlite:///{tmp_path / 'reads.sqlite'}"
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", url)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    run("products", "add", "--sku", "PR-100", "--name", "Flow meter", "--gtin", "04601234560016")
    batch = json.loads(run("batch", "create", "--product", "PR-100", "--quantity", "3", "--number", "2501A00",
                           "--lot", "Acme:board:L1", "--json"))
    run("ship", "--customer", "ACME", "--batch", "2501A00:2", "--date", "2025-03-14")
    run("tokens", "create", "erp", "--role", "warehouse")
    return url, batch["first_serial"]


def _read_commands(serial: str) -> list[tuple[list[str], str]]:
    """Each read command with a piece of the answer it must print."""
    return [
        (["lookup", serial, "--json"], f'"serial": "{serial}"'),
        (["trace", "2501A00"], '"lot": "L1"'),
        (["recall", "2501A00"], "ACME"),
        (["recall", "L1", "--lot"], "ACME"),
        (["products", "list"], "PR-100\t04601234560016"),
        (["labels", "jobs"], ""),
        (["labels", "templates"], "roll-50x25"),
        (["tokens", "list"], "erp\terp\tst_"),
        (["batch", "history", "2501A00"], "2501A00"),
    ]


def _invoke_within(args: list[str], seconds: float):
    """Run the command on a thread; its result, or None when it has not answered within `seconds`."""
    done: list = []
    thread = threading.Thread(target=lambda: done.append(CliRunner().invoke(main, args)), daemon=True)
    thread.start()
    thread.join(seconds)
    return done[0] if done else None, thread


def test_read_commands_answer_while_the_write_lock_is_held(filled):
    url, serial = filled
    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiting = []
    try:
        for args, expected in _read_commands(serial):
            started = time.monotonic()
            result, thread = _invoke_within(args, DEADLINE_S)
            if result is None:
                waiting.append((args, thread))
                continue
            assert result.exit_code == 0, (args, result.output)
            assert expected in result.output, (args, result.output)
            assert time.monotonic() - started < DEADLINE_S
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        for _args, thread in waiting:
            thread.join(60)
    assert [args for args, _thread in waiting] == [], "these waited for the write lock"


def test_a_write_command_still_waits_for_the_write_lock(filled, monkeypatch):
    """The lock holder is real: a command that writes does not get past it."""
    url, _serial = filled
    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result, thread = _invoke_within(["products", "add", "--sku", "PR-200", "--name", "Valve"], 1.5)
        assert result is None, result.output
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    thread.join(60)


def test_a_read_session_commits_nothing(filled):
    from serialtrace.runtime import Runtime

    url, _serial = filled
    rt = Runtime.from_env({"database_url": url})
    with rt.read() as s:
        s.add(Product(sku="PR-STRAY", name="written inside a read"))
        s.flush()
        assert s.scalar(select(func.count()).select_from(Product)) == 2
    with rt.read() as s:
        assert s.scalars(select(Product.sku)).all() == ["PR-100"]
    rt.engine.dispose()


def test_the_console_script_runs_on_an_injected_runtime(runtime, session, product):
    """A runtime given as click's obj is used as it is: here its sessions join the test's transaction."""
    session.commit()
    result = CliRunner().invoke(main, ["products", "list"], obj=runtime)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PR-100\t04601234560016\t24 months\t-\tFlow meter UR-100")
