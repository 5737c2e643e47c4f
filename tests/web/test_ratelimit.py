"""Flood limits: survey links and the sign-in form per address, the API per token; 429 with Retry-After."""

from __future__ import annotations

import pytest

from serialtrace.config import ConfigError, Settings
from serialtrace.web.ratelimit import SlidingWindow

from .conftest import PASSWORD, csrf_from


@pytest.fixture
def settings_overrides():
    return {"rate_limit_survey": 3, "rate_limit_login": 2, "rate_limit_api": 4, "rate_limit_window": 60}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_says_when_to_come_back():
    clock = Clock()
    window = SlidingWindow(3, 10, clock=clock)
    for _ in range(3):
        assert window.hit("a") is None
        clock.now += 2
    assert window.hit("a") == pytest.approx(4)  # the first hit (at 1000) leaves the window at 1010
    assert window.hit("b") is None  # another key counts on its own
    clock.now += 4
    assert window.hit("a") is None  # the first hit left; the refused one was never counted
    assert window.hit("a") == pytest.approx(2)  # the second (at 1002) is the next to leave


def test_forgotten_keys_bound_the_memory():
    window = SlidingWindow(1, 60, clock=Clock(), max_keys=3)
    for key in "abcd":
        assert window.hit(key) is None
    assert len(window._hits) == 3
    assert window.hit("a") is None  # the longest-idle key was forgotten: it starts from zero again
    assert window.hit("d") is not None


def _survey(client, address="10.1.1.1", method="get"):
    return getattr(client, method)("/survey/not-a-real-link", environ_base={"REMOTE_ADDR": address},
                                   data={"resolved": "yes"} if method == "post" else None)


def test_survey_links_are_limited_per_address(app):
    client = app.test_client()
    answers = [_survey(client).status_code, _survey(client, method="post").status_code, _survey(client).status_code]
    assert answers == [404, 404, 404]  # a link that names no survey is refused, and counted
    over = _survey(client, method="post")
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    page = over.get_data(as_text=True)
    assert "too many requests: the limit is 3 in 60 seconds per address" in page
    assert over.headers["Cache-Control"] == "no-store" and over.headers["X-Content-Type-Options"] == "nosniff"
    # Another address is not held back by the first one's flood.
    assert _survey(client, address="10.1.1.2").status_code == 404


def test_sign_in_posts_are_limited_per_address(app, users):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    wrong = {"username": "warehouse", "password": "wrong", "csrf_token": token}
    assert client.post("/login", data=wrong).status_code == 401
    assert client.post("/login", data=wrong).status_code == 401
    right = client.post("/login", data={**wrong, "password": PASSWORD})
    assert right.status_code == 429 and right.headers["Retry-After"]
    assert client.get("/login").status_code == 200  # the form itself still opens


def test_the_api_is_limited_per_token_with_the_envelope(app, tokens):
    client = app.test_client()

    def call(role):
        return client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {tokens[role]}"})

    assert [call("quality").status_code for _ in range(4)] == [200] * 4
    over = call("quality")
    assert over.status_code == 429
    body = over.get_json()
    assert body["error"] == "rate_limited" and body["details"]["limit"] == 4 and body["details"]["window"] == 60
    assert body["message"].startswith("too many requests: the limit is 4 in 60 seconds per API token")
    assert int(over.headers["Retry-After"]) == body["details"]["retry_after"]
    assert call("engineer").status_code == 200
    # Refused calls count per address like failed sign-ins (the limit of 2 here), whatever made-up token each
    # carries; past the limit a token from that address waits unless this process has accepted it lately: a station
    # retrying with a revoked token behind a shared NAT address does not stop the stations that were working.
    guesses = [client.get("/api/v1/notifications", headers={"Authorization": f"Bearer guess-{n}"},
                          environ_base={"REMOTE_ADDR": "10.2.2.2"}) for n in range(3)]
    assert [r.status_code for r in guesses] == [401, 401, 429]
    assert guesses[2].get_json()["message"].startswith(
        "too many calls without a valid API token: the limit is 2 in 60 seconds per address")
    assert client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {tokens['coordinator']}"},
                      environ_base={"REMOTE_ADDR": "10.2.2.2"}).status_code == 429
    assert client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {tokens['engineer']}"},
                      environ_base={"REMOTE_ADDR": "10.2.2.2"}).status_code == 200
    assert client.get("/api/v1/notifications", headers={"Authorization": "Bearer guess-9"},
                      environ_base={"REMOTE_ADDR": "10.2.2.2"}).status_code == 429
    assert client.get("/api/v1/notifications", environ_base={"REMOTE_ADDR": "10.2.2.3"}).status_code == 401
    # The document stays readable, and lists the 429 on the operations.
    doc = client.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    assert "429" in doc.get_json()["paths"]["/notifications"]["get"]["responses"]


@pytest.mark.parametrize("bad", [{"rate_limit_window": 0}, {"rate_limit_api": -1}, {"rate_limit_survey": 10**7}])
def test_limits_out_of_range_are_refused_at_start(bad):
    with pytest.raises(ConfigError, match="SERIALTRACE_RATE_LIMIT_"):
        Settings.load(bad, environ={})
