"""`serialtrace lookup` with SERIALTRACE_SERIAL_CHECK set: a typed serial with a wrong check character is a typo."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from serialtrace.cli import main

TYPO = "check character wrong: mistyped serial?"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("SERIALTRACE_SERIAL_KEY", "cli-key")
    monkeypatch.setenv("SERIALTRACE_SERIAL_CHECK", "damm")
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert _run("init").exit_code == 0
    assert _run("products", "add", "--sku", "PR-1", "--name", "Flow meter", "--gtin", "04601234560016").exit_code == 0
    return _run


def _batch(run) -> dict:
    out = run("batch", "create", "--product", "PR-1", "--quantity", "3", "--number", "2501A00", "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_lookup_of_a_serial_with_a_wrong_check_digit_says_it_is_a_typo(run):
    serial = _batch(run)["first_serial"]
    assert len(serial) == 12
    typo = serial[:3] + str((int(serial[3]) + 1) % 10) + serial[4:]
    result = run("lookup", typo)
    assert result.exit_code == 1
    assert result.output == f"error: no unit with serial {typo!r}: {TYPO}\n"
    assert json.loads(run("lookup", serial, "--json").output)["unit"]["serial"] == serial


def test_lookup_of_something_else_is_plain_not_found(run):
    serial = _batch(run)["first_serial"]
    # A GS1 code is read by a scanner, not typed: its serial gets no verdict on the check digit.
    wrong = serial[:-1] + str((int(serial[-1]) + 1) % 10)
    for code in ("NOPE", serial[:-1], f"(01)04601234560016(21){wrong}"):
        result = run("lookup", code)
        assert result.exit_code == 1 and "no unit with serial" in result.output and TYPO not in result.output
