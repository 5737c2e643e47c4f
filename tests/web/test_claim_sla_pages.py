"""The claim page's "Stage and SLA" panel: the stage, owner, clocks in words with their progress and the statutory
deadline; the reassign and priority forms only for those the service lets, each refusal shown in its form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.columns import at_moment
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service, stages
from serialtrace.warranty.models import Claim, ClaimEvent, Team

from .conftest import csrf_from

MON = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def number(session, make_batch, users):
    """A claim registered on Monday 10:00 (triage, P3, nobody owns it) and a team supervised by the supervisor."""
    _, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=date(2025, 6, 2))
    session.add(Team(name="Returns", supervisor_id=users["supervisor"].id))
    with at_moment(MON):
        claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=users["warehouse"],
                                       today=date(2025, 6, 2)).claim
    session.commit()
    return claim.number


def _page(client, number: str, at: datetime = MON + timedelta(hours=2)) -> str:
    with at_moment(at):
        answer = client.get(f"/claims/{number}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _state(session, number: str) -> tuple:
    session.expire_all()
    claim = session.scalars(select(Claim).where(Claim.number == number)).one()
    return (claim.assignee_id, claim.team_id, claim.priority, claim.impact, claim.urgency,
            session.scalar(select(func.count()).select_from(ClaimEvent)))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_panel_shows_stage_owner_clocks_and_the_statutory_deadline(login, number):
    html = _page(login("quality"), number)
    panel = html[html.index('id="sla"'):html.index('id="route-map"')]
    text = _text(panel)
    assert "Stage and SLA" in text and "Triage" in text and "nobody yet" in text
    # P3 triage: 9 business hours, 2 spent; the resolution clock 90 hours.
    assert "7 h left" in text and "88 h left" in text
    assert '<progress max="100" value="22.2"' in panel and "22.2 %" in text
    # 44 days and 22 hours to the statutory deadline: 45 calendar days, counted up.
    assert "running" in text and "45 calendar days left" in text


def test_an_overdue_claim_says_by_how_much(login, number):
    text = _text(_page(login("quality"), number, MON + timedelta(days=1, hours=3)))
    # Tuesday 13:00: 8 + 4 = 12 business hours of a 9-hour triage.
    assert "overdue by 3 h" in text and "breached" in text


def test_a_paused_clock_says_so(login, session, number, users):
    claim = session.scalars(select(Claim).where(Claim.number == number)).one()
    with at_moment(MON + timedelta(hours=1)):
        service.transition_claim(session, claim_id=claim.id, to="triage", author=users["coordinator"],
                                 today=date(2025, 6, 2))
        service.transition_claim(session, claim_id=claim.id, to="waiting_customer", author=users["coordinator"],
                                 today=date(2025, 6, 2))
    session.commit()
    text = _text(_page(login("quality"), number, MON + timedelta(days=1)))
    assert "paused (waiting outside)" in text and "paused: no deadline while waiting" in text
    assert "8 h left" in text


@pytest.mark.parametrize(("role", "reassign", "priority"), [
    ("supervisor", True, True), ("admin", True, True), ("coordinator", False, True), ("engineer", False, False),
    ("warehouse", False, False), ("quality", False, False)])
def test_only_those_allowed_see_the_forms(login, number, role, reassign, priority):
    html = _page(login(role), number)
    assert ('id="reassign-form"' in html) is reassign
    assert ('id="priority-form"' in html) is priority


def test_the_owner_and_the_team_supervisor_see_the_reassign_form(login, session, number, users):
    claim = session.scalars(select(Claim).where(Claim.number == number)).one()
    stages.reassign(session, claim_id=claim.id, username="engineer", team="Returns", reason="bench",
                    author=users["admin"])
    session.commit()
    assert 'id="reassign-form"' in _page(login("engineer"), number)
    html = _page(login("supervisor"), number)
    assert 'id="reassign-form"' in html and "engineer (Returns)" in _text(html)


def _post(client, number: str, action: str, data: dict):
    token = csrf_from(client.get(f"/claims/{number}").get_data(as_text=True))
    return client.post(f"/claims/{number}/{action}", data={**data, "csrf_token": token})


def test_reassigning_by_form_hands_the_claim_on_with_its_reason(login, session, number):
    client = login("supervisor")
    answer = _post(client, number, "reassign", {"username": "engineer", "team": "Returns", "reason": "bench look"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    text = _text(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "reassigned" in text and "Assignment" in text and "- → engineer (Returns): bench look" in text


@pytest.mark.parametrize(("role", "data", "status", "words", "field"), [
    ("supervisor", {"username": "engineer", "reason": ""}, 422, "a reason is required", "reason"),
    ("supervisor", {"username": "nobody", "reason": "x"}, 404, "no user", "username"),
    ("supervisor", {"team": "Nowhere", "reason": "x"}, 404, "no team", "team"),
    ("supervisor", {"username": "engi\x00neer", "reason": "x"}, 422, "NUL", "username"),
    ("coordinator", {"username": "coordinator", "reason": "mine"}, 403, "owner or a supervisor", None),
], ids=["no-reason", "unknown-user", "unknown-team", "nul", "not-the-owner"])
def test_a_refused_reassignment_is_shown_in_its_form_and_changes_nothing(login, session, number, role, data, status,
                                                                        words, field):
    before = _state(session, number)
    answer = _post(login(role), number, "reassign", data)
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    if role == "supervisor":
        form = html[html.index('id="reassign-form"'):]
        form = form[:form.index("</form>")]
        assert 'id="sla-error"' in form and words in form
        assert re.search(rf'name="{field}" id="reassign-{field}"[^>]* aria-invalid="true"', form)
    else:
        panel = html[html.index('id="sla"'):html.index('id="route-map"')]
        assert 'id="sla-error"' in panel and words in panel
    assert _state(session, number) == before


def test_changing_the_priority_by_form(login, session, number):
    client = login("coordinator")
    answer = _post(client, number, "priority", {"impact": "1", "urgency": "1", "priority": "", "reason": "hospital"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert _state(session, number)[2:5] == ("P1", 1, 1)
    answer = _post(client, number, "priority", {"impact": "1", "urgency": "1", "priority": "P4", "reason": "fine"})
    assert answer.status_code == 302
    text = _text(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert _state(session, number)[2] == "P4" and "Priority change" in text and "P1 → P4: fine" in text


@pytest.mark.parametrize(("role", "data", "status", "field"), [
    ("coordinator", {"impact": "1", "urgency": "1", "reason": ""}, 422, "reason"),
    ("coordinator", {"impact": "7", "urgency": "1", "reason": "x"}, 422, "impact"),
    ("coordinator", {"impact": "x", "urgency": "1", "reason": "x"}, 422, "impact"),
    ("coordinator", {"priority": "P9", "reason": "x"}, 422, "priority"),
], ids=["no-reason", "impact-7", "impact-text", "unknown-priority"])
def test_a_refused_priority_change_is_shown_in_its_form_and_changes_nothing(login, session, number, role, data,
                                                                           status, field):
    before = _state(session, number)
    answer = _post(login(role), number, "priority", data)
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    form = html[html.index('id="priority-form"'):]
    form = form[:form.index("</form>")]
    assert 'id="sla-error"' in form and 'aria-invalid="true"' in form
    assert re.search(rf'name="{field}" id="priority-[a-z]+"[^>]* aria-invalid="true"', form)
    assert _state(session, number) == before


@pytest.mark.parametrize("role", ["engineer", "warehouse", "quality"])
def test_other_roles_may_not_post_a_priority(login, session, number, role):
    before = _state(session, number)
    assert _post(login(role), number, "priority", {"priority": "P1", "reason": "x"}).status_code == 403
    assert _state(session, number) == before


def test_the_forms_need_their_csrf_token(login, session, number):
    before = _state(session, number)
    client = login("supervisor")
    client.get(f"/claims/{number}")
    for action, data in (("reassign", {"username": "engineer", "reason": "x"}), ("priority", {"priority": "P1",
                                                                                           "reason": "x"})):
        assert client.post(f"/claims/{number}/{action}", data=data).status_code == 400
    assert _state(session, number) == before
