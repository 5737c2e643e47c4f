"""Login: local redirects only, lockout of repeated failures, sessions that end at logout and password changes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update

from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import LoginAttempt

from .conftest import PASSWORD, csrf_from


def _login_with_next(app, target: str):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/login?next={quote(target, safe='')}",
                       data={"username": "warehouse", "password": PASSWORD, "csrf_token": token})


@pytest.mark.parametrize("target", [
    "/\t/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/units/1\r\nSet-Cookie: x=1",
    "/\r\n/evil.example",
    "https://evil.example/station",
    "//evil.example",
    "///evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "units/relative",
])
def test_login_never_redirects_off_site(app, users, target):
    resp = _login_with_next(app, target)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/station"


def test_login_follows_a_local_next_path(app, users):
    resp = _login_with_next(app, "/batches/2501A00?product=PR-100")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/batches/2501A00?product=PR-100"


def test_a_page_sends_the_visitor_back_after_login(app, users):
    client = app.test_client()
    resp = client.get("/units?q=2501")
    assert resp.status_code == 302
    login_url = resp.headers["Location"]
    token = csrf_from(client.get(login_url).get_data(as_text=True))
    resp = client.post(login_url, data={"username": "warehouse", "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/units?q=2501"


# ---- lockout, logout, password changes

def _post_login(client, username: str, password: str):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _age_attempts(session, minutes: int) -> None:
    """Move every recorded attempt `minutes` into the past, as if that time had gone by."""
    session.execute(update(LoginAttempt).values(at=LoginAttempt.at - timedelta(minutes=minutes)))
    session.commit()


def _signed_in(client) -> bool:
    resp = client.get("/station")
    return resp.status_code == 200


def _copy_of(client):
    """A second browser holding a copy of `client`'s session cookie."""
    other = client.application.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


@pytest.mark.parametrize("username", ["warehouse", "no-such-user"])
def test_five_wrong_passwords_lock_the_user_name_for_fifteen_minutes(app, users, session, username):
    for _ in range(5):
        resp = _post_login(app.test_client(), username, "wrong-password")
        assert resp.status_code == 401 and "wrong user name or password" in resp.get_data(as_text=True)
    client = app.test_client()
    resp = _post_login(client, username, PASSWORD)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert "too many failed log-ins for this user name; try again after " in html and "(in 15 min)" in html
    assert 870 <= int(resp.headers["Retry-After"]) <= 900
    assert not _signed_in(client)
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 5
    _age_attempts(session, 16)
    resp = _post_login(client, username, PASSWORD)
    if username == "warehouse":
        assert resp.status_code == 302 and _signed_in(client)
    else:
        assert resp.status_code == 401


def test_twenty_failures_from_one_address_lock_that_address(app, users, session):
    for i in range(20):
        assert _post_login(app.test_client(), f"guess-{i}", "wrong-password").status_code == 401
    resp = _post_login(app.test_client(), "warehouse", PASSWORD)
    assert resp.status_code == 429
    assert "too many failed log-ins from this address" in resp.get_data(as_text=True)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    assert _post_login(elsewhere, "warehouse", PASSWORD).status_code == 302
    _age_attempts(session, 16)
    assert _post_login(app.test_client(), "warehouse", PASSWORD).status_code == 302


def test_a_copied_cookie_stops_working_after_logout(login):
    client = login("warehouse")
    thief = _copy_of(client)
    assert _signed_in(thief)
    token = csrf_from(client.get("/station").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not _signed_in(client)
    resp = thief.get("/station")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # A logout also ends the user's other sessions; logging in again works.
    other = login("warehouse")
    assert _signed_in(other) and not _signed_in(thief)


def test_a_copied_cookie_stops_working_after_a_password_change_or_deactivation(login, users, session):
    copies = [_copy_of(login("warehouse")), _copy_of(login("engineer"))]
    assert all(_signed_in(c) for c in copies)
    accounts_service.set_password(session, users["warehouse"], password="a brand new phrase")
    accounts_service.deactivate_user(session, "engineer")
    session.commit()
    assert not any(_signed_in(c) for c in copies)
    assert _post_login(copies[0], "warehouse", PASSWORD).status_code == 401
    assert _post_login(copies[0], "warehouse", "a brand new phrase").status_code == 302


def test_a_cookie_from_before_session_versions_is_not_accepted(app, users):
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"] = users["admin"].id
    assert not _signed_in(client)


def _change_password(client, current: str, new: str, confirm: str | None = None):
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                   "confirm_password": new if confirm is None else confirm,
                                                   "csrf_token": token})


@pytest.mark.parametrize(("current", "new", "confirm", "status", "message"), [
    (PASSWORD, "short-pw", None, 422, "password too short: it needs at least 10 characters (this one has 8)"),
    (PASSWORD, "password2026", None, 422, "password is too common"),
    (PASSWORD, "Quality-2026", None, 422, "password must not be the user name"),
    (PASSWORD, "a brand new phrase", "a brand new phrase!", 422, "the new password and its confirmation differ"),
    ("not-my-password", "a brand new phrase", None, 403, "the current password is wrong"),
])
def test_a_refused_password_change_changes_nothing(app, login, current, new, confirm, status, message):
    client = login("quality")
    thief = _copy_of(client)
    resp = _change_password(client, current, new, confirm)
    assert resp.status_code == status and message in resp.get_data(as_text=True)
    assert _signed_in(client) and _signed_in(thief)
    assert _post_login(app.test_client(), "quality", PASSWORD).status_code == 302


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, login):
    client = login("quality")
    thief = _copy_of(client)
    resp = _change_password(client, PASSWORD, "a brand new phrase")
    assert resp.status_code == 302
    assert "password changed" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert _signed_in(client) and not _signed_in(thief)
    assert _post_login(app.test_client(), "quality", PASSWORD).status_code == 401
    assert _post_login(app.test_client(), "quality", "a brand new phrase").status_code == 302


def test_guessing_the_current_password_on_the_password_page_is_locked_too(login):
    client = login("quality")
    for _ in range(5):
        assert _change_password(client, "not-my-password", "a brand new phrase").status_code == 403
    resp = _change_password(client, PASSWORD, "a brand new phrase")
    assert resp.status_code == 429 and "too many failed log-ins for this user name" in resp.get_data(as_text=True)


def test_no_login_is_401_and_the_wrong_role_is_403_each_with_its_message(app, api, login, product):
    """Who is asking unknown: 401 and how to log in; known with the wrong role: 403 naming both roles. Nothing made."""
    body = {"product": "PR-100", "quantity": 1, "number": "AUTH1"}
    client = app.test_client()
    for headers, message in (({}, "log in or send an API token (Authorization: Bearer ...)"),
                             ({"Authorization": "Bearer st_wrong"}, "invalid or revoked API token")):
        resp = client.post("/api/v1/batches", json=body, headers=headers)
        assert resp.status_code == 401
        assert resp.get_json() == {"error": "unauthorized", "message": message, "details": None}
    resp = api("warehouse").post("/api/v1/batches", json=body)
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "forbidden", "details": None,
                               "message": "your role warehouse may not do this; it needs production"}
    assert api("quality").get("/api/v1/batches/AUTH1").status_code == 404
    # Pages: no login goes to the login form, the wrong role gets the 403 page with the message.
    resp = client.get("/import")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    resp = login("coordinator").get("/import")
    assert resp.status_code == 403
    assert "your role coordinator may not do this; it needs production or warehouse" in resp.get_data(as_text=True)
