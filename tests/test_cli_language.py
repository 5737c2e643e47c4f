"""`serialtrace users add --language` and `users language`: the page language of a user; the CLI speaks English."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from serialtrace.cli import main

from .test_cli_users import _user


@pytest.fixture
def run(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("SERIALTRACE_DATABASE_URL", url)
    runner = CliRunner()

    def _run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert _run("init").exit_code == 0
    _run.url = url
    return _run


def test_a_user_added_with_a_language_sees_it_and_can_change_it(run):
    assert run("users", "add", "olga", "--role", "warehouse", "--language", "ru", "--password-stdin",
               input="tired-cat-reading\n").exit_code == 0
    assert _user(run.url, "olga").language == "ru"
    result = run("users", "language", "olga")
    assert result.exit_code == 0 and "follow the browser" in result.output
    assert _user(run.url, "olga").language is None


def test_an_unknown_language_is_refused_in_english_and_nothing_is_added_or_changed(run):
    result = run("users", "add", "ivan", "--role", "warehouse", "--language", "klingon", "--password-stdin",
                 input="tired-cat-reading\n")
    assert result.exit_code != 0
    assert "unknown language 'klingon'; choose one of en, ru, or none to follow the browser" in result.output
    assert _user(run.url, "ivan") is None
    assert run("users", "add", "ivan", "--role", "warehouse", "--language", "en", "--password-stdin",
               input="tired-cat-reading\n").exit_code == 0
    refused = run("users", "language", "ivan", "de")
    assert refused.exit_code != 0 and "unknown language 'de'" in refused.output
    assert _user(run.url, "ivan").language == "en"
