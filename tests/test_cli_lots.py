"""`serialtrace lot hold / release` on a real SQLite file."""

from __future__ import annotations

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
    for number, lots in (("B1", ["Mik:Board:L71033"]), ("B2", ["Mik:Board:L71033", "Sens:Sensor:L71033"]),
                         ("B3", ["Sens:Sensor:L71033"])):
        args = [a for lot in lots for a in ("--lot", lot)]
        assert run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", number, *args).exit_code == 0
    engine = create_engine(url)
    yield run, engine
    engine.dispose()


def _statuses(engine) -> dict[str, str]:
    from serialtrace.trace.models import Batch

    with engine.connect() as conn:
        return dict(conn.execute(select(Batch.number, Batch.status)).all())


def test_hold_and_release_a_lot_with_its_batches(cli):
    run, engine = cli
    ambiguous = run("lot", "hold", "L71033", "--reason", "voids")
    assert ambiguous.exit_code == 1 and "exists for several parts or suppliers" in ambiguous.output
    assert set(_statuses(engine).values()) == {"released"}
    held = run("lot", "hold", "L71033", "--part", "Board", "--reason", "voids")
    assert held.exit_code == 0, held.output
    assert held.output == "component lot L71033 (Board, Mik): on_hold; batches held: B1, B2\n"
    assert _statuses(engine) == {"B1": "on_hold", "B2": "on_hold", "B3": "released"}
    again = run("lot", "hold", "L71033", "--supplier", "Mik", "--reason", "again")
    assert again.exit_code == 1 and "already on hold: voids" in again.output
    refused = run("batch", "release", "B1", "--reason", "looks fine")
    assert refused.exit_code == 1 and "contains component lot L71033" in refused.output
    blank = run("lot", "release", "L71033", "--supplier", "Mik", "--reason", " ")
    assert blank.exit_code == 1 and "reason" in blank.output
    released = run("lot", "release", "L71033", "--supplier", "Mik", "--reason", "X-ray clean")
    assert released.exit_code == 0, released.output
    assert released.output == "component lot L71033 (Board, Mik): released; batches released: B1, B2\n"
    assert set(_statuses(engine).values()) == {"released"}
    missing = run("lot", "release", "NOPE", "--reason", "x")
    assert missing.exit_code == 1 and "no component lot 'NOPE'" in missing.output
