"""`serialtrace claims reassign` and `claims priority`: acting as the user --as names, with a reason; refusals on
stderr with exit code 1 and nothing changed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from serialtrace.cli import main


@pytest.fixture
def run(fresh_cli):
    """A fresh SQLite file with the desk, an office clerk, a supervisor, an engineer, an inactive user and a claim."""
    _run = fresh_cli
    for name, role in (("desk", "warehouse"), ("office", "coordinator"), ("boss", "supervisor"),
                       ("bench", "engineer"), ("gone", "engineer")):
        added = _run("users", "add", name, "--role", role, "--password-stdin", input="claims-cli-pass-7\n")
        assert added.exit_code == 0, added.output
    assert _run("users", "deactivate", "gone").exit_code == 0
    assert _run("products", "add", "--sku", "PR-100", "--name", "Flow meter").exit_code == 0
    assert _run("batch", "create", "--product", "PR-100", "--quantity", "1").exit_code == 0
    return _run


def _claim(run) -> str:
    from sqlalchemy import select

    from serialtrace.runtime import Runtime
    from serialtrace.trace.models import Unit

    rt = Runtime.from_env()
    with rt.read() as s:
        serial = s.scalars(select(Unit.serial).order_by(Unit.id)).first()
    rt.engine.dispose()
    result = run("claims", "register", serial, "--symptom", "no_power", "--as", "desk", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["number"]


def _show(run, number: str) -> dict:
    return json.loads(run("claims", "show", number, "--json").output)


def _kept(data: dict) -> tuple:
    """What a reassignment or priority change writes, as the claim shows it."""
    return (data["assignee"], data["team"], data["priority"], data["impact"], data["urgency"],
            data["stage"]["assignee"], data["stage"]["priority"], len(data["timeline"]))


def test_reassign_and_change_the_priority(run):
    number = _claim(run)
    result = run("claims", "reassign", number, "--to", "office", "--reason", "knows the customer", "--as", "boss")
    assert result.exit_code == 0, result.output
    assert result.output == f"claim {number}: office (-)\n"
    result = run("claims", "priority", number, "--impact", "1", "--urgency", "2", "--reason", "hospital",
                 "--as", "office")
    assert result.exit_code == 0, result.output
    assert result.output == f"claim {number}: P3 -> P2\n"
    result = run("claims", "priority", number, "--priority", "P1", "--reason", "mayor called", "--as", "boss")
    assert result.output == f"claim {number}: P2 -> P1\n"
    text = run("claims", "show", number).output
    assert "  stage triage\toffice\tdue " in text and "  clock stage triage\trunning\t" in text
    assert "  statutory deadline " in text
    data = _show(run, number)
    assert (data["assignee"], data["stage"]["assignee"], data["priority"], data["impact"], data["urgency"]) == (
        "office", "office", "P1", 1, 2)
    assert [(e["kind"], e["author"], e["reason"]) for e in data["timeline"][-3:]] == [
        ("assignment", "boss", "- → office: knows the customer"), ("priority", "office", "P3 → P2: hospital"),
        ("priority", "boss", "P2 → P1: mayor called")]


@pytest.mark.parametrize(("args", "words"), [
    (("reassign", "{number}", "--to", "bench", "--reason", " ", "--as", "boss"), "a reason is required"),
    (("reassign", "{number}", "--to", "gone", "--reason", "x", "--as", "boss"), "inactive"),
    (("reassign", "{number}", "--to", "nobody", "--reason", "x", "--as", "boss"), "no user 'nobody'"),
    (("reassign", "{number}", "--team", "Nowhere", "--reason", "x", "--as", "boss"), "no team 'Nowhere'"),
    (("reassign", "{number}", "--reason", "x", "--as", "boss"), "name the user or the team"),
    (("reassign", "{number}", "--to", "bench", "--reason", "x", "--as", "office"), "owner or a supervisor"),
    (("reassign", "{number}", "--to", "bench", "--reason", "x"), "--as USERNAME"),
    (("priority", "{number}", "--priority", "P1", "--reason", " ", "--as", "boss"), "a reason is required"),
    (("priority", "{number}", "--priority", "P1", "--reason", "x", "--as", "bench"), "only coordinators"),
    (("priority", "{number}", "--impact", "1", "--reason", "x", "--as", "boss"), "--impact and --urgency"),
    (("priority", "{number}", "--impact", "1", "--urgency", "1", "--priority", "P1", "--reason", "x", "--as",
      "boss"), "not both"),
    (("priority", "CL-999999", "--priority", "P1", "--reason", "x", "--as", "boss"), "no claim 'CL-999999'"),
])
def test_refusals_exit_1_with_the_reason_on_stderr_and_change_nothing(run, args, words):
    number = _claim(run)
    before = _kept(_show(run, number))
    result = CliRunner().invoke(main, ["claims", *(a.format(number=number) for a in args)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and words in result.stderr, result.stderr
    assert _kept(_show(run, number)) == before


def test_a_missing_reason_or_a_bad_level_is_refused_before_anything_runs(run):
    number = _claim(run)
    before = _kept(_show(run, number))
    missing = run("claims", "reassign", number, "--to", "bench", "--as", "boss")
    assert missing.exit_code != 0 and "--reason" in missing.output
    wrong = run("claims", "priority", number, "--impact", "4", "--urgency", "1", "--reason", "x", "--as", "boss")
    assert wrong.exit_code != 0 and "--impact" in wrong.output
    assert _kept(_show(run, number)) == before
