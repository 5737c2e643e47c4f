"""Users and API tokens: revocation, deactivation, the token's last use; passwords, sessions, sign-in lockout."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from serialtrace.accounts import queries as accounts_queries
from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import ApiToken, LoginAttempt, User
from serialtrace.accounts.policy import hash_token, is_session_current
from serialtrace.columns import utcnow
from serialtrace.errors import NotFound, ValidationError
from serialtrace.runtime import Runtime


@pytest.fixture
def anna(session):
    user = accounts_service.create_user(session, username="anna", role="warehouse", password="long-password")
    session.flush()
    return user


def _token_row(session, secret: str) -> ApiToken:
    from sqlalchemy import select

    return session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
                           ).one()


def test_a_revoked_token_authenticates_nobody(session, anna):
    secret = accounts_service.create_token(session, name="scanner-1", user=anna)
    other = accounts_service.create_token(session, name="scanner-2", user=anna)
    assert accounts_queries.user_for_token(session, secret).username == "anna"
    assert [t.name for t in accounts_service.revoke_tokens(session, "scanner-1")] == ["scanner-1"]
    assert accounts_queries.user_for_token(session, secret) is None
    assert accounts_queries.user_for_token(session, other).username == "anna"
    accounts_service.revoke_tokens(session, other[:10])
    assert accounts_queries.user_for_token(session, other) is None
    with pytest.raises(NotFound, match="no live API token named 'scanner-1'"):
        accounts_service.revoke_tokens(session, "scanner-1")


def test_a_deactivated_user_can_neither_log_in_nor_use_tokens(session, anna):
    secret = accounts_service.create_token(session, name="anna", user=anna)
    assert accounts_queries.authenticate(session, username="anna", password="long-password") is not None
    accounts_service.deactivate_user(session, "anna")
    assert accounts_queries.authenticate(session, username="anna", password="long-password") is None
    assert accounts_queries.user_for_token(session, secret) is None
    with pytest.raises(NotFound):
        accounts_service.deactivate_user(session, "nobody")


def test_last_use_is_recorded_at_most_once_a_minute(session, anna):
    secret = accounts_service.create_token(session, name="anna", user=anna)
    start = utcnow()
    statements: list[str] = []
    conn = session.connection()
    event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
    accounts_queries.user_for_token(session, secret, now=start)
    accounts_queries.user_for_token(session, secret, now=start + timedelta(seconds=30))
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    # The second call is one SELECT; the first also looks up and writes the token's hourly security event.
    assert len(updates) == 1 and len(statements) == 5
    assert sum(s.lstrip().upper().startswith("INSERT INTO SECURITY_EVENT") for s in statements) == 1
    session.expire_all()
    assert _token_row(session, secret).last_used_at.replace(tzinfo=None) == start.replace(tzinfo=None)
    accounts_queries.user_for_token(session, secret, now=start + timedelta(seconds=61))
    session.expire_all()
    assert _token_row(session, secret).last_used_at.replace(tzinfo=None) == \
        (start + timedelta(seconds=61)).replace(tzinfo=None)


def test_a_read_only_request_still_records_the_last_use(fresh_db_url):
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        user = accounts_service.create_user(s, username="erp", role="quality")
        secret = accounts_service.create_token(s, name="erp", user=user)
    reader = rt.read_sessions()
    try:
        assert accounts_queries.user_for_token(reader, secret).username == "erp"
        reader.rollback()  # a GET never commits its session
    finally:
        reader.close()
    with rt.transaction() as s:
        assert _token_row(s, secret).last_used_at is not None
    rt.engine.dispose()


# ---- password rule, sessions, sign-in lockout

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _sign_in(session, username: str, password: str, *, address: str = "192.0.2.1", at: datetime = T0):
    return accounts_service.sign_in(session, username=username, password=password, address=address,
                            commit=session.commit, now=at)


def _attempts(session) -> list[tuple]:
    rows = session.execute(select(LoginAttempt.username, LoginAttempt.address)
                           .order_by(LoginAttempt.id))
    return [tuple(r) for r in rows]


def test_a_weak_password_creates_no_user(session):
    with pytest.raises(ValidationError, match="at least 10 characters"):
        accounts_service.create_user(session, username="bob", role="warehouse", password="short-pw")
    with pytest.raises(ValidationError, match="too common"):
        accounts_service.create_user(session, username="bob", role="warehouse", password="password1234")
    assert session.scalars(select(User).where(User.username == "bob")).first() is None


def test_a_new_password_follows_the_rule_and_ends_the_sessions(session, anna):
    version = anna.session_version
    with pytest.raises(ValidationError, match="must not be the user name"):
        accounts_service.set_password(session, anna, password="Anna123456")
    assert anna.session_version == version
    assert accounts_queries.authenticate(session, username="anna", password="long-password") is not None
    accounts_service.set_password(session, anna, password="a new long phrase")
    assert anna.session_version == version + 1
    assert not is_session_current(anna, version)
    assert accounts_queries.authenticate(session, username="anna", password="long-password") is None
    assert accounts_queries.authenticate(session, username="anna", password="a new long phrase") is not None


def test_logout_and_deactivation_end_the_sessions(session, anna):
    version = anna.session_version
    assert is_session_current(anna, version)
    assert not is_session_current(anna, None) and not is_session_current(anna, str(version))
    accounts_service.end_sessions(session, anna)
    assert not is_session_current(anna, version)
    assert is_session_current(anna, version + 1)
    accounts_service.deactivate_user(session, "anna")
    assert not is_session_current(anna, version + 1) and not is_session_current(anna, version + 2)


def test_five_failures_lock_the_user_name_even_for_the_right_password(session, anna):
    for i in range(5):
        with pytest.raises(accounts_service.SignInRefused, match="^wrong user name or password$"):
            _sign_in(session, "anna", f"guess-{i}", at=T0 + timedelta(minutes=i))
    with pytest.raises(accounts_service.SignInLocked) as locked:
        _sign_in(session, "anna", "long-password", at=T0 + timedelta(minutes=10))
    until = T0 + timedelta(minutes=4 + 15)
    assert locked.value.until == until and locked.value.scope == "user" and locked.value.status_code == 429
    assert locked.value.message == "too many failed sign-ins for this user name; try again after 2026-12-02 09:19 UTC"
    assert locked.value.details == {"retry_at": "2026-12-02T09:19:00+00:00", "scope": "user"}
    # Refused attempts are not failures: the count stays at five, so the lockout does not grow.
    with pytest.raises(accounts_service.SignInLocked):
        _sign_in(session, "anna", "guess-again", at=until - timedelta(seconds=1))
    assert len(_attempts(session)) == 5
    assert _sign_in(session, "anna", "long-password", at=until).username == "anna"
    # The success cleared the user's counter: five more failures are needed for the next lockout.
    for i in range(4):
        with pytest.raises(accounts_service.SignInRefused):
            _sign_in(session, "anna", f"typo-{i}", at=until + timedelta(seconds=i + 1))
    assert _sign_in(session, "anna", "long-password", at=until + timedelta(seconds=10)).username == "anna"


def test_an_unknown_user_name_is_locked_the_same_way(session, anna):
    """The form is no oracle: a name that does not exist fails and locks exactly like one that does."""
    outcomes = {}
    for name in ("anna", "nobody"):
        for i in range(5):
            with pytest.raises(accounts_service.SignInRefused) as refused:
                _sign_in(session, name, f"guess-{i}", address=f"192.0.2.{len(outcomes) + 10}")
        with pytest.raises(accounts_service.SignInLocked) as locked:
            _sign_in(session, name, "long-password", address=f"192.0.2.{len(outcomes) + 10}")
        outcomes[name] = (refused.value.status_code, refused.value.message, locked.value.message)
    assert outcomes["anna"] == outcomes["nobody"]


def test_twenty_failures_from_one_address_lock_it_for_every_user_name(session, anna):
    for i in range(20):
        with pytest.raises(accounts_service.SignInRefused):
            _sign_in(session, f"user{i}", "guess-password", address="198.51.100.9", at=T0 + timedelta(seconds=i))
    with pytest.raises(accounts_service.SignInLocked) as locked:
        _sign_in(session, "anna", "long-password", address="198.51.100.9", at=T0 + timedelta(minutes=5))
    assert locked.value.scope == "address" and "from this address" in locked.value.message
    assert locked.value.until == T0 + timedelta(seconds=19, minutes=15)
    # Another address is not affected, and the right password there does not unlock the first one.
    assert _sign_in(session, "anna", "long-password", address="198.51.100.10", at=T0 + timedelta(minutes=5))
    with pytest.raises(accounts_service.SignInLocked):
        _sign_in(session, "anna", "long-password", address="198.51.100.9", at=T0 + timedelta(minutes=6))
    assert _sign_in(session, "anna", "long-password", address="198.51.100.9", at=T0 + timedelta(minutes=16))


def test_failures_spread_over_more_than_the_window_lock_nothing(session, anna):
    for i in range(12):
        with pytest.raises(accounts_service.SignInRefused):
            _sign_in(session, "anna", "guess-password", at=T0 + timedelta(minutes=4 * i))
    assert _sign_in(session, "anna", "long-password", at=T0 + timedelta(minutes=45)).username == "anna"


def test_old_failures_written_to_the_table_do_not_count_and_are_pruned(session, anna):
    now = utcnow()
    session.add_all([LoginAttempt(username="anna", address="192.0.2.1", at=now - timedelta(minutes=31))
                     for _ in range(10)])
    session.add_all([LoginAttempt(username="anna", address="192.0.2.1", at=now - timedelta(minutes=3))
                     for _ in range(4)])
    session.flush()
    assert accounts_service.sign_in(session, username="anna", password="long-password", address="192.0.2.1",
                            commit=session.commit).username == "anna"
    # The ten expired rows are gone; the four recent failures now count for the address only.
    assert _attempts(session) == [(None, "192.0.2.1")] * 4


def test_the_lockout_holds_across_processes_racing(fresh_db_url):
    """Ten sign-ins at once from several app processes' worth of connections: at most five passwords are tried."""
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        accounts_service.create_user(s, username="anna", role="warehouse", password="long-password")
    barrier = threading.Barrier(10)

    def attempt(i: int) -> str:
        s = rt.sessions()
        try:
            barrier.wait()
            accounts_service.sign_in(s, username="anna", password=f"guess-{i}", address=f"192.0.2.{i}", commit=s.commit)
        except accounts_service.SignInRefused:
            return "checked"
        except accounts_service.SignInLocked:
            return "locked"
        finally:
            s.close()
        return "signed in"

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert set(outcomes) <= {"checked", "locked"} and outcomes.count("checked") <= 5, outcomes
    with rt.transaction() as s:
        assert len(_attempts(s)) == outcomes.count("checked")
    rt.engine.dispose()

