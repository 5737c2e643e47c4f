"""`serialtrace users`: the password rule on add and passwd, sessions ended by passwd, unlock."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from serialtrace.accounts import queries as accounts_queries
from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import User
from serialtrace.cli import main
from serialtrace.runtime import Runtime


@pytest.fixture
def db_file(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", url)
    return url


@pytest.fixture
def run(db_file):
    runner = CliRunner()

    def _run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert _run("init").exit_code == 0
    return _run


def _user(url: str, name: str) -> User | None:
    rt = Runtime.from_env({"database_url": url})
    try:
        with rt.transaction() as s:
            user = accounts_queries.find_user(s, name)
            if user is not None:
                s.expunge(user)
            return user
    finally:
        rt.engine.dispose()


@pytest.mark.parametrize(("password", "message"), [
    ("short-pw", "error: password too short: it needs at least 10 characters (this one has 8)"),
    ("iloveyou2026", "error: password is too common"),
    ("Anna.Berg-1", "error: password must not be the user name"),
])
def test_users_add_refuses_a_weak_password_and_adds_nobody(run, db_file, password, message):
    result = run("users", "add", "anna.berg", "--role", "warehouse", "--password-stdin", input=f"{password}\n")
    assert result.exit_code == 1 and result.output.startswith(message) and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _user(db_file, "anna.berg") is None


def test_users_passwd_checks_the_rule_and_ends_the_sessions(run, db_file):
    assert run("users", "add", "anna", "--role", "warehouse", "--password-stdin", input="long-password\n"
               ).exit_code == 0
    before = _user(db_file, "anna")
    weak = run("users", "passwd", "anna", "--password-stdin", input="qwertyuiop\n")
    assert weak.exit_code == 1 and "error: password is too common" in weak.output
    assert _user(db_file, "anna").password_hash == before.password_hash
    ok = run("users", "passwd", "anna", "--password-stdin", input="a brand new phrase\n")
    assert ok.exit_code == 0 and "password of anna changed; their open sessions have ended" in ok.output
    after = _user(db_file, "anna")
    assert after.session_version == before.session_version + 1 and after.password_hash != before.password_hash
    missing = run("users", "passwd", "nobody", "--password-stdin", input="a brand new phrase\n")
    assert missing.exit_code == 1 and "error: no user 'nobody'" in missing.output


def test_users_unlock_forgets_the_failures_of_a_user_name(run, db_file):
    run("users", "add", "anna", "--role", "warehouse", "--password-stdin", input="long-password\n")
    rt = Runtime.from_env({"database_url": db_file})
    with rt.transaction() as s:
        for _ in range(5):
            with pytest.raises(accounts_service.SignInRefused):
                accounts_service.sign_in(s, username="anna", password="guess-password", address="192.0.2.1",
                                         commit=s.commit)
        with pytest.raises(accounts_service.SignInLocked):
            accounts_service.sign_in(s, username="anna", password="long-password", address="192.0.2.1",
                                     commit=s.commit)
    result = run("users", "unlock", "anna")
    assert result.exit_code == 0 and "user name anna: 5 failed log-ins forgotten" in result.output
    with rt.transaction() as s:
        user = accounts_service.sign_in(s, username="anna", password="long-password", address="192.0.2.1",
                                        commit=s.commit)
        assert user.username == "anna"
    rt.engine.dispose()
