"""The bell and the escalation pass over HTTP: a user's own notifications (others' are 404), marking them read with
the CSRF-checked form, the unread count in the header, and who may run a pass."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from serialtrace.columns import at_moment
from serialtrace.trace import service as trace_service
from serialtrace.warranty import notifications, service, stages
from serialtrace.warranty.models import Notification

from .conftest import csrf_from


@pytest.fixture
def notes(session, users):
    """Two notifications for the coordinator, one for the engineer."""
    made = [notifications.create(session, user=users[who], kind="escalation", subject=subject, body="see CL-1")
            for who, subject in (("coordinator", "first <b>"), ("coordinator", "second"), ("engineer", "other"))]
    session.commit()
    return made


def test_the_api_lists_own_notifications_newest_first_with_the_unread_count(api, notes):
    answer = api("coordinator").get("/api/v1/notifications")
    assert answer.status_code == 200
    assert answer.json["unread"] == 2 and [n["subject"] for n in answer.json["items"]] == ["second", "first <b>"]
    assert api("engineer").get("/api/v1/notifications").json["unread"] == 1


def test_marking_read_over_the_api_is_for_own_notifications_only(api, notes):
    first, _, others = notes
    done = api("coordinator").post(f"/api/v1/notifications/{first.id}/read")
    assert done.status_code == 200 and done.json["read"] is True
    assert api("coordinator").get("/api/v1/notifications").json["unread"] == 1
    refused = api("coordinator").post(f"/api/v1/notifications/{others.id}/read")
    assert refused.status_code == 404 and refused.json["error"] == "not_found"
    assert api("engineer").get("/api/v1/notifications").json["unread"] == 1
    assert api("coordinator").post("/api/v1/notifications/999999999/read").status_code == 404


def test_the_bell_shows_the_unread_count_and_the_page_marks_read(login, notes):
    client = login("coordinator")
    page = client.get("/station").get_data(as_text=True)
    assert 'class="bell"' in page and "Notifications: 2 unread" in page
    listing = client.get("/notifications")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "first &lt;b&gt;" in html and "other" not in html
    first = notes[0]
    refused = client.post(f"/notifications/{first.id}/read", data={})
    assert refused.status_code == 400  # no CSRF token
    done = client.post(f"/notifications/{first.id}/read", data={"csrf_token": csrf_from(html)})
    assert done.status_code == 302
    assert "Notifications: 1 unread" in client.get("/station").get_data(as_text=True)
    assert client.post(f"/notifications/{notes[2].id}/read", data={"csrf_token": csrf_from(html)}).status_code == 404
    client.post("/notifications/read", data={"csrf_token": csrf_from(html)})
    assert "Notifications: 0 unread" in client.get("/notifications").get_data(as_text=True)


def test_the_bell_is_not_shown_to_someone_logged_out(app):
    assert 'class="bell"' not in app.test_client().get("/login").get_data(as_text=True)


def test_a_supervisor_runs_a_pass_and_the_warehouse_may_not(api, session, users, make_batch):
    _, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=date(2025, 6, 2))
    with at_moment(datetime(2025, 6, 2, 10, 0, tzinfo=UTC)):
        claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=users["warehouse"],
                                       today=date(2025, 6, 2)).claim
    stages.open_task(session, claim.id).assignee_id = users["coordinator"].id
    session.commit()
    refused = api("warehouse").post("/api/v1/escalations", json={})
    assert refused.status_code == 403
    assert session.scalars(select(Notification)).all() == []
    done = api("supervisor").post("/api/v1/escalations", json={})
    assert done.status_code == 200, done.json
    # Registered in 2025: both clocks are far past 150 % now; with no supervisor anywhere the admin is told.
    mine = [(n["claim"], n["threshold"], n["user"]) for n in done.json["notifications"]]
    assert (claim.number, 150, "coordinator") in mine and (claim.number, 150, "admin") in mine
    # The stage task's owner hears of the stage clock; nobody owns the claim, so the resolution clock goes higher up.
    assert api("coordinator").get("/api/v1/notifications").json["unread"] == 1
    assert api("admin").get("/api/v1/notifications").json["unread"] == 2
    assert api("supervisor").post("/api/v1/escalations", json={}).json["notifications"] == []
