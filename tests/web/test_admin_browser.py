"""The admin area and the role navigation in Debian's Chromium: forms worked by keyboard alone, a refused form
focusing the field to correct, a token shown once, and a forbidden page with its way back."""

from __future__ import annotations

import pytest

from serialtrace.accounts import service as accounts_service

from .live import live_app, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """An app whose user is an admin, with a warehouse user beside it."""
    with live_app(tmp_path_factory.mktemp("admin") / "app.sqlite", role="admin") as (base, serials, rt):
        with rt.transaction() as s:
            accounts_service.create_user(s, username="bob", role="warehouse", password="desk-pass-2x")
        yield base, rt


def _type_form(page, values: list[str]) -> None:
    """Type each value and Tab to the next field, as a person at a keyboard does; Enter sends the form."""
    for value in values:
        page.keyboard.type(value, delay=2)
        page.keyboard.press("Tab")


def test_add_a_user_by_keyboard_alone(live_server, browser):
    base, _ = live_server
    page = browser.new_page()
    login(page, base, "/admin/users")
    page.focus("#user-add-form input[name=username]")
    # User name, full name, email, then the role list takes a letter (Q: Quality manager), then both passwords.
    _type_form(page, ["olga", "Ольга Петровна", "olga@example.com"])
    page.keyboard.type("Q")
    page.keyboard.press("Tab")
    page.keyboard.type("blue-kettle-morning", delay=2)
    page.keyboard.press("Tab")
    page.keyboard.type("blue-kettle-morning", delay=2)
    page.keyboard.press("Enter")
    page.wait_for_selector("#user-role")
    assert page.inner_text("#user-role") == "Quality manager"
    assert "user olga added with role Quality manager" in page.inner_text("main")
    page.close()


def test_a_refused_form_focuses_the_field_to_correct(live_server, browser):
    base, _ = live_server
    page = browser.new_page()
    login(page, base, "/admin/users")
    page.fill("#user-add-form input[name=username]", "petr")
    page.fill("#user-add-form input[name=password]", "qwertyuiop")
    page.fill("#user-add-form input[name=password_confirm]", "qwertyuiop")
    page.press("#user-add-form input[name=password_confirm]", "Enter")
    page.wait_for_selector("#form-error")
    assert "password is too common" in page.inner_text("#form-error")
    assert page.evaluate("document.activeElement.name") == "password"
    assert page.input_value("#user-add-form input[name=username]") == "petr"
    page.close()


def test_a_new_token_is_shown_once(live_server, browser):
    base, _ = live_server
    page = browser.new_page()
    login(page, base, "/admin/tokens")
    page.fill("#token-form input[name=name]", "erp-1c")
    page.select_option("#token-form select[name=user]", "bob")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#token-secret")
    secret = page.inner_text("#token-secret")
    assert secret.startswith("st_")
    page.goto(f"{base}/admin/tokens")
    assert secret not in page.content() and secret[:10] in page.inner_text("#tokens")
    page.close()


def test_a_forbidden_page_is_not_in_the_menu_and_leads_back(live_server, browser):
    base, _ = live_server
    page = browser.new_page()
    page.goto(f"{base}/batches")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "desk-pass-2x")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/batches")
    links = page.eval_on_selector_all("header nav.pages a", "els => els.map(e => e.getAttribute('href'))")
    assert "/admin" not in links and "/labels" in links
    # Typed by hand: the page answers 403 with the reason and a way back to where the reader was.
    page.evaluate(f"window.location.href = '{base}/admin/users'")
    page.wait_for_selector("#error-page")
    assert page.get_attribute("#error-page", "data-status") == "403"
    assert page.inner_text("h1") == "Your role may not open this page."
    page.click("#way-back")
    page.wait_for_url(f"{base}/batches")
    page.close()
