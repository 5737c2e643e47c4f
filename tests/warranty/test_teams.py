"""Calendars, teams and routing rules on both databases: every bad field named and nothing changed, one default
calendar at a time, and a rule made here sends a new claim to its team."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from serialtrace.columns import at_moment
from serialtrace.errors import Conflict, DomainError, NotFound, ValidationError
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service, teams
from serialtrace.warranty.models import BusinessCalendar, RoutingRule, Team
from serialtrace.warranty.teams import CalendarFields

from .tested_case import people

TODAY = date(2025, 6, 2)


@pytest.fixture
def who(session):
    return people(session)


def _refused(call, field: str, kind: type[DomainError] = ValidationError) -> DomainError:
    with pytest.raises(kind) as caught:
        call()
    assert caught.value.details == {"field": field}, caught.value.details
    return caught.value


def _defaults(session) -> list[str]:
    session.expire_all()
    return [c.name for c in session.scalars(select(BusinessCalendar).where(BusinessCalendar.is_default.is_(True)))]


MOSCOW = CalendarFields(name="Moscow", opens="09:00", closes="18:00", weekdays=[0, 1, 2, 3, 4], country="RU",
                        timezone="Europe/Moscow", holidays=["2025-06-13"], extra_days=["2025-11-01"])


def test_a_calendar_is_saved_with_its_checked_fields(session):
    row = teams.create_calendar(session, MOSCOW)
    assert (row.opens, row.closes, row.weekdays, row.country, row.timezone) == (
        time(9), time(18), [0, 1, 2, 3, 4], "RU", "Europe/Moscow")
    assert (row.holidays, row.extra_days, row.is_default) == (["2025-06-13"], ["2025-11-01"], False)
    assert _defaults(session) == ["Standard"]


@pytest.mark.parametrize(("change", "field"), [
    ({"closes": "08:00"}, "closes"),
    ({"closes": "09:00"}, "closes"),
    ({"opens": "nine"}, "opens"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"country": "XX"}, "country"),
    ({"weekdays": [7]}, "weekdays"),
    ({"weekdays": []}, "weekdays"),
    ({"holidays": ["2025-02-30"]}, "holidays"),
    ({"extra_days": ["next friday"]}, "extra_days"),
    ({"name": " "}, "name"),
])
def test_a_bad_calendar_field_is_refused_by_name_and_nothing_is_saved(session, change, field):
    fields = CalendarFields(**{**MOSCOW.__dict__, **change})
    _refused(lambda: teams.create_calendar(session, fields), field)
    assert [c.name for c in teams.list_calendars(session)] == ["Standard"]


def test_a_calendar_name_is_unique(session):
    teams.create_calendar(session, MOSCOW)
    _refused(lambda: teams.create_calendar(session, MOSCOW), "name", Conflict)
    other = teams.create_calendar(session, CalendarFields(name="Berlin", timezone="Europe/Berlin", country="DE"))
    _refused(lambda: teams.update_calendar(session, other, CalendarFields(name="Moscow")), "name", Conflict)


def test_there_is_one_default_calendar_at_a_time(session):
    moscow = teams.create_calendar(session, CalendarFields(**{**MOSCOW.__dict__, "is_default": True}))
    assert _defaults(session) == ["Moscow"]
    standard = teams.get_calendar(session, "Standard")
    changed = teams.update_calendar(session, standard, CalendarFields(name="Standard", opens="09:00",
                                                                      is_default=True))
    assert changed == {"is_default": [False, True]}
    assert _defaults(session) == ["Standard"]
    # The default is not unset by itself, nor deleted.
    _refused(lambda: teams.update_calendar(session, standard, CalendarFields(name="Standard")), "is_default")
    _refused(lambda: teams.delete_calendar(session, standard), "calendar", Conflict)
    assert _defaults(session) == ["Standard"]
    teams.delete_calendar(session, moscow)
    assert [c.name for c in teams.list_calendars(session)] == ["Standard"]


def test_a_calendar_a_team_uses_is_not_deleted(session, who):
    moscow = teams.create_calendar(session, MOSCOW)
    teams.create_team(session, name="Service Moscow", calendar="Moscow")
    _refused(lambda: teams.delete_calendar(session, moscow), "calendar", Conflict)


def test_the_preview_names_public_holidays_and_the_company_days(session):
    row = teams.create_calendar(session, MOSCOW)
    days = teams.preview(row, date(2025, 6, 9), 7)
    # Thursday 12 June is Russia Day; Friday 13 June the company's day off; the weekend is off.
    off = {d.day.isoformat(): d.reason for d in days if not d.working}
    assert set(off) == {"2025-06-12", "2025-06-13", "2025-06-14", "2025-06-15"}
    assert off["2025-06-12"] and off["2025-06-13"] == "company day off"
    saturday = teams.preview(row, date(2025, 11, 1), 1)
    assert (saturday[0].working, saturday[0].reason) == (True, "worked transfer day")


def test_a_team_has_a_supervisor_members_and_a_calendar(session, who):
    teams.create_calendar(session, MOSCOW)
    team = teams.create_team(session, name="Service", supervisor="supervisor", calendar="Moscow")
    assert (team.supervisor_id, team.active) == (who["supervisor"].id, True)
    teams.add_member(session, team, "engineer")
    teams.add_member(session, team, "coordinator")
    teams.add_member(session, team, "engineer")
    assert [u.username for u in teams.members(session, team)] == ["coordinator", "engineer"]
    teams.remove_member(session, team, "engineer")
    assert [u.username for u in teams.members(session, team)] == ["coordinator"]
    _refused(lambda: teams.remove_member(session, team, "engineer"), "user")
    teams.set_supervisor(session, team, "admin")
    teams.set_calendar(session, team, None)
    teams.rename_team(session, team, "Service desk")
    assert (team.name, team.supervisor_id, team.calendar_id) == ("Service desk", who["admin"].id, None)


def test_bad_team_input_is_refused_by_name(session, who):
    _refused(lambda: teams.create_team(session, name="Service", supervisor="engineer"), "supervisor")
    who["supervisor"].active = False
    _refused(lambda: teams.create_team(session, name="Service", supervisor="supervisor"), "supervisor")
    _refused(lambda: teams.create_team(session, name="Service", supervisor="nobody"), "supervisor")
    _refused(lambda: teams.create_team(session, name="Service", calendar="Nowhere"), "calendar")
    team = teams.create_team(session, name="Service")
    _refused(lambda: teams.create_team(session, name="Service"), "name", Conflict)
    who["warehouse"].active = False
    _refused(lambda: teams.add_member(session, team, "warehouse"), "user")
    _refused(lambda: teams.add_member(session, team, "nobody"), "user")
    assert teams.members(session, team) == []


def test_rules_are_checked_ordered_and_moved(session, who, product):
    product.family = "meters"
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    service_team = teams.create_team(session, name="Service")
    phone = teams.create_team(session, name="Phone")
    _refused(lambda: teams.add_rule(session, team="Nobody"), "team")
    _refused(lambda: teams.add_rule(session, team="Service", channel="fax"), "channel")
    _refused(lambda: teams.add_rule(session, team="Service", product_family="pumps"), "product_family")
    _refused(lambda: teams.add_rule(session, team="Service", customer_id=999999), "customer")
    _refused(lambda: teams.add_rule(session, team="Service", position=2), "position")
    _refused(lambda: teams.customer_named(session, "Nobody Ltd"), "customer")
    teams.set_active(session, phone, False)
    _refused(lambda: teams.add_rule(session, team="Phone"), "team")
    assert teams.list_rules(session) == []
    teams.set_active(session, phone, True)
    first = teams.add_rule(session, team="Service", product_family="meters", customer_id=customer.id)
    second = teams.add_rule(session, team=phone.id, channel="phone")
    third = teams.add_rule(session, team="Service", position=1)
    assert [r.id for r in teams.list_rules(session)] == [third.id, first.id, second.id]
    assert [r.position for r in teams.list_rules(session)] == [1, 2, 3]
    teams.move_rule(session, second.id, -1)
    teams.move_rule(session, third.id, -1)
    assert [r.id for r in teams.list_rules(session)] == [third.id, second.id, first.id]
    teams.delete_rule(session, second.id)
    assert [(r.id, r.position) for r in teams.list_rules(session)] == [(third.id, 1), (first.id, 2)]
    with pytest.raises(NotFound):
        teams.delete_rule(session, second.id)
    assert service_team.active


def test_a_rule_made_here_routes_a_new_claim_to_its_team(session, who, make_batch, product):
    product.family = "meters"
    batch, serials = make_batch(quantity=2)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=TODAY)
    phone = teams.create_team(session, name="Phone line")
    meters = teams.create_team(session, name="Meters", supervisor="supervisor")
    teams.add_rule(session, team="Phone line", channel="phone")
    teams.add_rule(session, team="Meters", product_family="meters")
    with at_moment(datetime(2025, 6, 2, 10, tzinfo=UTC)):
        by_phone = service.register_claim(session, serial=serials[0], symptom="no_power", author=who["warehouse"],
                                          channel="phone", today=TODAY).claim
        at_desk = service.register_claim(session, serial=serials[1], symptom="no_power", author=who["warehouse"],
                                         today=TODAY).claim
    assert (by_phone.team_id, at_desk.team_id) == (phone.id, meters.id)
    assert session.scalars(select(RoutingRule)).all() and session.get(Team, meters.id).supervisor_id == \
        who["supervisor"].id
