"""The admin area over HTTP: every action works, is recorded with its author, and a refused one says why, names the
field and changes nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import queries as accounts_queries
from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import AdminEvent, ApiToken, User
from serialtrace.station import service as station_service
from serialtrace.station.models import ScannerStation
from serialtrace.trace import queries as trace_queries
from serialtrace.trace.models import Product
from serialtrace.web.ui.admin import _shown

from .conftest import PASSWORD, csrf_from

NEW_PASSWORD = "blue-kettle-morning"


@pytest.fixture
def admin(login):
    """A client logged in as the admin, with a helper that posts a form with the page's CSRF token."""
    client = login("admin")

    def post(url, data, *, page="/admin/users", **kw):
        token = csrf_from(client.get(page).get_data(as_text=True))
        return client.post(url, data={**data, "csrf_token": token}, **kw)

    client.post_form = post
    return client


def _events(session, action: str | None = None) -> list[AdminEvent]:
    session.expire_all()
    stmt = select(AdminEvent).order_by(AdminEvent.id)
    if action:
        stmt = stmt.where(AdminEvent.action == action)
    return list(session.scalars(stmt))


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _user(session, name: str) -> User | None:
    session.expire_all()
    return accounts_queries.find_user(session, name)


def _marked(html: str, field: str) -> bool:
    """The form field is marked invalid, described by the reason and focused."""
    marked = rf'name="{field}"[^>]*aria-invalid="true" aria-describedby="form-error" autofocus'
    return re.search(marked, html) is not None


# Users ---------------------------------------------------------------------------------------------------------------

def test_add_a_user_with_a_role_and_a_password(admin, session, users, app):
    resp = admin.post_form("/admin/users", {"username": "olga", "display_name": "Ольга Петровна",
                                             "email": "olga@example.com", "role": "engineer",
                                             "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    olga = _user(session, "olga")
    assert resp.headers["Location"].endswith(f"/admin/users/{olga.id}")
    assert (olga.role, olga.display_name, olga.active) == ("engineer", "Ольга Петровна", True)
    assert accounts_queries.authenticate(session, username="olga", password=NEW_PASSWORD) is not None
    [event] = _events(session, "user.add")
    assert (event.author, event.author_id, event.subject, event.details) == ("admin", users["admin"].id, "olga",
                                                                            {"role": "engineer"})
    assert NEW_PASSWORD not in str(event.details)
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "user olga added with role Service engineer" in page


@pytest.mark.parametrize(("form", "status", "message", "field"), [
    ({"password": "short1"}, 422, "password too short", "password"),
    ({"password": "password123", "password_confirm": "password123"}, 422, "password is too common", "password"),
    ({"password_confirm": "something-else-entirely"}, 422, "the password and its confirmation differ",
     "password_confirm"),
    ({"role": "superuser"}, 422, "unknown role 'superuser'", "role"),
    ({"username": "warehouse"}, 409, "user 'warehouse' already exists", "username"),
    ({"username": "x" * 65}, 422, "user name must be 1 to 64 characters", "username"),
])
def test_a_refused_new_user_says_why_and_adds_nothing(admin, session, form, status, message, field):
    users_before, events_before = _count(session, User), len(_events(session))
    data = {"username": "olga", "role": "engineer", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    data.update(form)
    if "password" in form and "password_confirm" not in form:
        data["password_confirm"] = form["password"]
    resp = admin.post_form("/admin/users", data)
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == status
    assert message in html and 'id="form-error"' in html and _marked(html, field)
    # What was typed is kept (never the password), so only the wrong part needs typing again.
    assert f'value="{data["username"]}"' in html and NEW_PASSWORD not in html
    assert _count(session, User) == users_before and len(_events(session)) == events_before


def test_a_form_without_its_csrf_token_is_refused(admin, session):
    resp = admin.post("/admin/users", data={"username": "olga", "role": "admin", "password": NEW_PASSWORD,
                                            "password_confirm": NEW_PASSWORD})
    assert resp.status_code == 400
    assert "the form expired or was sent from elsewhere" in resp.get_data(as_text=True)
    assert _user(session, "olga") is None


def test_change_a_role_ends_the_users_sessions(admin, login, session, users):
    engineer = login("engineer")
    assert engineer.get("/station").status_code == 200
    resp = admin.post_form(f"/admin/users/{users['engineer'].id}/role", {"role": "quality"})
    assert resp.status_code == 302
    assert _user(session, "engineer").role == "quality"
    assert engineer.get("/station").status_code == 302  # logged out: the new role applies from the next login
    assert login("engineer").get("/scans").status_code == 200
    [event] = _events(session, "user.role")
    assert (event.subject, event.details) == ("engineer", {"before": "engineer", "after": "quality"})


def test_an_unknown_role_changes_nothing(admin, session, users):
    resp = admin.post_form(f"/admin/users/{users['engineer'].id}/role", {"role": "root"})
    assert resp.status_code == 422
    html = unescape(resp.get_data(as_text=True))
    assert "unknown role 'root'" in html and _marked(html, "role")
    assert _user(session, "engineer").role == "engineer" and _events(session, "user.role") == []


def test_the_last_admin_cannot_lose_the_role_nor_be_deactivated(admin, session, users):
    resp = admin.post_form(f"/admin/users/{users['admin'].id}/role", {"role": "warehouse"})
    assert resp.status_code == 409
    assert "admin is the last active admin; make another user admin first" in resp.get_data(as_text=True)
    assert _user(session, "admin").role == "admin"
    # With a second admin the first may step down; it then loses the admin area at once.
    admin.post_form(f"/admin/users/{users['quality'].id}/role", {"role": "admin"})
    resp = admin.post_form(f"/admin/users/{users['admin'].id}/role", {"role": "warehouse"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/station")
    assert admin.get("/admin").status_code == 403 and admin.get("/station").status_code == 200


def test_deactivate_and_reactivate(admin, login, session, users):
    warehouse = login("warehouse")
    resp = admin.post_form(f"/admin/users/{users['warehouse'].id}/deactivate", {})
    assert resp.status_code == 302 and not _user(session, "warehouse").active
    assert warehouse.get("/station").status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "deactivated" in page
    resp = admin.post_form(f"/admin/users/{users['warehouse'].id}/reactivate", {})
    assert resp.status_code == 302 and _user(session, "warehouse").active
    assert login("warehouse").get("/station").status_code == 200
    assert [e.action for e in _events(session) if e.subject == "warehouse"] == ["user.deactivate",
                                                                              "user.reactivate"]


def test_deactivate_refuses_oneself_and_reactivate_an_active_user(admin, session, users):
    resp = admin.post_form(f"/admin/users/{users['admin'].id}/deactivate", {})
    assert resp.status_code == 422
    assert "you cannot deactivate yourself" in resp.get_data(as_text=True)
    resp = admin.post_form(f"/admin/users/{users['warehouse'].id}/reactivate", {})
    assert resp.status_code == 409
    assert "user warehouse is already active" in resp.get_data(as_text=True)
    assert _user(session, "admin").active and _events(session) == []


def test_reset_a_password_ends_sessions_and_keeps_the_rule(admin, login, session, users):
    warehouse = login("warehouse")
    resp = admin.post_form(f"/admin/users/{users['warehouse'].id}/password",
                           {"password": "warehouse1", "password_confirm": "warehouse1"})
    assert resp.status_code == 422
    html = unescape(resp.get_data(as_text=True))
    assert "password must not be the user name" in html and _marked(html, "password")
    assert accounts_queries.authenticate(session, username="warehouse", password=PASSWORD) is not None
    assert warehouse.get("/station").status_code == 200
    resp = admin.post_form(f"/admin/users/{users['warehouse'].id}/password",
                           {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    session.expire_all()
    assert accounts_queries.authenticate(session, username="warehouse", password=NEW_PASSWORD) is not None
    assert warehouse.get("/station").status_code == 302
    assert [e.action for e in _events(session)] == ["user.password"]


def test_unlock_a_locked_sign_in(admin, app, session, users):
    client = app.test_client()
    for _ in range(5):
        token = csrf_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"username": "warehouse", "password": "wrong-password", "csrf_token": token})
    page = admin.get(f"/admin/users/{users['warehouse'].id}").get_data(as_text=True)
    assert "locked until" in page
    assert "sign-in locked until" in admin.get("/admin/users").get_data(as_text=True)
    resp = admin.post_form(f"/admin/users/{users['warehouse'].id}/unlock", {})
    assert resp.status_code == 302
    assert "5 failed log-ins forgotten" in admin.get(resp.headers["Location"]).get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "warehouse", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    assert [(e.action, e.details) for e in _events(session)] == [("user.unlock", {"failures": 5})]


def test_an_unknown_user_is_404_with_the_friendly_page(admin):
    resp = admin.get("/admin/users/999999")
    assert resp.status_code == 404
    html = unescape(resp.get_data(as_text=True))
    assert "no user 999999" in html and 'id="way-back"' in html


# API tokens ----------------------------------------------------------------------------------------------------------

def test_create_a_token_shows_it_once_and_it_works(admin, app, session, users):
    resp = admin.post_form("/admin/tokens", {"name": "erp-1c", "user": "coordinator"}, page="/admin/tokens")
    assert resp.status_code == 201
    html = unescape(resp.get_data(as_text=True))
    secret = re.search(r'<code id="token-secret" class="serial">([^<]+)</code>', html).group(1)
    assert secret.startswith("st_")
    api = app.test_client()
    assert api.get("/api/v1/test-queue", headers={"Authorization": f"Bearer {secret}"}).status_code != 401
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert "erp-1c" in listing and secret not in listing and secret[:10] in listing
    [event] = _events(session, "token.create")
    assert event.details == {"user": "coordinator", "prefix": secret[:10]} and secret not in str(event.details)


def test_revoke_a_token(admin, app, session, tokens):
    token = session.scalars(select(ApiToken).where(ApiToken.name == "quality-token")).one()
    resp = admin.post_form(f"/admin/tokens/{token.id}/revoke", {}, page="/admin/tokens")
    assert resp.status_code == 302
    assert app.test_client().get("/api/v1/quality/batches",
                                 headers={"Authorization": f"Bearer {tokens['quality']}"}).status_code == 401
    again = admin.post_form(f"/admin/tokens/{token.id}/revoke", {}, page="/admin/tokens")
    assert again.status_code == 409 and "API token quality-token is revoked already" in again.get_data(as_text=True)
    missing = admin.post_form("/admin/tokens/999999/revoke", {}, page="/admin/tokens")
    assert missing.status_code == 404 and "no API token 999999" in missing.get_data(as_text=True)
    assert [e.action for e in _events(session)] == ["token.revoke"]


@pytest.mark.parametrize(("form", "message", "field"), [
    ({"name": "", "user": "coordinator"}, "a token name is required", "name"),
    ({"name": "x" * 101, "user": "coordinator"}, "a token name is required (at most 100 characters)", "name"),
    ({"name": "erp", "user": "nobody"}, "choose an active user for the token", "user"),
])
def test_a_refused_token_creates_nothing(admin, session, users, form, message, field):
    before = _count(session, ApiToken)
    resp = admin.post_form("/admin/tokens", form, page="/admin/tokens")
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and message in html and _marked(html, field)
    assert _count(session, ApiToken) == before and _events(session) == []


def test_no_token_for_a_deactivated_user(admin, session, users):
    accounts_service.deactivate_user(session, "warehouse")
    session.commit()
    resp = admin.post_form("/admin/tokens", {"name": "old", "user": "warehouse"}, page="/admin/tokens")
    assert resp.status_code == 422 and _count(session, ApiToken) == 0


# Stations ------------------------------------------------------------------------------------------------------------

def test_stations_list_their_profiles_and_a_profile_can_be_deleted(admin, session, users):
    station = station_service.save_station_profile(session, name="desk-1", author=users["warehouse"],
                                                   profile={"prefix": "#", "suffix": "", "separator": "|",
                                                            "layout": "ru"})
    session.commit()
    station_id = station.id
    page = admin.get("/admin/stations").get_data(as_text=True)
    assert "desk-1" in page and "<code>#</code>" in page and "Russian" in page and "warehouse" in page
    resp = admin.post_form(f"/admin/stations/{station_id}/delete", {}, page="/admin/stations")
    assert resp.status_code == 302
    session.expire_all()
    assert session.scalars(select(ScannerStation)).all() == []
    [event] = _events(session, "station.delete")
    assert event.subject == "desk-1" and event.details["profile"]["prefix"] == "#"
    again = admin.post_form(f"/admin/stations/{station_id}/delete", {}, page="/admin/stations")
    assert again.status_code == 404 and f"no station {station_id}" in again.get_data(as_text=True)


# Products ------------------------------------------------------------------------------------------------------------

def test_add_a_product(admin, session):
    resp = admin.post_form("/admin/products", {"sku": "HM-7", "name": "Теплосчётчик ТС-7", "gtin": "4601234560023",
                                               "warranty_months": "36", "family": "heat",
                                               "warranty_start": "sale"}, page="/admin/products")
    assert resp.status_code == 302
    session.expire_all()
    p = trace_queries.get_product(session, "HM-7")
    assert (p.name, p.gtin, p.warranty_months, p.family, p.warranty_start) == (
        "Теплосчётчик ТС-7", "04601234560023", 36, "heat", "sale")
    assert "Теплосчётчик ТС-7" in admin.get("/admin/products").get_data(as_text=True)
    [event] = _events(session, "product.add")
    assert event.subject == "HM-7" and event.details["gtin"] == "04601234560023"


@pytest.mark.parametrize(("form", "status", "message", "field"), [
    ({"gtin": "4601234560024"}, 422, "has check digit 4, expected 3", "gtin"),
    ({"gtin": "46012"}, 422, "must be 8, 12, 13 or 14 digits", "gtin"),
    ({"sku": "PR-100"}, 409, "product 'PR-100' already exists", "sku"),
    ({"gtin": "04601234560016"}, 409, "GTIN 04601234560016 already belongs to another product", "gtin"),
    ({"warranty_months": "two"}, 422, "warranty months must be a whole number", "warranty_months"),
    ({"warranty_months": "241"}, 422, "warranty months must be between 0 and 240", "warranty_months"),
    ({"name": ""}, 422, "product name must not be empty", "name"),
    ({"sku": ""}, 422, "must be 1 to 64 characters", "sku"),
    ({"shelf_life_months": "a year"}, 422, "shelf life must be a whole number of months", "shelf_life_months"),
    ({"shelf_life_months": "121"}, 422, "shelf life must be 1 to 120 months", "shelf_life_months"),
])
def test_a_refused_product_says_why_and_adds_nothing(admin, session, product, form, status, message, field):
    session.commit()
    before = _count(session, Product)
    data = {"sku": "HM-7", "name": "Heat meter", "gtin": "4601234560023", "warranty_months": "24", "family": "",
            "warranty_start": "shipment", **form}
    resp = admin.post_form("/admin/products", data, page="/admin/products")
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == status, html
    assert message in html and _marked(html, field)
    assert _count(session, Product) == before and _events(session) == []


def test_edit_a_product(admin, session, product):
    session.commit()
    form = admin.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert 'value="Flow meter UR-100"' in form and 'value="04601234560016"' in form
    resp = admin.post_form(f"/admin/products/{product.id}", {"name": "Flow meter UR-100M", "gtin": "",
                                                              "warranty_months": "30", "family": "flow"},
                           page=f"/admin/products/{product.id}")
    assert resp.status_code == 302
    session.expire_all()
    p = session.get(Product, product.id)
    assert (p.name, p.gtin, p.warranty_months, p.family, p.sku) == ("Flow meter UR-100M", None, 30, "flow", "PR-100")
    [event] = _events(session, "product.edit")
    assert event.details == {"name": ["Flow meter UR-100", "Flow meter UR-100M"], "gtin": ["04601234560016", None],
                             "warranty_months": [24, 30], "family": ["", "flow"]}


@pytest.mark.parametrize(("form", "status", "message", "field"), [
    ({"warranty_months": "300"}, 422, "warranty months must be between 0 and 240", "warranty_months"),
    ({"gtin": "4601234560023"}, 409, "GTIN 04601234560023 already belongs to another product", "gtin"),
    ({"gtin": "123"}, 422, "must be 8, 12, 13 or 14 digits", "gtin"),
    ({"name": " "}, 422, "product name must not be empty", "name"),
    ({"shelf_life_months": "0"}, 422, "shelf life must be 1 to 120 months", "shelf_life_months"),
    ({"shelf_life_months": "-3"}, 422, "shelf life must be a whole number of months", "shelf_life_months"),
])
def test_a_refused_edit_changes_nothing(admin, session, product, form, status, message, field):
    from serialtrace.trace import service as trace_service

    trace_service.add_product(session, sku="HM-7", name="Heat meter", gtin="4601234560023")
    session.commit()
    data = {"name": "Renamed", "gtin": "04601234560016", "warranty_months": "24", "family": "", **form}
    resp = admin.post_form(f"/admin/products/{product.id}", data, page=f"/admin/products/{product.id}")
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == status and message in html and _marked(html, field)
    session.expire_all()
    p = session.get(Product, product.id)
    assert (p.name, p.gtin, p.warranty_months) == ("Flow meter UR-100", "04601234560016", 24)
    assert _events(session) == []


# Settings ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("settings_overrides", [{"secret_key": "s3cret-value-xyz", "serial_key": "serial-abc-42",
                                                 "timezone": "Europe/Moscow"}])
def test_settings_are_shown_with_secrets_masked(admin, settings_overrides):
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert "SERIALTRACE_TIMEZONE" in html and "Europe/Moscow" in html and "SERIALTRACE_LABEL_TEMPLATES" in html
    assert "s3cret-value-xyz" not in html and "serial-abc-42" not in html
    assert re.search(r"SERIALTRACE_SECRET_KEY</code></td>\s*<td[^>]*>set \(hidden\)</td>", html)


def test_a_database_url_is_shown_without_its_password():
    shown = _shown("database_url", "postgresql://serial:hunter2@db.local:5432/trace")
    assert "hunter2" not in shown and "db.local:5432/trace" in shown and "serial:***@" in shown
    assert _shown("secret_key", "") == "not set"
    # A secret setting added later is masked by its name.
    assert _shown("smtp_password", "mail-pass-123") == "set (hidden)"


def test_shelf_life_is_set_on_add_and_changed_or_cleared_on_edit(admin, session, product):
    session.commit()
    resp = admin.post_form("/admin/products", {"sku": "GA-9", "name": "Gas analyser", "gtin": "", "family": "",
                                               "warranty_months": "12", "warranty_start": "shipment",
                                               "shelf_life_months": "18"}, page="/admin/products")
    assert resp.status_code == 302
    session.expire_all()
    added = trace_queries.get_product(session, "GA-9")
    assert added.shelf_life_months == 18
    assert _events(session, "product.add")[0].details["shelf_life_months"] == 18
    page = f"/admin/products/{product.id}"
    assert 'name="shelf_life_months" value=""' in admin.get(page).get_data(as_text=True)
    base = {"name": product.name, "gtin": "04601234560016", "warranty_months": "24", "family": ""}
    assert admin.post_form(page, {**base, "shelf_life_months": "6"}, page=page).status_code == 302
    session.expire_all()
    assert session.get(Product, product.id).shelf_life_months == 6
    assert admin.post_form(page, {**base, "shelf_life_months": ""}, page=page).status_code == 302
    session.expire_all()
    assert session.get(Product, product.id).shelf_life_months is None
    assert [e.details for e in _events(session, "product.edit")] == [{"shelf_life_months": [None, 6]},
                                                                      {"shelf_life_months": [6, None]}]
