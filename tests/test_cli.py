"""The console script end to end on a real SQLite file: JSON shapes of DESIGN.md and clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from serialtrace.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    runner = CliRunner()

    def _run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert _run("init").exit_code == 0
    return _run


def test_batch_create_json_and_lookup(run):
    assert run("products", "add", "--sku", "PR-100", "--name", "Flow meter", "--gtin", "04601234560016").exit_code == 0
    out = run("batch", "create", "--product", "PR-100", "--quantity", "5", "--number", "2501A00", "--json")
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert set(body) == {"batch", "quantity", "first_serial", "last_serial"}
    assert body["batch"] == "2501A00" and body["quantity"] == 5
    dossier = json.loads(run("lookup", body["first_serial"], "--json").output)
    assert dossier["unit"]["serial"] == body["first_serial"] and dossier["batch"]["number"] == "2501A00"
    gs1 = json.loads(run("lookup", f"(01)04601234560016(21){body['last_serial']}", "--json").output)
    assert gs1["unit"]["serial"] == body["last_serial"]


def test_unknown_serial_exits_1_with_one_line(run):
    result = run("lookup", "NOPE")
    assert result.exit_code == 1
    assert "no unit with serial 'NOPE'" in result.output
    assert "Traceback" not in result.output


def test_duplicate_batch_exits_1(run):
    run("products", "add", "--sku", "PR-1", "--name", "x")
    assert run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", "B1").exit_code == 0
    result = run("batch", "create", "--product", "PR-1", "--quantity", "1", "--number", "B1")
    assert result.exit_code == 1 and "already exists" in result.output


def test_users_and_tokens(run):
    assert run("users", "add", "anna", "--role", "warehouse", "--password-stdin", input="long-password\n").exit_code == 0
    bad = run("users", "add", "bob", "--role", "pilot", "--password-stdin", input="long-password\n")
    assert bad.exit_code == 1 and "unknown role" in bad.output
    token = run("tokens", "create", "anna").output.strip().splitlines()[-1]
    assert token.startswith("st_") and len(token) > 30


def test_ship_trace_and_recall_csv(run, tmp_path):
    run("products", "add", "--sku", "PR-1", "--name", "x")
    run("batch", "create", "--product", "PR-1", "--quantity", "4", "--number", "B7", "--lot", "Acme:board:L1")
    out = run("ship", "--customer", "ACME", "--tax-id", "5401234567", "--batch", "B7:3", "--date", "16.03.2025")
    assert out.exit_code == 0, out.output
    trace = json.loads(run("trace", "B7").output)
    assert trace["backward"]["inputs"][0]["lot"] == "L1"
    assert trace["forward"]["customers"][0]["quantity"] == 3
    path = tmp_path / "recall.csv"
    assert run("recall", "B7", "--csv", str(path)).exit_code == 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 4
    assert len(run("recall", "L1", "--lot").output.strip().splitlines()) == 4
