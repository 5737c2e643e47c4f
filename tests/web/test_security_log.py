"""The security log over the web: what sign-in, logout, admin actions and customer downloads write, the admin page,
its CSV (itself logged), the API, and that nobody but admins reads it."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from serialtrace.accounts.enums import ROLES
from serialtrace.accounts.models import AdminEvent, SecurityEvent
from serialtrace.trace import service as trace_service

from .conftest import PASSWORD, csrf_from
from .dossier_data import RECALL_GORSETI


def _kinds(session, kind: str) -> list[SecurityEvent]:
    session.expire_all()
    return list(session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)))


def _post_login(client, username: str, password: str):
    html = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(html)})


def test_the_login_form_logs_success_failure_and_logout_with_the_address(app, session, users):
    client = app.test_client()
    assert _post_login(client, "engineer", "not-the-password").status_code == 401
    assert _post_login(client, "nobody-here", PASSWORD).status_code == 401
    assert _post_login(client, "engineer", PASSWORD).status_code == 302
    html = client.get("/account/password").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(html)}).status_code == 302
    failed = _kinds(session, "login_failed")
    assert [(e.username, e.details["reason"], e.address) for e in failed] == [
        ("engineer", "wrong_password", "127.0.0.1"), ("nobody-here", "unknown_user", "127.0.0.1")]
    [ok] = _kinds(session, "login_succeeded")
    [out] = _kinds(session, "logout")
    assert ok.user_id == out.user_id == users["engineer"].id


def test_an_admins_role_change_is_in_both_logs(login, session, users):
    admin = login("admin")
    html = admin.get(f"/admin/users/{users['engineer'].id}").get_data(as_text=True)
    resp = admin.post(f"/admin/users/{users['engineer'].id}/role", data={"role": "quality",
                                                                         "csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    [changed] = _kinds(session, "role_changed")
    assert (changed.username, changed.actor, changed.address) == ("engineer", "admin", "127.0.0.1")
    assert changed.details == {"before": "engineer", "after": "quality"}
    assert session.scalars(select(AdminEvent.action).where(AdminEvent.action == "user.role")).all() == ["user.role"]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_nobody_but_admins_reads_the_log(login, api, role):
    assert login(role).get("/admin/security-events").status_code == 403
    assert login(role).get("/admin/security-events.csv").status_code == 403
    assert api(role).get("/api/v1/security-events").status_code == 403


def test_the_page_filters_pages_and_labels_every_cell(login, session, users):
    admin = login("admin")  # its own sign-in is an event too
    client = login("engineer")
    del client
    page = admin.get("/admin/security-events?kind=login_succeeded&user=engineer").get_data(as_text=True)
    rows = re.findall(r'<tr data-kind="([a-z_]+)">', page)
    assert rows == ["login_succeeded"]
    cells = re.findall(r"<td[^>]*>", page)
    assert cells and all("data-label=" in c for c in cells)
    assert admin.get("/admin/security-events?from=2026-13-01").status_code == 422
    assert admin.get("/admin/security-events?from=2026-02-02&to=2026-02-01").status_code == 422
    empty = admin.get("/admin/security-events?from=2001-01-01&to=2001-01-02").get_data(as_text=True)
    assert "No security events match." in empty


def test_the_csv_download_is_itself_logged(login, session):
    admin = login("admin")
    resp = admin.get("/admin/security-events.csv?kind=login_succeeded")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and text.lstrip("\ufeff").startswith("id,at,kind,username")
    assert "login_succeeded" in text
    [logged] = _kinds(session, "security_log_export")
    assert logged.username == "admin" and logged.details == {"filter": {"kind": "login_succeeded"}}


def test_the_api_pages_newest_first_and_checks_its_query(api, session, users):
    caller = api("admin")
    first = caller.get("/api/v1/security-events?kind=user_created&per_page=3").get_json()
    assert first["total"] == len(users) and len(first["items"]) == 3 and first["page"] == 1
    second = caller.get("/api/v1/security-events?kind=user_created&per_page=3&page=2").get_json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    today = date.today().isoformat()
    assert caller.get(f"/api/v1/security-events?since={today}&until={today}").get_json()["total"] >= len(users)
    for bad in ("kind=nonsense", "page=0", "per_page=501", "since=2026-02-02&until=2026-02-01", "extra=1"):
        assert caller.get(f"/api/v1/security-events?{bad}").status_code == 422, bad


def test_downloads_and_api_reads_of_customer_data_are_logged(login, api, session, make_batch):
    _, serials = make_batch(quantity=2, number="2502R01")
    customer = trace_service.get_or_create_customer(session, **RECALL_GORSETI)
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials)
    session.commit()
    quality = login("quality")
    with quality.get("/batches/2502R01/recall.csv") as resp:
        assert resp.status_code == 200 and RECALL_GORSETI["phone"] in resp.get_data(as_text=True)
    with quality.get("/quality/customers.xlsx") as resp:
        assert resp.status_code == 200
    assert api("coordinator").get("/api/v1/batches/2502R01/recall").status_code == 200
    logged = [(e.username, e.details["name"], e.details["format"], e.details["via"])
              for e in _kinds(session, "customer_export")]
    assert logged == [("quality", "recall-2502R01", "csv", "page"), ("quality", "quality-customers", "xlsx", "page"),
                      ("coordinator", "recall-2502R01", "json", "api")]
    # A refused download writes nothing.
    assert login("production").get("/batches/2502R01/recall.csv").status_code == 403
    assert len(_kinds(session, "customer_export")) == 3


def test_the_console_lists_the_log(fresh_cli):
    assert fresh_cli("users", "add", "anna", "--role", "warehouse", "--password-stdin",
                     input="correct-horse-battery\n").exit_code == 0
    out = fresh_cli("audit", "list", "--kind", "user_created", "--json")
    assert out.exit_code == 0, out.output
    [row] = [json.loads(line) for line in out.output.splitlines()]
    assert (row["kind"], row["username"], row["actor"]) == ("user_created", "anna", "console")
    bad = fresh_cli("audit", "list", "--kind", "nonsense")
    assert bad.exit_code != 0 and "unknown security event kind" in bad.output


def test_refused_api_tokens_are_logged_once_a_minute_per_address(app, session):
    client = app.test_client()
    for token in ("st_made_up_token_1", "st_made_up_token_2", "st_made_up_token_3"):
        resp = client.get("/api/v1/test-queue", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401
    # The same address three times within the minute: one row, with no more of the token than a real prefix.
    [refused] = _kinds(session, "token_rejected")
    assert (refused.address, refused.details) == ("127.0.0.1", {"prefix": "st_made_up"})
    client.get("/api/v1/test-queue", headers={"Authorization": "Bearer st_other"},
               environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert [e.address for e in _kinds(session, "token_rejected")] == ["127.0.0.1", "10.0.0.9"]


def test_an_admins_unlock_is_logged_with_the_failures_it_forgot(app, login, session, users):
    client = app.test_client()
    for _ in range(5):
        _post_login(client, "warehouse", "wrong-password")
    admin = login("admin")
    html = admin.get(f"/admin/users/{users['warehouse'].id}").get_data(as_text=True)
    resp = admin.post(f"/admin/users/{users['warehouse'].id}/unlock", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    [cleared] = _kinds(session, "lockout_cleared")
    assert (cleared.username, cleared.actor, cleared.details) == ("warehouse", "admin", {"failures": 5})
