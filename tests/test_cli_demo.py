"""`serialtrace demo` tells how far it has got: reference data, batches and units n/N, shipments, claims, summary."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from serialtrace.cli import main
from serialtrace.cli.db import DemoLines
from serialtrace.demo import DemoProgress


def _step(step: str, batches: int = 0, units: int = 0, **counts) -> DemoProgress:
    return DemoProgress(step=step, products=5, customers=12, batches=batches, batches_total=20, units=units,
                        units_total=1000, shipments=counts.pop("shipments", batches * 3), **counts)


def test_batch_lines_come_at_every_tenth_of_the_units_and_at_the_last_batch(capsys):
    lines = DemoLines()
    lines(_step("reference"))
    for batch in range(1, 21):
        lines(_step("batch", batch, min(batch * 49, 1000) if batch < 20 else 1000))
    lines(_step("claims", 20, 1000, claims=17, shipments=64))
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "demo: 5 products, 12 customers; 1,000 units in 20 batches to go"
    units = [int(m.group(1).replace(",", "")) for m in map(re.compile(r".*units ([\d,]+)/1,000").match, err) if m]
    # Each tenth once (49 units a batch: 147, 245, 343, ...), and the total at the end.
    assert units == [147, 245, 343, 441, 539, 637, 735, 833, 931, 1000]
    assert err[-2] == "demo: batches 20/20, units 1,000/1,000, 60 shipments"
    assert err[-1] == "demo: 17 claims with their returns, tests and replacements; 64 shipments in all"


@pytest.mark.slow  # loads demo data
def test_demo_prints_progress_on_stderr_and_the_summary_on_stdout(tmp_path, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.sqlite'}")
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--units", "400", "--seed", "3"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    err = result.stderr.splitlines()
    assert re.fullmatch(r"demo: 5 products, \d+ customers; 400 units in \d+ batches to go", err[0])
    batch_lines = [line for line in err if line.startswith("demo: batches ")]
    assert 2 <= len(batch_lines) <= 11 and re.fullmatch(r"demo: batches (\d+)/\1, units 400/400, \d+ shipments",
                                                        batch_lines[-1])
    assert re.fullmatch(r"demo: \d+ claims with their returns, tests and replacements; \d+ shipments in all", err[-1])
    assert result.stdout.startswith("demo data (seed 3): 5 products, ") and "400 units" in result.stdout
    assert "demo:" not in result.stdout
    again = runner.invoke(main, ["demo", "--units", "400", "--if-empty"], catch_exceptions=False)
    assert again.stdout.startswith("demo data already loaded") and again.stderr == ""
