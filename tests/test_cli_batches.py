"""`serialtrace batch hold / release / history` and `trace --lot` on a real SQLite file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from serialtrace.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", url)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("products", "add", "--sku", "PR-1", "--name", "Flow meter").exit_code == 0
    assert run("batch", "create", "--product", "PR-1", "--quantity", "2", "--number", "B1").exit_code == 0
    engine = create_engine(url)
    yield run, engine
    engine.dispose()


def _batch(engine) -> tuple:
    """The batch's status and notes and its history rows, read from the file."""
    from serialtrace.trace.models import Batch, BatchEvent

    with engine.connect() as conn:
        status, notes = conn.execute(select(Batch.status, Batch.notes).where(Batch.number == "B1")).one()
        events = conn.execute(select(BatchEvent.from_status, BatchEvent.to_status, BatchEvent.reason,
                                     BatchEvent.author).order_by(BatchEvent.id)).all()
    return status, notes, [tuple(e) for e in events]


def test_hold_and_release_change_the_status_and_keep_the_history(cli):
    run, engine = cli
    held = run("batch", "hold", "B1", "--reason", "suspect board lot")
    assert held.exit_code == 0, held.output
    assert held.output == "batch B1: released -> on_hold (suspect board lot)\n"
    shipped = run("ship", "--customer", "Acme", "--batch", "B1:1")
    assert shipped.exit_code == 1 and "error: batch B1 is on_hold; it cannot be shipped" in shipped.output
    released = run("batch", "release", "B1", "--reason", "lot tested fine")
    assert released.exit_code == 0 and released.output == "batch B1: on_hold -> released (lot tested fine)\n"
    assert run("ship", "--customer", "Acme", "--batch", "B1:1").exit_code == 0
    assert _batch(engine) == ("released", "", [("released", "on_hold", "suspect board lot", "system"),
                                               ("on_hold", "released", "lot tested fine", "system")])
    lines = run("batch", "history", "B1").output.splitlines()
    assert [line.split("\t")[1:] for line in lines] == [["system", "released -> on_hold", "suspect board lot"],
                                                        ["system", "on_hold -> released", "lot tested fine"]]


@pytest.mark.parametrize(("args", "message"), [
    (["release", "B1", "--reason", "all good"],
     "error: cannot move batch B1 from released to released (allowed from released: on_hold, recalled)"),
    (["hold", "B1", "--reason", " "], "error: reason must not be empty"),
    (["hold", "B1"], "error: Missing option '--reason'."),
    (["hold", "NOPE", "--reason", "x"], "error: no batch 'NOPE'"),
])
def test_refused_changes_exit_1_with_one_line_and_change_nothing(cli, args, message):
    run, engine = cli
    before = _batch(engine)
    result = run("batch", *args)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [message]
    assert _batch(engine) == before == ("released", "", [])


def test_history_of_a_batch_without_changes_says_so(cli):
    run, _ = cli
    assert run("batch", "history", "B1").output == "batch B1: no status changes\n"


def test_trace_of_a_component_lot_lists_the_batches_it_went_into(cli):
    run, _ = cli
    assert run("batch", "create", "--product", "PR-1", "--quantity", "3", "--number", "B2",
               "--lot", "Acme:board:L7").exit_code == 0
    assert run("ship", "--customer", "Acme", "--batch", "B2:2").exit_code == 0
    result = run("trace", "L7", "--lot")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["forward"]["lot"] == {"supplier": "Acme", "part": "board", "lot": "L7"}
    assert [(b["number"], b["shipped"]) for b in body["forward"]["batches"]] == [("B2", 2)]
    missing = run("trace", "L8", "--lot")
    assert missing.exit_code == 1 and missing.output.strip() == "error: no component lot 'L8'"
