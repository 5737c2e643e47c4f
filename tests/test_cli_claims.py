"""`serialtrace claims`: list, show, register, transition, replace, receive and expire-returns, each acting as the
user --as names (role checked), refusals on stderr with exit code 1 and nothing changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from serialtrace.cli import main


@pytest.fixture
def run(fresh_cli):
    """Run the console script on a fresh SQLite file: the desk, an engineer, a product and a shipped unit."""
    _run = fresh_cli
    for name, role in (("desk", "warehouse"), ("boss", "supervisor"), ("bench", "engineer"), ("gone", "warehouse")):
        added = _run("users", "add", name, "--role", role, "--password-stdin", input="claims-cli-pass-7\n")
        assert added.exit_code == 0, added.output
    assert _run("users", "deactivate", "gone").exit_code == 0
    assert _run("products", "add", "--sku", "PR-100", "--name", "Flow meter").exit_code == 0
    batch = json.loads(_run("batch", "create", "--product", "PR-100", "--quantity", "4", "--json").output)
    _run.serials = _serials(_run, batch["batch"])
    shipped = _run("ship", "--customer", "Vodokanal", "--tax-id", "7701234567", "--serial", _run.serials[0])
    assert shipped.exit_code == 0, shipped.output
    return _run


def _serials(run, batch: str) -> list[str]:
    from serialtrace.runtime import Runtime
    from serialtrace.trace.models import Unit

    rt = Runtime.from_env()
    with rt.read() as s:
        from sqlalchemy import select

        out = list(s.scalars(select(Unit.serial).order_by(Unit.id)))
    rt.engine.dispose()
    assert len(out) == 4, batch
    return out


def _overdue(case_id: int) -> None:
    """Move the case's return deadline to yesterday, as if the customer's time had run out."""
    from sqlalchemy import update

    from serialtrace.runtime import Runtime
    from serialtrace.warranty.models import UnitCase

    rt = Runtime.from_env()
    with rt.transaction() as s:
        s.execute(update(UnitCase).where(UnitCase.id == case_id).values(return_due=date.today() - timedelta(days=1)))
    rt.engine.dispose()


def _register(run, *extra: str) -> dict:
    result = run("claims", "register", run.serials[0], "--symptom", "no_power", "--description", "dead",
                 "--as", "desk", "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _snapshot(run) -> str:
    """Everything the claims commands show: what a refusal must leave as it was (but the clocks' figures, which move
    with the time of the read)."""
    shown = [json.loads(run("claims", "show", c["number"], "--json").output)
             for c in json.loads(run("claims", "list", "--json").output)]
    for claim in shown:
        for clock in claim["clocks"]:
            del clock["elapsed_seconds"], clock["remaining_seconds"], clock["percent"]
        claim["statutory"]["remaining_seconds"] = None
    return run("claims", "list", "--json").output + json.dumps(shown)


def test_register_show_and_list_a_claim_as_the_desk(run):
    claim = _register(run)
    assert claim["number"].startswith("CL-") and claim["state"] == "registered"
    assert claim["customer"]["name"] == "Vodokanal" and claim["warnings"] == []
    assert [(c["serial"], c["state"]) for c in claim["cases"]] == [(run.serials[0], "expected")]
    assert claim["timeline"][0]["author"] == "desk"
    shown = json.loads(run("claims", "show", claim["number"], "--json").output)
    # The shape of GET /api/v1/claims/<id>; without --as no role, so no transitions are offered.
    assert set(shown) >= {"id", "number", "state", "priority", "customer", "assignee", "cases", "replacements",
                          "timeline", "allowed_transitions"}
    assert shown["allowed_transitions"] == []
    assert json.loads(run("claims", "show", str(claim["id"]), "--as", "boss", "--json").output)[
        "allowed_transitions"] == ["triage", "cancelled"]
    listed = json.loads(run("claims", "list", "--state", "registered", "--customer", "Vodokanal", "--json").output)
    assert [c["number"] for c in listed] == [claim["number"]]
    assert json.loads(run("claims", "list", "--state", "closed", "--json").output) == []
    assert run("claims", "list").output.startswith(f"{claim['number']}\tregistered\t")
    text = run("claims", "show", claim["number"]).output
    assert f"case {claim['cases'][0]['id']}\t{run.serials[0]}\texpected" in text


def test_register_prints_the_warnings(run):
    first = _register(run)
    result = run("claims", "register", run.serials[0], "--symptom", "no_power", "--as", "desk")
    assert result.exit_code == 0
    assert f"warning: the unit already has an open claim: {first['number']}" in result.output
    result = run("claims", "register", run.serials[1], "--symptom", "no_power", "--as", "desk")
    assert "warning: the unit was never shipped" in result.output


def test_transition_replace_and_receive_through_the_advance_path(run):
    claim = _register(run)
    result = run("claims", "transition", claim["number"], "--to", "triage", "--reason", "look", "--as", "boss")
    assert (result.exit_code, result.output) == (0, f"claim {claim['number']}: registered -> triage\n")
    result = run("claims", "replace", claim["number"], "--replacement", run.serials[1], "--as", "desk")
    assert result.exit_code == 0, result.output
    assert result.output == (f"claim {claim['number']}: {run.serials[0]} replaced by {run.serials[1]}; claim "
                             "replacement_shipped\n")
    case_id = claim["cases"][0]["id"]
    result = run("claims", "receive", str(case_id), "--serial", run.serials[2], "--as", "desk")
    assert result.exit_code == 0
    assert result.output == (f"unit {run.serials[2]} is not the expected unit {run.serials[0]} of claim "
                             f"{claim['number']}; the case is marked wrong unit\n")
    result = run("claims", "receive", str(case_id), "--serial", run.serials[0], "--as", "desk")
    assert result.output == f"case {case_id}: received\n"
    shown = json.loads(run("claims", "show", claim["number"], "--json").output)
    assert shown["replacements"][0]["replacement_serial"] == run.serials[1]
    assert [(e["to"], e["author"]) for e in shown["timeline"] if e["kind"] == "state_change"] == [
        ("registered", "desk"), ("triage", "boss"), ("replacement_shipped", "desk"),
        ("pending_verification", "system")]
    unit = json.loads(run("lookup", run.serials[1], "--json").output)
    assert [(r["role"], r["returned_serial"]) for r in unit["replacements"]] == [("replacement", run.serials[0])]


@pytest.mark.parametrize(("args", "words"), [
    (("transition", "{number}", "--to", "triage"), "name the user this action is taken as with --as USERNAME"),
    (("transition", "{number}", "--to", "triage", "--as", "nobody"), "no active user 'nobody' (--as)"),
    (("transition", "{number}", "--to", "triage", "--as", "gone"), "no active user 'gone' (--as)"),
    (("transition", "{number}", "--to", "triage", "--as", "desk"),
     "the warehouse role may not move a claim from registered to triage"),
    (("transition", "{number}", "--to", "closed", "--as", "boss"), "cannot move a claim from registered to closed"),
    (("transition", "{number}", "--to", "sideways", "--as", "boss"), "unknown claim state 'sideways'"),
    (("transition", "CL-999999", "--to", "triage", "--as", "boss"), "no claim 'CL-999999'"),
    (("replace", "{number}", "--replacement", "{returned}", "--as", "desk"), "is the returned unit"),
    (("replace", "{number}", "--replacement", "{spare}", "--as", "bench"),
     "the engineer role may not move a claim from triage to replacement_shipped"),
    (("replace", "{number}", "--replacement", "NOPE-1", "--as", "desk"), "NOPE-1"),
    (("replace", "{number}", "--replacement", "{spare}"), "--as USERNAME"),
    (("receive", "{case}", "--serial", "{returned}", "--as", "bench"), "the engineer role may not move a case"),
    (("receive", "999999", "--serial", "{returned}", "--as", "desk"), "no unit case with id 999999"),
    (("register", "{returned}", "--symptom", "no_power", "--as", "bench"), "the engineer role may not register"),
    (("register", "{returned}", "--symptom", "smells", "--as", "desk"), "unknown symptom 'smells'"),
    (("register", "{returned}", "--symptom", "no_power"), "--as USERNAME"),
    (("list", "--state", "sideways"), "unknown claim state 'sideways'"),
    (("list", "--customer", "Nobody Ltd"), "no customer named 'Nobody Ltd'"),
])
def test_refusals_exit_1_with_the_reason_on_stderr_and_change_nothing(tmp_path, run, args, words):
    claim = _register(run)
    values = {"number": claim["number"], "case": str(claim["cases"][0]["id"]), "returned": run.serials[0],
              "spare": run.serials[1]}
    before = _snapshot(run)
    result = CliRunner().invoke(main, ["claims", *(a.format(**values) for a in args)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and words in result.stderr, result.stderr
    assert _snapshot(run) == before
    assert json.loads(run("lookup", run.serials[1], "--json").output)["unit"]["status"] == "in_stock"


def test_expire_returns_marks_overdue_cases_not_returned_and_bills_advance_replacements(run):
    claim = _register(run)
    run("claims", "transition", claim["number"], "--to", "triage", "--as", "boss")
    assert run("claims", "replace", claim["number"], "--replacement", run.serials[1], "--as", "desk").exit_code == 0
    assert run("claims", "expire-returns").output == "0 case(s) past their return deadline\n"
    # A day ahead would bill a customer whose time has not run out: refused, as the API refuses it.
    before = _snapshot(run)
    later = (date.today() + timedelta(days=60)).isoformat()
    result = CliRunner().invoke(main, ["claims", "expire-returns", "--today", later])
    assert result.exit_code == 1 and f"today {later} is after today" in result.stderr, result.output
    assert _snapshot(run) == before
    _overdue(claim["cases"][0]["id"])
    result = run("claims", "expire-returns")
    assert result.exit_code == 0, result.output
    expired = f"case {claim['cases'][0]['id']} of claim {claim['number']}: {run.serials[0]} not returned by"
    assert expired in result.output
    assert result.output.endswith("1 case(s) past their return deadline\n")
    shown = json.loads(run("claims", "show", claim["number"], "--json").output)
    assert shown["state"] == "billed" and shown["cases"][0]["state"] == "not_returned"
    # A second pass finds nothing more to do.
    assert run("claims", "expire-returns").output == "0 case(s) past their return deadline\n"
    result = CliRunner().invoke(main, ["claims", "expire-returns", "--today", "someday"])
    assert result.exit_code == 1 and "error:" in result.stderr


def test_the_console_script_runs_the_claims_group(run, tmp_path):
    claim = _register(run)
    env = {**os.environ, "SERIALTRACE_DATABASE_URL": os.environ["SERIALTRACE_DATABASE_URL"]}
    script = os.path.join(os.path.dirname(sys.executable), "serialtrace")
    done = subprocess.run([script, "claims", "show", claim["number"], "--json"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["number"] == claim["number"]
    done = subprocess.run([script, "claims", "transition", claim["number"], "--to", "triage"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: name the user this action is taken as with --as USERNAME: every claim action keeps " \
                          "its author\n"
