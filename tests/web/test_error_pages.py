"""Friendly error pages: every status a person can meet says what happened in a sentence, what to do next and how
to get back, with the status; the API keeps answering with the JSON envelope."""

from __future__ import annotations

from html import unescape

import pytest
from werkzeug.exceptions import RequestEntityTooLarge

from serialtrace.errors import Conflict, DecoderBusy, DomainError, ValidationError

from .conftest import csrf_from

# status -> (the page's sentence, a part of what to do next)
PAGES = {
    400: ("The request could not be used.", "check what you entered and send it again"),
    401: ("You need to log in to open this page.", "Log in, then open the page again."),
    403: ("Your role may not open this page.", "ask an administrator for a role that may open it"),
    404: ("There is nothing here.", "Check the address or the code you scanned"),
    409: ("This clashes with what is already recorded, or someone changed it at the same moment.",
          "Reload the page to see the current state"),
    413: ("The upload is too large.", "Send a smaller file or a smaller photo."),
    422: ("Something entered cannot be used.", "correct what the message names"),
    429: ("Too many attempts.", "Wait a little, then try again."),
    500: ("Something went wrong on our side.", "tell your administrator when it happened"),
    503: ("The server is busy right now.", "Wait a few seconds and try again."),
}


class _TooMany(DomainError):
    status_code = 429
    code = "too_many_attempts"


RAISED = {
    409: lambda: Conflict("batch 2501A00 was changed by someone else"),
    413: lambda: RequestEntityTooLarge(),
    422: lambda: ValidationError("quantity must be a whole number"),
    429: lambda: _TooMany("too many scans from this station; wait a minute"),
    500: lambda: RuntimeError("a bug"),
    503: lambda: DecoderBusy("every decoder is busy"),
}


@pytest.fixture
def failing(app):
    """/test-fail/<status> (page) and /api/v1/test-fail/<status> raise what answers with that status."""

    def fail(status: int):
        raise RAISED[status]()

    fail.required_roles = ()
    app.add_url_rule("/test-fail/<int:status>", "test_fail", fail)
    app.add_url_rule("/api/v1/test-fail/<int:status>", "test_fail_api", fail)
    return app


def _assert_friendly(resp, status: int, *, way_back: str | None = None) -> str:
    html = unescape(resp.get_data(as_text=True))
    sentence, advice = PAGES[status]
    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    assert f'data-status="{status}"' in html and f"<h1>{sentence}</h1>" in html and advice in html
    assert f"Error code {status}" in html and 'id="way-back"' in html
    if way_back:
        assert f'id="way-back" href="{way_back}"' in html
    return html


@pytest.mark.parametrize("status", sorted(RAISED))
def test_each_status_has_its_page(failing, login, status):
    client = login("warehouse")
    resp = client.get(f"/test-fail/{status}")
    html = _assert_friendly(resp, status, way_back="/station")
    if status == 500:
        assert "a bug" not in html  # the server's own text stays in its log


@pytest.mark.parametrize("status", sorted(RAISED))
def test_the_api_keeps_its_json_envelope(failing, api, status):
    resp = api("warehouse").get(f"/api/v1/test-fail/{status}")
    assert resp.status_code == status and resp.mimetype == "application/json"
    assert set(resp.get_json()) == {"error", "message", "details"}


def test_not_found_names_the_thing_and_leads_back_where_the_reader_came_from(login, app):
    client = login("warehouse")
    resp = client.get("/units/NO-SUCH-SERIAL", headers={"Referer": "http://localhost/batches?q=25"})
    html = _assert_friendly(resp, 404, way_back="http://localhost/batches?q=25")
    assert "NO-SUCH-SERIAL" in html and "Back to the previous page" in html
    assert _assert_friendly(client.get("/no-such-page"), 404, way_back="/station")


def test_a_foreign_referrer_is_not_offered_as_the_way_back(login):
    resp = login("warehouse").get("/no-such-page", headers={"Referer": "https://evil.example/phish"})
    html = _assert_friendly(resp, 404, way_back="/station")
    assert "evil.example" not in html


def test_forbidden_page(login):
    html = _assert_friendly(login("engineer").get("/labels"), 403, way_back="/station")
    assert "your role engineer may not do this" in html


def test_expired_form_is_400_with_the_way_to_reload(login):
    resp = login("warehouse").post("/account/password", data={"current_password": "x"})
    html = _assert_friendly(resp, 400)
    assert "the form expired or was sent from elsewhere; reload the page and try again" in html


def test_a_bad_token_on_a_page_is_401_with_a_log_in_link(app):
    resp = app.test_client().get("/station", headers={"Authorization": "Bearer st_not-a-token"})
    html = _assert_friendly(resp, 401)
    assert 'id="way-back" href="/login?next=/station' in html and "invalid or revoked API token" in html


@pytest.mark.parametrize("settings_overrides", [{"max_upload_bytes": 1000}])
def test_an_upload_over_the_limit_is_413(login, settings_overrides):
    client = login("warehouse")
    token = csrf_from(client.get("/import").get_data(as_text=True))
    resp = client.post("/import", data={"csrf_token": token, "file": (__import__("io").BytesIO(b"x" * 5000), "a.csv")},
                       content_type="multipart/form-data")
    html = _assert_friendly(resp, 413)
    assert "upload too large: the limit is 1000 bytes" in html


def test_a_locked_login_is_still_the_login_form(app, users):
    client = app.test_client()
    for _ in range(6):
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": "warehouse", "password": "wrong", "csrf_token": token})
    # The form itself says until when, so the person can wait and log in from the same page.
    assert resp.status_code == 429 and 'name="username"' in resp.get_data(as_text=True)
