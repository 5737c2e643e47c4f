"""Account rules: the password rule (length, the user name, the common passwords), roles, the lockout's end."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from serialtrace.accounts.policy import COMMON_PASSWORDS, MAX_LENGTH, common_passwords, ensure_password, lock_end
from serialtrace.demo import DEMO_PASSWORD
from serialtrace.errors import ValidationError


@pytest.mark.parametrize(("password", "username", "rule"), [
    ("", "anna", "at least 10 characters (this one has 0)"),
    ("8-chars!", "anna", "at least 10 characters (this one has 8)"),
    ("Warehouse1", "warehouse", "must not be the user name"),
    ("anna.berg-2026", "anna.berg", "must not be the user name"),
    ("password123", "anna", "too common"),
    ("1234567890", "anna", "too common"),
    ("QWERTYUIOP", "anna", "too common"),
    ("Summer2026!", "anna", "too common"),
    ("!!basketball!!", "anna", "too common"),
    ("x" * (MAX_LENGTH + 1), "anna", f"at most {MAX_LENGTH} characters"),
])
def test_a_weak_password_is_refused_naming_the_rule(password, username, rule):
    with pytest.raises(ValidationError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        ensure_password(password, username=username)


@pytest.mark.parametrize("password", [DEMO_PASSWORD, "correct-horse-1", "Schrank mit 3 Türen", "x" * MAX_LENGTH,
                                      "anna-likes-scanners"])
def test_a_good_password_passes(password):
    assert ensure_password(password, username="anna") == password


def test_the_shipped_list_is_the_common_passwords_and_small():
    words = common_passwords()
    assert 19_000 <= len(words) <= 21_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= words
    assert all(w == w.casefold() and w == w.strip() for w in words)
    assert COMMON_PASSWORDS.stat().st_size < 100_000
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        assert handle.readline().strip() == "123456"


T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_lock_end_is_the_failure_that_reaches_the_limit_plus_the_duration():
    minute = timedelta(minutes=1)
    times = [T0 + i * minute for i in (0, 1, 2, 20, 21, 22)]
    assert lock_end(times, limit=3, window=15 * minute, duration=15 * minute) == T0 + 37 * minute
    assert lock_end(times[:2], limit=3, window=15 * minute, duration=15 * minute) is None
    assert lock_end([T0, T0 + 16 * minute], limit=2, window=15 * minute, duration=15 * minute) is None
