"""The admin pages of calendars, teams and routing rules: they render, save what is typed, name a refused field in
place and change nothing, record the admin's action, and are refused to every other role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from serialtrace.accounts.models import AdminEvent
from serialtrace.trace import service as trace_service
from serialtrace.warranty import teams
from serialtrace.warranty.models import BusinessCalendar, Team

from .conftest import csrf_from

PAGES = ("/admin/calendars", "/admin/teams", "/admin/routing")
CALENDAR = {"name": "Moscow", "opens": "09:00", "closes": "18:00", "weekdays": ["0", "1", "2", "3", "4"],
            "country": "RU", "timezone": "Europe/Moscow", "holidays": "2025-06-13\n\n2025-01-09",
            "extra_days": "2025-11-01"}


@pytest.fixture
def admin(login):
    client = login("admin")

    def post(url, data, *, page="/admin/calendars", **kw):
        token = csrf_from(client.get(page).get_data(as_text=True))
        return client.post(url, data={**data, "csrf_token": token}, **kw)

    client.post_form = post
    return client


def _marked(html: str, field: str) -> bool:
    return re.search(rf'name="{field}"[^>]*aria-invalid="true" aria-describedby="form-error" autofocus', html) \
        is not None


def _calendars(session) -> list[str]:
    session.expire_all()
    return sorted(c.name for c in session.scalars(select(BusinessCalendar)))


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_are_for_admins_only(login, page):
    assert login("admin").get(page).status_code == 200
    for role in ("supervisor", "coordinator", "warehouse"):
        assert login(role).get(page).status_code == 403


def test_posting_is_refused_to_other_roles(login, session):
    client = login("supervisor")
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    resp = client.post("/admin/calendars", data={**CALENDAR, "csrf_token": token})
    assert resp.status_code == 403
    assert _calendars(session) == ["Standard"]


def test_the_admin_sections_link_the_new_pages(admin):
    html = admin.get("/admin").get_data(as_text=True)
    for page in PAGES:
        assert f'href="{page}"' in html


def test_a_calendar_is_added_edited_previewed_and_deleted(admin, session):
    resp = admin.post_form("/admin/calendars", CALENDAR)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    row = session.scalars(select(BusinessCalendar).where(BusinessCalendar.name == "Moscow")).one()
    assert (row.holidays, row.extra_days, row.country, row.is_default) == (
        ["2025-01-09", "2025-06-13"], ["2025-11-01"], "RU", False)
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "calendar Moscow added" in page and 'id="calendar-days"' in page
    assert 'value="Europe/Moscow"' in page and "2025-01-09\n2025-06-13" in page
    assert page.count('type="checkbox" name="weekdays"') == 7 and page.count(" checked>") >= 5
    # Saturdays worked, made the default: the seeded Standard stops being it.
    edit = {**CALENDAR, "weekdays": ["0", "1", "2", "3", "4", "5"], "is_default": "1"}
    resp = admin.post_form(f"/admin/calendars/{row.id}", edit)
    assert resp.status_code == 302
    session.expire_all()
    assert (row.weekdays, row.is_default) == ([0, 1, 2, 3, 4, 5], True)
    assert [c.name for c in session.scalars(select(BusinessCalendar).where(BusinessCalendar.is_default))] == \
        ["Moscow"]
    events = [e.action for e in session.scalars(select(AdminEvent).order_by(AdminEvent.id))]
    assert events == ["calendar.add", "calendar.edit"]
    # The default is not deleted; the Standard calendar, now not the default, is.
    refused = admin.post_form(f"/admin/calendars/{row.id}/delete", {})
    assert refused.status_code == 409 and "cannot be deleted" in refused.get_data(as_text=True)
    standard = teams.get_calendar(session, "Standard")
    assert admin.post_form(f"/admin/calendars/{standard.id}/delete", {}).status_code == 302
    assert _calendars(session) == ["Moscow"]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"closes": "08:00"}, "closes", "must close after it opens"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
    ({"country": "XX"}, "country", "no public holidays are known"),
    ({"holidays": "2025-13-01"}, "holidays", "is not a date"),
    ({"extra_days": "1 May"}, "extra_days", "is not a date"),
    ({"weekdays": []}, "weekdays", "at least one working weekday"),
    ({"name": "Standard"}, "name", "is taken"),
])
def test_a_bad_calendar_field_is_named_in_place(admin, session, change, field, words):
    resp = admin.post_form("/admin/calendars", {**CALENDAR, **change})
    html = resp.get_data(as_text=True)
    assert resp.status_code in (409, 422)
    assert words in html and _marked(html, field), html
    # What was typed stays in the form.
    assert 'value="Europe/Moscow"' in html or field == "timezone"
    assert _calendars(session) == ["Standard"]


def test_an_edit_refused_keeps_the_calendar(admin, session):
    standard = teams.get_calendar(session, "Standard")
    resp = admin.post_form(f"/admin/calendars/{standard.id}", {**CALENDAR, "name": "Standard", "closes": "08:00",
                                                              "is_default": "1"})
    assert resp.status_code == 422 and _marked(resp.get_data(as_text=True), "closes")
    session.expire_all()
    assert standard.timezone == "UTC"


def test_a_team_is_added_staffed_and_deactivated(admin, session, users):
    resp = admin.post_form("/admin/teams", {"name": "Service", "supervisor": "supervisor", "calendar": ""})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    team = session.scalars(select(Team).where(Team.name == "Service")).one()
    assert team.supervisor_id == users["supervisor"].id
    url = f"/admin/teams/{team.id}"
    assert admin.post_form(f"{url}/members", {"user": "engineer"}, page=url).status_code == 302
    page = admin.get(url).get_data(as_text=True)
    assert "engineer is a member of Service" in page
    standard = teams.get_calendar(session, "Standard")
    resp = admin.post_form(url, {"name": "Service desk", "supervisor": "admin", "calendar": str(standard.id)},
                           page=url)
    assert resp.status_code == 302
    assert admin.post_form(f"{url}/members/{users['engineer'].id}/remove", {}, page=url).status_code == 302
    assert admin.post_form(f"{url}/active", {"active": "0"}, page=url).status_code == 302
    session.expire_all()
    assert (team.name, team.supervisor_id, team.calendar_id, team.active) == (
        "Service desk", users["admin"].id, standard.id, False)
    assert teams.members(session, team) == []
    listing = admin.get("/admin/teams").get_data(as_text=True)
    assert "Service desk" in listing and "inactive" in listing


def test_bad_team_input_is_named_in_place(admin, session, users):
    resp = admin.post_form("/admin/teams", {"name": "Service", "supervisor": "engineer", "calendar": ""})
    assert resp.status_code == 422 and _marked(resp.get_data(as_text=True), "supervisor")
    users["supervisor"].active = False
    session.commit()
    resp = admin.post_form("/admin/teams", {"name": "Service", "supervisor": "supervisor", "calendar": ""})
    assert resp.status_code == 422 and _marked(resp.get_data(as_text=True), "supervisor")
    assert teams.list_teams(session) == []
    team = teams.create_team(session, name="Service")
    session.commit()
    url = f"/admin/teams/{team.id}"
    resp = admin.post_form(f"{url}/members", {"user": "supervisor"}, page=url)
    assert resp.status_code == 422 and _marked(resp.get_data(as_text=True), "user")


def test_routing_rules_are_added_moved_and_deleted(admin, session, product):
    product.family = "meters"
    trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    service_team = teams.create_team(session, name="Service")
    phone = teams.create_team(session, name="Phone")
    session.commit()
    page = "/admin/routing"
    assert admin.post_form(page, {"team": str(service_team.id), "product_family": "meters", "channel": "",
                                  "customer": "Vodokanal", "position": ""}, page=page).status_code == 302
    assert admin.post_form(page, {"team": str(phone.id), "product_family": "", "channel": "phone", "customer": "",
                                  "position": ""}, page=page).status_code == 302
    first, second = teams.list_rules(session)
    assert (first.team_id, first.product_family, first.customer_id is not None) == (service_team.id, "meters", True)
    assert admin.post_form(f"/admin/routing/{second.id}/move", {"direction": "up"}, page=page).status_code == 302
    session.expire_all()
    assert [r.id for r in teams.list_rules(session)] == [second.id, first.id]
    html = admin.get(page).get_data(as_text=True)
    assert "Vodokanal" in html and "meters" in html
    assert admin.post_form(f"/admin/routing/{second.id}/delete", {}, page=page).status_code == 302
    session.expire_all()
    assert [r.id for r in teams.list_rules(session)] == [first.id]


@pytest.mark.parametrize(("change", "field"), [
    ({"team": "999999"}, "team"),
    ({"channel": "fax"}, "channel"),
    ({"customer": "Nobody Ltd"}, "customer"),
    ({"product_family": "pumps"}, "product_family"),
    ({"position": "x"}, "position"),
])
def test_a_bad_rule_is_named_in_place(admin, session, change, field):
    team = teams.create_team(session, name="Service")
    session.commit()
    data = {"team": str(team.id), "product_family": "", "channel": "", "customer": "", "position": "", **change}
    resp = admin.post_form("/admin/routing", data, page="/admin/routing")
    assert resp.status_code == 422 and _marked(resp.get_data(as_text=True), field), resp.get_data(as_text=True)
    assert teams.list_rules(session) == []


def test_the_calendar_page_counts_business_hours_between_two_moments(admin, session):
    standard = teams.get_calendar(session, "Standard")
    url = f"/admin/calendars/{standard.id}"
    # Friday 16:00 to Monday 11:00 on the standard 09:00-18:00 week: 2 + 2 hours.
    html = admin.get(f"{url}?from=2025-06-06T16:00&to=2025-06-09T11:00").get_data(as_text=True)
    assert 'id="span-hours">4.00 business hours' in html
    html = admin.get(f"{url}?from=2025-06-09T11:00&to=2025-06-06T16:00").get_data(as_text=True)
    assert "the end is before the start" in html and re.search(r'name="to"[^>]*aria-invalid="true"', html)
    html = admin.get(f"{url}?from=soon&to=2025-06-06T16:00").get_data(as_text=True)
    assert "from must be a date and time" in html
