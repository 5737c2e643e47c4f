"""The security log as the accounts services write it: sign-ins, failures, lockouts, tokens, account changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from serialtrace.accounts import queries, service
from serialtrace.accounts.models import SecurityEvent
from serialtrace.accounts.policy import Lockout
from serialtrace.accounts.security_log import SecurityFilter, list_security_events, record_security_event
from serialtrace.columns import utcnow
from serialtrace.errors import ValidationError

PASSWORD = "correct-horse-battery"
ADDRESS = "10.1.2.3"


@pytest.fixture
def anna(session):
    user = service.create_user(session, username="anna", role="warehouse", password=PASSWORD, actor="console")
    session.commit()
    return user


def _events(session, kind: str | None = None) -> list[SecurityEvent]:
    stmt = select(SecurityEvent).order_by(SecurityEvent.id)
    if kind:
        stmt = stmt.where(SecurityEvent.kind == kind)
    return list(session.scalars(stmt))


def _sign_in(session, username: str, password: str, **kw):
    return service.sign_in(session, username=username, password=password, address=ADDRESS, commit=session.commit,
                           **kw)


def test_a_sign_in_and_its_failures_are_logged_even_though_the_sign_in_fails(session, anna):
    assert _sign_in(session, "anna", PASSWORD).id == anna.id
    for name, password in (("anna", "wrong-password-1"), ("ghost", PASSWORD)):
        with pytest.raises(service.SignInRefused):
            _sign_in(session, name, password)
        session.rollback()  # what the failed request does: the event was committed before it
    [ok] = _events(session, "login_succeeded")
    assert (ok.username, ok.user_id, ok.address) == ("anna", anna.id, ADDRESS)
    failed = _events(session, "login_failed")
    assert [(e.username, e.user_id, e.details["reason"]) for e in failed] == [
        ("anna", anna.id, "wrong_password"), ("ghost", None, "unknown_user")]
    # No password, right or wrong, ever reaches the log.
    stored = json.dumps([e.details for e in _events(session)])
    assert PASSWORD not in stored and "wrong-password-1" not in stored


def test_the_failure_that_locks_and_the_refusals_while_locked_are_logged_once_a_minute(session, anna):
    lockout = Lockout(per_user=2, per_address=100)
    now = utcnow()
    for _ in range(2):
        with pytest.raises(service.SignInRefused):
            _sign_in(session, "anna", "wrong-password-1", now=now, lockout=lockout)
    [started] = _events(session, "lockout_started")
    assert started.details["scope"] == "user" and started.username == "anna"
    for seconds in (1, 30, 70):
        with pytest.raises(service.SignInLocked):
            _sign_in(session, "anna", PASSWORD, now=now + timedelta(seconds=seconds), lockout=lockout)
        session.rollback()
    locked = _events(session, "login_locked")
    # The refusals at +1 s and +70 s; the one at +30 s is within the minute of the first.
    assert len(locked) == 2 and all(e.details["scope"] == "user" for e in locked)
    assert len(_events(session, "login_failed")) == 2


def test_a_checked_current_password_logs_failures_but_no_sign_in(session, anna):
    _sign_in(session, "anna", PASSWORD, purpose="password_change")
    with pytest.raises(service.SignInRefused):
        _sign_in(session, "anna", "wrong-password-1", purpose="password_change")
    assert _events(session, "login_succeeded") == []
    assert _events(session, "login_failed")[0].details == {"reason": "wrong_password", "purpose": "password_change"}


def test_token_use_is_logged_at_most_once_an_hour(session, anna):
    secret = service.create_token(session, name="erp", user=anna, actor="console")
    start = utcnow()
    for minutes in (0, 2, 30, 59, 61, 62):
        assert queries.user_for_token(session, secret, now=start + timedelta(minutes=minutes), address=ADDRESS)
    used = _events(session, "token_used")
    assert len(used) == 2 and used[0].token_prefix == secret[:10] and used[0].address == ADDRESS
    assert used[1].at - used[0].at == timedelta(minutes=61)
    [created] = _events(session, "token_created")
    assert created.token_id == used[0].token_id and created.actor == "console" and secret not in str(created.details)


def test_account_changes_are_logged_with_who_did_them(session, anna):
    admin = service.create_user(session, username="root", role="admin", password=PASSWORD)
    service.change_role(session, anna, role="quality", actor=admin, address=ADDRESS)
    service.change_role(session, anna, role="quality", actor=admin)  # no change, no event
    service.set_password(session, anna, password="another-long-phrase", actor=anna)
    service.deactivate_user(session, "anna", actor=admin)
    service.reactivate_user(session, anna, actor=admin)
    service.create_token(session, name="t1", user=anna, actor=admin)
    service.revoke_tokens(session, "t1", actor=admin)
    service.log_out(session, anna, address=ADDRESS)
    rows = [(e.kind, e.username, e.actor, e.details) for e in _events(session) if e.username == "anna"][1:]
    assert rows == [("role_changed", "anna", "root", {"before": "warehouse", "after": "quality"}),
                    ("password_changed", "anna", "anna", {"by": "self"}),
                    ("user_deactivated", "anna", "root", {}), ("user_reactivated", "anna", "root", {}),
                    ("token_created", "anna", "root", {"name": "t1"}),
                    ("token_revoked", "anna", "root", {"name": "t1"}),
                    ("logout", "anna", "anna", {})]


def test_secrets_are_dropped_from_details_and_names_are_bounded(session):
    event = record_security_event(session, "login_failed", username="x" * 500, address="a" * 100,
                                  details={"password": "hunter2", "token": "st_x", "reason": "unknown_user"})
    assert event.details == {"reason": "unknown_user"} and len(event.username) == 64 and len(event.address) == 64


def test_the_log_filters_by_kind_user_and_time_newest_first(session, anna):
    start = utcnow()
    made = [record_security_event(session, kind, username=name, at=start + timedelta(minutes=minutes)).id
            for minutes, name, kind in ((0, "anna", "login_failed"), (5, "bob", "login_failed"),
                                        (10, "anna", "login_failed"), (15, "anna", "logout"),
                                        (20, "anna", "login_failed"))]
    found = list_security_events(session, SecurityFilter(kind="login_failed", user="anna",
                                                         since=start + timedelta(minutes=1),
                                                         until=start + timedelta(minutes=20)))
    assert [e.id for e in found] == [made[2]]
    everything = list_security_events(session, SecurityFilter(user="anna", since=start))
    assert [e.id for e in everything] == [made[4], made[3], made[2], made[0]]
    with pytest.raises(ValidationError, match="unknown security event kind"):
        SecurityFilter(kind="nonsense")


@pytest.mark.parametrize("statement", [
    lambda: update(SecurityEvent).values(details={"forged": True}),
    lambda: delete(SecurityEvent),
], ids=["update", "delete"])
def test_the_security_log_refuses_update_and_delete_on_every_database(session, anna, statement):
    before = len(_events(session))
    with pytest.raises(IntegrityError, match="security_event is append-only"):
        with session.begin_nested():
            session.execute(statement())
    assert len(_events(session)) == before >= 1
