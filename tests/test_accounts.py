"""Users and API tokens: revocation, deactivation and the token's last use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from serialtrace import accounts
from serialtrace.errors import NotFound
from serialtrace.models_base import utcnow
from serialtrace.runtime import Runtime


@pytest.fixture
def anna(session):
    user = accounts.create_user(session, username="anna", role="warehouse", password="long-password")
    session.flush()
    return user


def _token_row(session, secret: str) -> accounts.ApiToken:
    from sqlalchemy import select

    return session.scalars(select(accounts.ApiToken).where(accounts.ApiToken.token_hash == accounts.hash_token(secret))
                           ).one()


def test_a_revoked_token_authenticates_nobody(session, anna):
    secret = accounts.create_token(session, name="scanner-1", user=anna)
    other = accounts.create_token(session, name="scanner-2", user=anna)
    assert accounts.user_for_token(session, secret).username == "anna"
    assert [t.name for t in accounts.revoke_tokens(session, "scanner-1")] == ["scanner-1"]
    assert accounts.user_for_token(session, secret) is None
    assert accounts.user_for_token(session, other).username == "anna"
    accounts.revoke_tokens(session, other[:10])
    assert accounts.user_for_token(session, other) is None
    with pytest.raises(NotFound, match="no live API token named 'scanner-1'"):
        accounts.revoke_tokens(session, "scanner-1")


def test_a_deactivated_user_can_neither_log_in_nor_use_tokens(session, anna):
    secret = accounts.create_token(session, name="anna", user=anna)
    assert accounts.authenticate(session, username="anna", password="long-password") is not None
    accounts.deactivate_user(session, "anna")
    assert accounts.authenticate(session, username="anna", password="long-password") is None
    assert accounts.user_for_token(session, secret) is None
    with pytest.raises(NotFound):
        accounts.deactivate_user(session, "nobody")


def test_last_use_is_recorded_at_most_once_a_minute(session, anna):
    secret = accounts.create_token(session, name="anna", user=anna)
    start = utcnow()
    statements: list[str] = []
    conn = session.connection()
    event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
    accounts.user_for_token(session, secret, now=start)
    accounts.user_for_token(session, secret, now=start + timedelta(seconds=30))
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1 and len(statements) == 3
    session.expire_all()
    assert _token_row(session, secret).last_used_at.replace(tzinfo=None) == start.replace(tzinfo=None)
    accounts.user_for_token(session, secret, now=start + timedelta(seconds=61))
    session.expire_all()
    assert _token_row(session, secret).last_used_at.replace(tzinfo=None) == \
        (start + timedelta(seconds=61)).replace(tzinfo=None)


def test_a_read_only_request_still_records_the_last_use(fresh_db_url):
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        secret = accounts.create_token(s, name="erp", user=accounts.create_user(s, username="erp", role="quality"))
    reader = rt.read_sessions()
    try:
        assert accounts.user_for_token(reader, secret).username == "erp"
        reader.rollback()  # a GET never commits its session
    finally:
        reader.close()
    with rt.transaction() as s:
        assert _token_row(s, secret).last_used_at is not None
    rt.engine.dispose()
