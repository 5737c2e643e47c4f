"""App and client fixtures bound to the test transaction, with one user per role."""

from __future__ import annotations

import pytest

from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.enums import Role
from serialtrace.web import create_app

PASSWORD = "correct-horse-1"


@pytest.fixture
def frame_trackers():
    """The camera frame trackers given to the app; None lets the app make them on the real clock."""
    return None


@pytest.fixture
def app(runtime, frame_trackers):
    """The Flask app on the test database; CSRF on, as in production."""
    return create_app(runtime=runtime, frame_trackers=frame_trackers)


@pytest.fixture
def users(session):
    """One user per role, committed inside the test transaction."""
    made = {r.value: accounts_service.create_user(session, username=r.value, role=r.value, password=PASSWORD)
            for r in Role}
    session.commit()
    return made


@pytest.fixture
def tokens(session, users):
    """A bearer token per role."""
    out = {name: accounts_service.create_token(session, name=f"{name}-token", user=user)
           for name, user in users.items()}
    session.commit()
    return out


@pytest.fixture
def api(app, tokens):
    """Call the API as a role: api("quality").get("/api/v1/...")."""

    class _Caller:
        def __init__(self, token):
            self.client = app.test_client()
            self.headers = {"Authorization": f"Bearer {token}"}

        def get(self, url, **kw):
            return self.client.get(url, headers=self.headers, **kw)

        def post(self, url, **kw):
            return self.client.post(url, headers=self.headers, **kw)

    return lambda role: _Caller(tokens[role])


def csrf_from(html: str) -> str:
    """The CSRF token embedded in a rendered page."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


@pytest.fixture
def login(app, users):
    """A test client logged in as a role through the real login form."""

    def _login(role: str):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        resp = client.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": csrf_from(page)})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client

    return _login


@pytest.fixture(scope="session")
def playwright():
    """Playwright driving Debian's Chromium (browsers that download themselves cannot work here)."""
    import shutil

    from .live import CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright):
    """Headless Chromium for one test module (each module starts its own live server)."""
    from .live import BASE_ARGS, CHROMIUM

    b = playwright.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS)
    yield b
    b.close()
