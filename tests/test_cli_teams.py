"""`calendars add` and `teams add | member | route` for setup scripts: what they make, and each refusal naming the
field in one line with exit code 1 and nothing made."""

from __future__ import annotations

import pytest


@pytest.fixture
def run(fresh_cli):
    return fresh_cli


@pytest.fixture
def people(run):
    for name, role in (("anna", "supervisor"), ("ivan", "engineer"), ("olga", "coordinator")):
        result = run("users", "add", name, "--role", role, "--password-stdin", input="kettle-morning-blue-7\n")
        assert result.exit_code == 0, result.output
    return run


def test_a_calendar_is_added_as_the_default(run):
    result = run("calendars", "add", "Moscow", "--opens", "09:00", "--closes", "18:00", "--weekdays", "0,1,2,3,4",
                 "--country", "RU", "--timezone", "Europe/Moscow", "--holiday", "2025-06-13", "--holiday",
                 "2025-01-09", "--workday", "2025-11-01", "--default")
    assert result.exit_code == 0, result.output
    assert "calendar Moscow added (the default)" in result.output
    listing = run("calendars", "list").output.splitlines()
    assert listing[0].split("\t") == ["Moscow", "09:00-18:00", "RU", "Europe/Moscow", "default"]
    assert listing[1].startswith("Standard\t") and listing[1].endswith("\t-")


@pytest.mark.parametrize(("args", "words"), [
    (["--opens", "18:00", "--closes", "09:00"], "must close after it opens"),
    (["--timezone", "Mars/Olympus"], "unknown time zone"),
    (["--country", "XX"], "no public holidays are known for the country"),
    (["--holiday", "2025-02-30"], "holidays: '2025-02-30' is not a date"),
    (["--workday", "soon"], "extra_days: 'soon' is not a date"),
    (["--weekdays", "mon"], "--weekdays"),
])
def test_a_bad_calendar_is_refused_naming_the_field(run, args, words):
    result = run("calendars", "add", "Moscow", *args)
    assert result.exit_code == 1 and words in result.output, result.output
    assert "Moscow" not in run("calendars", "list").output


def test_a_calendar_name_is_unique(run):
    result = run("calendars", "add", "Standard")
    assert result.exit_code == 1 and "the name 'Standard' is taken" in result.output


def test_a_team_with_members_and_a_rule(people):
    run = people
    assert run("calendars", "add", "Moscow", "--timezone", "Europe/Moscow").exit_code == 0
    result = run("teams", "add", "Service", "--supervisor", "anna", "--calendar", "Moscow")
    assert result.exit_code == 0, result.output
    assert run("teams", "member", "Service", "ivan").exit_code == 0
    assert run("teams", "member", "Service", "olga").exit_code == 0
    result = run("teams", "member", "Service", "olga", "--remove")
    assert result.output.strip() == "olga is no longer a member of Service"
    result = run("teams", "route", "--team", "Service", "--channel", "phone")
    assert (result.exit_code, result.output.strip()) == (0, "routing rule 1 added")
    result = run("teams", "route", "--team", "Service", "--position", "1")
    assert result.output.strip() == "routing rule 1 added"
    listing = run("teams", "list").output.splitlines()
    assert listing[0].split("\t") == ["Service", "active", "anna", "Moscow", "ivan"]
    assert listing[1].startswith("rule 1\tfamily=*\tchannel=*") and "channel=phone" in listing[2]


@pytest.mark.parametrize(("args", "words"), [
    (["teams", "add", "Service", "--supervisor", "ivan"], "the supervisor must be an active supervisor or admin"),
    (["teams", "add", "Service", "--calendar", "Nowhere"], "no calendar Nowhere"),
    (["teams", "member", "Nobody", "ivan"], "no team Nobody"),
    (["teams", "route", "--team", "Nobody"], "no team Nobody"),
    (["teams", "route", "--team", "Desk", "--channel", "fax"], "unknown channel 'fax'"),
    (["teams", "route", "--team", "Desk", "--customer", "Nobody Ltd"], "no customer 'Nobody Ltd'"),
    (["teams", "route", "--team", "Desk", "--family", "pumps"], "no product has the family 'pumps'"),
    (["teams", "member", "Desk", "nobody"], "'nobody' is not an active user"),
])
def test_bad_team_input_is_refused(people, args, words):
    run = people
    assert run("teams", "add", "Desk").exit_code == 0
    result = run(*args)
    assert result.exit_code == 1 and words in result.output, result.output
    assert run("teams", "list").output.splitlines() == ["Desk\tactive\t-\tdefault\t-"]
