"""`serialtrace recalls create / list / show` on a real SQLite file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from serialtrace.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert _run("init").exit_code == 0
    assert _run("products", "add", "--sku", "PR-1", "--name", "Flow meter").exit_code == 0
    assert _run("batch", "create", "--product", "PR-1", "--quantity", "3", "--number", "B1",
                "--lot", "Mik:Board:L7").exit_code == 0
    assert _run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", "B2").exit_code == 0
    assert _run("ship", "--customer", "Alpha", "--date", "2025-02-01", "--batch", "B1:2").exit_code == 0
    return _run


def test_create_list_and_show_a_campaign(run):
    made = run("recalls", "create", "--lot", "L7", "--reason", "bad boards")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("RC-000001: batches B1; 2 units, 1 customers to contact")
    listed = run("recalls", "list")
    assert "RC-000001  open" in listed.output and "0/2 returned" in listed.output
    shown = run("recalls", "show", "RC-000001")
    assert "Alpha: to_contact, 0/2 returned" in shown.output


def test_refusals_are_one_line_and_exit_1(run):
    nothing = run("recalls", "create", "--batch", "B2", "--reason", "x")
    assert nothing.exit_code == 1 and "nothing to recall" in nothing.output
    assert run("recalls", "create", "--batch", "B1", "--reason", "x").exit_code == 0
    again = run("recalls", "create", "--batches", "B1", "--reason", "y")
    assert again.exit_code == 1 and "already in open recall campaign RC-000001" in again.output
    assert run("recalls", "show", "RC-000009").exit_code == 1
