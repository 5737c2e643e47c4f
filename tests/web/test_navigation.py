"""Navigation by role: every role is shown exactly the pages it may open, and every other page answers 403 with the
friendly page and a way back; the menu and the server checks read one table (auth.PAGE_ROLES)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import select

from serialtrace.accounts.enums import Role
from serialtrace.quality import eightd
from serialtrace.quality.models import RecallCampaign
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import UnitCase
from serialtrace.web.auth import PAGE_ROLES
from serialtrace.web.navigation import ADMIN_SECTIONS, MENU

ROLES = [role.value for role in Role]
# Answers that are files, not pages, and the redirect to the station.
NOT_PAGES = ("static", "pages.index")


@pytest.fixture
def samples(session, users, make_batch):
    """A value for every path parameter of the app's pages (by parameter, or by endpoint where names repeat)."""
    batch, serials = make_batch(quantity=2, number="2501A00",
                                inputs=[trace_service.LotInput("Shenzhen PCB Co.", "board", "L71033")])
    claim = warranty_service.register_claim(session, serial=serials[1], symptom="no_power", author=None,
                                            today=date.today()).claim
    case_id = session.scalars(select(UnitCase.id).where(UnitCase.claim_id == claim.id)).one()
    record = eightd.open_eightd(session, title="No power after a week", claims=[claim.number], author=None)
    session.add(RecallCampaign(number="RC-000001", title="Boards", scope_kind="batch", scope={}))
    session.commit()
    return {"pages.quality_eightd": {"number": record.number}, "pages.quality_recall": {"number": "RC-000001"},
            "serial": serials[0], "number": batch.number, "user_id": users["warehouse"].id,
            "product_id": batch.product_id, "sku": "PR-100", "pages.lot": {"number": "L71033"}, "case_id": case_id,
            "ref": claim.number}


def page_urls(app, samples: dict) -> dict[str, str]:
    """Every page of the url map (endpoint -> URL), path parameters filled from `samples`.

    Pages with a parameter no sample covers are left out; every page without parameters is always in.
    """
    urls = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.rule.startswith("/api/"):
                continue
            if rule.rule.endswith((".png", ".csv", ".pdf", ".zpl", ".js")):
                continue
            values = {**samples, **samples.get(rule.endpoint, {})}
            if not set(rule.arguments) <= set(values):
                continue
            urls[rule.endpoint] = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
    return urls


def _links(html: str, nav_class: str) -> set[str]:
    """The hrefs of the <nav class="..."> block of a page."""
    found = re.search(rf'<nav class="{nav_class}"[^>]*>(.*?)</nav>', html, re.S)
    return set(re.findall(r'href="([^"]+)"', found.group(1))) if found else set()


def _is_friendly_403(html: str) -> bool:
    return ('data-status="403"' in html and "Your role may not open this page." in html and 'id="way-back"' in html
            and "ask an administrator" in html)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_shown_exactly_the_pages_it_gets(app, login, samples, role):
    client = login(role)
    urls = page_urls(app, samples)
    # The pages named here are in the walk; others' pages join it as they are added to the url map.
    assert {"pages.station", "pages.units", "pages.unit", "pages.batch", "labels.page", "admin.index",
            "admin.user", "admin.product", "admin.settings", "auth.password"} <= set(urls)
    statuses = {}
    for endpoint, url in urls.items():
        resp = client.get(url)
        statuses[endpoint] = resp.status_code
        assert resp.status_code in (200, 403), f"{role} got {resp.status_code} on {url}"
        if resp.status_code == 403:
            assert _is_friendly_403(resp.get_data(as_text=True)), f"{url} answered {role} with a bare 403"
    shown = _links(client.get("/station").get_data(as_text=True), "pages")
    with app.test_request_context():
        opened = {url_for(link.endpoint) for link in MENU if statuses[link.endpoint] == 200}
    assert shown == opened
    # The server checks follow the table: a page listed there opens exactly for the roles it names (and admins).
    for endpoint, roles in PAGE_ROLES.items():
        allowed = not roles or role == Role.ADMIN or role in roles
        assert statuses[endpoint] == (200 if allowed else 403), (role, endpoint)


def test_the_menu_differs_by_role(app, login, samples):
    menus = {role: _links(login(role).get("/station").get_data(as_text=True), "pages") for role in ROLES}
    assert "/admin" in menus["admin"] and all("/admin" not in menus[r] for r in ROLES if r != "admin")
    assert "/labels" in menus["production"] and "/labels" in menus["warehouse"]
    assert "/labels" not in menus["engineer"] and "/import" not in menus["quality"]
    # The knowledge base is every claim reader's; the rest of each menu follows.
    assert all("/knowledge" in menus[r] for r in ("warehouse", "quality", "engineer"))
    assert "/knowledge" not in menus["production"]
    menus = {role: links - {"/knowledge"} for role, links in menus.items()}
    assert menus["quality"] == {"/station", "/worklist", "/units", "/batches", "/scans", "/claims", "/test-queue",
                                "/codes", "/reports/registrations", "/quality/batches"}
    assert "/quality/batches" in menus["supervisor"] and "/quality/batches" in menus["admin"]
    assert menus["engineer"] == {"/station", "/worklist", "/units", "/batches", "/claims", "/test-queue", "/codes"}


def test_every_page_in_the_table_checks_the_roles_of_its_row(app):
    for endpoint, roles in PAGE_ROLES.items():
        if endpoint in app.view_functions:
            assert set(app.view_functions[endpoint].required_roles) == set(roles), endpoint


def test_admin_sections_are_the_admin_pages(app, login, samples):
    html = login("admin").get("/admin/products").get_data(as_text=True)
    with app.test_request_context():
        assert _links(html, "admin-sections") == {url_for(link.endpoint) for link in ADMIN_SECTIONS}
    assert re.search(r'<a href="/admin/products" aria-current="page">', html)
    # The header marks the admin area as the current page on its sub-pages too.
    assert re.search(r'<a href="/admin" accesskey="a" aria-current="page">', html)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_admin_actions_are_refused_to_other_roles_and_change_nothing(app, login, samples, session, role):
    from serialtrace.accounts.models import User

    client = login(role)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/station").get_data(as_text=True)).group(1)
    before = session.get(User, samples["user_id"]).role
    resp = client.post(f"/admin/users/{samples['user_id']}/role", data={"role": "admin", "csrf_token": token})
    assert resp.status_code == 403 and _is_friendly_403(resp.get_data(as_text=True))
    resp = client.post("/admin/users", data={"username": "mallory", "role": "admin", "password": "a-long-passphrase",
                                             "password_confirm": "a-long-passphrase", "csrf_token": token})
    assert resp.status_code == 403
    session.expire_all()
    assert session.get(User, samples["user_id"]).role == before
    from serialtrace.accounts import queries as accounts_queries

    assert accounts_queries.find_user(session, "mallory") is None


def test_logged_out_visitors_are_sent_to_log_in(app, samples):
    client = app.test_client()
    for endpoint, url in page_urls(app, samples).items():
        if endpoint == "auth.login":
            continue
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_a_nav_entry_must_have_a_row_in_the_table(app):
    from flask import Flask

    from serialtrace.web import navigation

    broken = navigation.Link("pages.nowhere", "Nowhere")
    bare = Flask(__name__)
    navigation.MENU += (broken,)
    try:
        with pytest.raises(RuntimeError, match="pages.nowhere"):
            navigation.install(bare)
    finally:
        navigation.MENU = navigation.MENU[:-1]
