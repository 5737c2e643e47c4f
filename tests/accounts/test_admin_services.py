"""The account services behind the admin area: roles, reactivation, one token's revocation, the last admin, the
lockout list and the admin events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from serialtrace.accounts import queries as accounts_queries
from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import LoginAttempt
from serialtrace.accounts.policy import is_session_current
from serialtrace.columns import utcnow
from serialtrace.errors import Conflict, NotFound, ValidationError

PASSWORD = "long-password-1"


@pytest.fixture
def people(session):
    made = {name: accounts_service.create_user(session, username=name, role=role, password=PASSWORD)
            for name, role in (("root", "admin"), ("anna", "warehouse"))}
    session.flush()
    return made


def test_change_role_ends_sessions(session, people):
    anna = people["anna"]
    version = anna.session_version
    accounts_service.change_role(session, anna, role="engineer")
    session.refresh(anna)
    assert anna.role == "engineer" and not is_session_current(anna, version)


def test_change_role_to_an_unknown_role_changes_nothing(session, people):
    with pytest.raises(ValidationError, match="unknown role 'boss'"):
        accounts_service.change_role(session, people["anna"], role="boss")
    assert people["anna"].role == "warehouse"


def test_the_last_active_admin_keeps_the_role_and_stays_active(session, people):
    with pytest.raises(Conflict, match="root is the last active admin"):
        accounts_service.change_role(session, people["root"], role="quality")
    with pytest.raises(Conflict, match="root is the last active admin"):
        accounts_service.deactivate_user(session, "root")
    assert people["root"].role == "admin" and people["root"].active
    accounts_service.change_role(session, people["anna"], role="admin")
    accounts_service.change_role(session, people["root"], role="quality")
    assert people["root"].role == "quality"


def test_reactivate(session, people):
    accounts_service.deactivate_user(session, "anna")
    assert accounts_queries.authenticate(session, username="anna", password=PASSWORD) is None
    accounts_service.reactivate_user(session, people["anna"])
    assert accounts_queries.authenticate(session, username="anna", password=PASSWORD) is not None
    with pytest.raises(Conflict, match="user anna is already active"):
        accounts_service.reactivate_user(session, people["anna"])


def test_revoke_one_token_by_id(session, people):
    first = accounts_service.create_token(session, name="scanner", user=people["anna"])
    second = accounts_service.create_token(session, name="scanner", user=people["anna"])
    token_id = accounts_queries.list_tokens(session)[0][0].id
    accounts_service.revoke_token(session, token_id)
    # Tokens may share a name: only the one named by its id is revoked.
    assert accounts_queries.user_for_token(session, first) is None
    assert accounts_queries.user_for_token(session, second) is not None
    with pytest.raises(Conflict, match="API token scanner is revoked already"):
        accounts_service.revoke_token(session, token_id)
    with pytest.raises(NotFound, match="no API token 0"):
        accounts_service.revoke_token(session, 0)


def test_locked_user_names_lists_only_current_lockouts(session, people):
    now = utcnow()
    for i in range(5):
        session.add(LoginAttempt(username="anna", address=f"10.0.0.{i}", at=now - timedelta(minutes=1, seconds=i)))
    for i in range(4):
        session.add(LoginAttempt(username="root", address="10.0.0.9", at=now - timedelta(minutes=1, seconds=i)))
    session.flush()
    locked = accounts_queries.locked_user_names(session, now=now)
    assert set(locked) == {"anna"} and locked["anna"] > now
    accounts_service.clear_failures(session, "anna")
    assert accounts_queries.locked_user_names(session, now=now) == {}


def test_admin_events_keep_author_and_are_append_only(session, people):
    event = accounts_service.record_admin_event(session, author=people["root"], action="user.role", subject="anna",
                                                details={"before": "warehouse", "after": "engineer"})
    assert (event.author, event.author_id) == ("root", people["root"].id)
    assert accounts_queries.list_admin_events(session)[0].id == event.id
    with pytest.raises(IntegrityError, match="admin_event is append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE admin_event SET subject = 'someone else'"))
