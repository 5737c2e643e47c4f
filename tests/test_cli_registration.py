"""`serialtrace customers manager` and `serialtrace report registrations`, and `claims register --confirm-own-customer`:
refusals on stderr with exit code 1 and nothing changed."""

from __future__ import annotations

import json
from datetime import date

import pytest


@pytest.fixture
def run(fresh_cli):
    """A fresh SQLite file: a desk user, a manager, a shipped unit of Vodokanal."""
    _run = fresh_cli
    for name, role in (("desk", "warehouse"), ("manager", "coordinator"), ("gone", "warehouse")):
        added = _run("users", "add", name, "--role", role, "--password-stdin", input="registration-cli-7\n")
        assert added.exit_code == 0, added.output
    assert _run("users", "deactivate", "gone").exit_code == 0
    assert _run("products", "add", "--sku", "PR-100", "--name", "Flow meter").exit_code == 0
    assert _run("batch", "create", "--product", "PR-100", "--quantity", "2").exit_code == 0
    _run.serials = _serials()
    for serial in _run.serials:
        shipped = _run("ship", "--customer", "Vodokanal", "--tax-id", "7701234567", "--serial", serial)
        assert shipped.exit_code == 0, shipped.output
    return _run


def _serials() -> list[str]:
    from sqlalchemy import select

    from serialtrace.runtime import Runtime
    from serialtrace.trace.models import Unit

    rt = Runtime.from_env()
    with rt.read() as s:
        out = list(s.scalars(select(Unit.serial).order_by(Unit.id)))
    rt.engine.dispose()
    return out


def test_set_refuse_and_clear_an_account_manager(run):
    done = run("customers", "manager", "7701234567", "manager")
    assert done.exit_code == 0 and done.output.strip() == "Vodokanal: account manager manager"
    for args, says in ((("Vodokanal", "gone"), "no active user 'gone'"), (("Nobody Ltd", "desk"), "no customer"),
                       (("Vodokanal",), "either"), (("Vodokanal", "desk", "--clear"), "either")):
        refused = run("customers", "manager", *args)
        assert refused.exit_code == 1 and says in refused.output, refused.output
    assert run("customers", "manager", "Vodokanal", "--clear").output.strip() == "Vodokanal: no account manager"


def test_register_as_the_manager_needs_the_confirmation(run):
    assert run("customers", "manager", "Vodokanal", "manager").exit_code == 0
    refused = run("claims", "register", run.serials[0], "--symptom", "no_power", "--as", "manager")
    assert refused.exit_code == 1
    assert "account manager of Vodokanal" in refused.output and "--confirm-own-customer" in refused.output
    assert json.loads(run("claims", "list", "--json").output) == []
    done = run("claims", "register", run.serials[0], "--symptom", "no_power", "--as", "manager",
               "--confirm-own-customer", "--json")
    assert done.exit_code == 0, done.output
    assert [e["kind"] for e in json.loads(done.output)["timeline"]] == ["state_change", "confirmation"]
    other = run("claims", "register", run.serials[1], "--symptom", "no_power", "--as", "desk", "--channel", "phone")
    assert other.exit_code == 0, other.output


def _draft(serial: str) -> str:
    from sqlalchemy import select

    from serialtrace.accounts.models import User
    from serialtrace.runtime import Runtime
    from serialtrace.warranty import service

    rt = Runtime.from_env()
    with rt.transaction() as s:
        desk = s.scalars(select(User).where(User.username == "desk")).one()
        number = service.register_claim(s, serial=serial, symptom="no_power", author=desk, today=date.today(),
                                        draft=True).claim.number
    rt.engine.dispose()
    return number


def test_registering_a_draft_as_the_manager_needs_the_confirmation(run):
    assert run("customers", "manager", "Vodokanal", "manager").exit_code == 0
    number = _draft(run.serials[0])
    refused = run("claims", "transition", number, "--to", "registered", "--as", "manager")
    assert refused.exit_code == 1
    assert "account manager of Vodokanal" in refused.output and "--confirm-own-customer" in refused.output
    assert json.loads(run("claims", "show", number, "--json").output)["state"] == "draft"
    done = run("claims", "transition", number, "--to", "registered", "--as", "manager", "--confirm-own-customer")
    assert done.exit_code == 0 and done.output.strip() == f"claim {number}: draft -> registered", done.output
    timeline = json.loads(run("claims", "show", number, "--json").output)["timeline"]
    assert [(e["kind"], e["author"]) for e in timeline] == [
        ("state_change", "desk"), ("state_change", "manager"), ("confirmation", "manager")]


def test_the_report_for_cron(run):
    assert run("customers", "manager", "Vodokanal", "manager").exit_code == 0
    assert run("claims", "register", run.serials[0], "--symptom", "no_power", "--as", "manager",
               "--confirm-own-customer").exit_code == 0
    assert run("claims", "register", run.serials[1], "--symptom", "no_power", "--as", "desk").exit_code == 0
    data = json.loads(run("report", "registrations", "--json").output)
    assert [(r["user"], r["channel"], r["count"]) for r in data["registered"]] == [("desk", "desk", 1),
                                                                                  ("manager", "desk", 1)]
    assert [r["user"] for r in data["own_customer"]] == ["manager"] and data["stale"] == []
    text = run("report", "registrations", "--day", data["day"]).output
    assert f"registrations on {data['day']}" in text and "manager\tdesk\t1" in text
    empty = json.loads(run("report", "registrations", "--day", "2020-01-01", "--json").output)
    assert empty["total"] == 0 and empty["own_customer"] == []
    bad = run("report", "registrations", "--day", "2020-02-30")
    assert bad.exit_code == 1 and "day" in bad.output
