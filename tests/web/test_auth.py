"""Login redirects: only local paths, never another site, never a server error."""

from __future__ import annotations

from urllib.parse import quote

import pytest

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
