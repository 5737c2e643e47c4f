"""Calendars, teams and routing rules over the API for setup scripts: admins only, every bad field named."""

from __future__ import annotations

import pytest

from serialtrace.trace import service as trace_service

MOSCOW = {"name": "Moscow", "opens": "09:00", "closes": "18:00", "weekdays": [0, 1, 2, 3, 4], "country": "RU",
          "timezone": "Europe/Moscow", "holidays": ["2025-06-13"], "extra_days": []}


@pytest.fixture
def admin(app, tokens):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['admin']}"
    return client


@pytest.mark.parametrize("role", ["supervisor", "coordinator", "warehouse"])
def test_only_admins_use_it(app, tokens, role):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    for method, url in (("get", "/api/v1/calendars"), ("post", "/api/v1/calendars"), ("get", "/api/v1/teams"),
                        ("post", "/api/v1/teams"), ("get", "/api/v1/routing-rules"),
                        ("post", "/api/v1/routing-rules"), ("delete", "/api/v1/routing-rules/1")):
        assert getattr(client, method)(url, headers=headers, json={}).status_code == 403, (method, url)


def test_a_calendar_is_added_read_and_patched(admin):
    answer = admin.post("/api/v1/calendars", json=MOSCOW)
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert {k: made[k] for k in MOSCOW} == MOSCOW and made["is_default"] is False
    answer = admin.patch(f"/api/v1/calendars/{made['id']}", json={"is_default": True, "weekdays": [0, 1, 2, 3]})
    assert answer.status_code == 200 and answer.get_json()["weekdays"] == [0, 1, 2, 3]
    listing = admin.get("/api/v1/calendars").get_json()["calendars"]
    assert [(c["name"], c["is_default"]) for c in listing] == [("Moscow", True), ("Standard", False)]
    assert admin.get(f"/api/v1/calendars/{made['id']}").get_json()["timezone"] == "Europe/Moscow"
    assert admin.get("/api/v1/calendars/999999").status_code == 404


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"closes": "08:00"}, 422, "closes"),
    ({"timezone": "Mars/Olympus"}, 422, "timezone"),
    ({"country": "XX"}, 422, "country"),
    ({"holidays": ["2025-02-30"]}, 422, "holidays"),
    ({"weekdays": [9]}, 422, "weekdays[0]"),
    ({"name": "Standard"}, 409, "name"),
])
def test_a_bad_calendar_is_refused_naming_the_field(admin, change, status, field):
    answer = admin.post("/api/v1/calendars", json={**MOSCOW, **change})
    assert (answer.status_code, answer.get_json()["details"]) == (status, {"field": field}), answer.get_json()
    assert len(admin.get("/api/v1/calendars").get_json()["calendars"]) == 1


def test_teams_members_and_rules(admin, session, users):
    trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    session.commit()
    answer = admin.post("/api/v1/teams", json={"name": "Service", "supervisor": "supervisor"})
    assert answer.status_code == 201, answer.get_json()
    team = answer.get_json()
    answer = admin.post(f"/api/v1/teams/{team['id']}/members", json={"username": "engineer"})
    assert answer.get_json()["members"] == ["engineer"]
    refused = admin.post("/api/v1/teams", json={"name": "Desk", "supervisor": "engineer"})
    assert (refused.status_code, refused.get_json()["details"]) == (422, {"field": "supervisor"})
    rule = admin.post("/api/v1/routing-rules", json={"team": "Service", "channel": "phone", "customer": "Vodokanal"})
    assert rule.status_code == 201, rule.get_json()
    assert {k: rule.get_json()[k] for k in ("position", "team", "channel")} == {"position": 1, "team": "Service",
                                                                               "channel": "phone"}
    for body, field in (({"team": "Nobody"}, "team"), ({"team": "Service", "channel": "fax"}, "channel"),
                        ({"team": "Service", "customer": "Nobody Ltd"}, "customer")):
        refused = admin.post("/api/v1/routing-rules", json=body)
        assert (refused.status_code, refused.get_json()["details"]) == (422, {"field": field})
    assert len(admin.get("/api/v1/routing-rules").get_json()["rules"]) == 1
    gone = admin.delete(f"/api/v1/routing-rules/{rule.get_json()['id']}")
    assert (gone.status_code, gone.get_json()) == (200, {"rules": []})
    assert admin.delete(f"/api/v1/routing-rules/{rule.get_json()['id']}").status_code == 404
    assert [t["name"] for t in admin.get("/api/v1/teams").get_json()["teams"]] == ["Service"]
