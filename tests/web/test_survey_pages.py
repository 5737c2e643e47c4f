"""The customer survey through the app, on both databases: closing a claim on its page or over the API mails the
link to a real SMTP server; the link opens with no login, answers once, and is refused when altered, expired or
used; the claim page and JSON show the survey; a mail server that is down never fails the closing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from serialtrace.columns import at_moment, utcnow
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import Claim, Survey

from .conftest import csrf_from
from tests.fakesmtp import free_port

SENDER = "service@example.com"


@pytest.fixture
def mail_port(smtp_server):
    """The port the app mails to: the test server's, or a closed one for a test that parametrizes it."""
    return smtp_server.port


@pytest.fixture
def settings_overrides(smtp_server, mail_port):
    return {"smtp_host": smtp_server.host, "smtp_port": mail_port, "mail_from": SENDER, "smtp_timeout": 2,
            "public_url": "https://trace.example.com"}


def _claim(session, make_batch, users, *, email="buyer@example.com"):
    """A resolved claim of a customer with `email` (and a name the survey page must not show)."""
    _, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name="Secret Customer Ltd", tax_id="7701234567",
                                                    email=email)
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials)
    claim = warranty_service.register_claim(session, serial=serials[0], symptom="no_power", author=users["warehouse"],
                                            today=date.today()).claim
    claim.state = "resolved"  # the way there is tested elsewhere; here only the closing step matters
    session.commit()
    return claim


def _close_on_page(login, claim):
    client = login("coordinator")
    page = f"/claims/{claim.number}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    answer = client.post(f"{page}/transition", data={"to": "closed", "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def _link(received) -> str:
    text = received[-1].message.get_body(("plain",)).get_content()
    return re.search(r"https://trace\.example\.com(/survey/\S+)", text).group(1)


def _survey(session, claim) -> Survey:
    session.expire_all()
    return session.scalars(select(Survey).where(Survey.claim_id == claim.id)).one()


def test_closing_on_the_claim_page_mails_a_link_that_answers_once_without_login(session, app, login, users,
                                                                                make_batch, smtp_server):
    claim = _claim(session, make_batch, users)
    staff = _close_on_page(login, claim)
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["buyer@example.com"]
    assert mail.message["Subject"] == f"How did we do with claim {claim.number}?"
    link = _link(smtp_server.received)

    customer = app.test_client()
    page = customer.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Was your problem resolved?" in html and claim.number in html
    assert "Secret Customer" not in html and "buyer@example.com" not in html
    assert 'name="csrf_token"' not in html and "Log out" not in html
    assert "Set-Cookie" not in page.headers

    comment = '<script>alert("x")</script> & more'
    done = customer.post(link, data={"resolved": "yes", "score": "5", "comment": comment})
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    survey = _survey(session, claim)
    assert (survey.resolved, survey.score, survey.comment) == (True, 5, comment)

    # The claim page shows the answer, escaped.
    shown = staff.get(f"/claims/{claim.number}").get_data(as_text=True)
    panel = shown[shown.index('id="claim-survey"'):]
    assert 'data-mail-state="sent"' in shown
    assert "&lt;script&gt;alert(" in panel and "<script>alert(" not in panel
    assert re.search(r'id="survey-score">5<', panel)

    again = customer.post(link, data={"resolved": "no", "score": "1"})
    assert again.status_code == 409 and "already been answered" in again.get_data(as_text=True)
    assert customer.get(link).status_code == 409
    survey = _survey(session, claim)
    assert (survey.resolved, survey.score, survey.comment) == (True, 5, comment)


def test_an_altered_or_expired_link_is_a_plain_page_and_stores_nothing(session, app, login, users, make_batch,
                                                                       smtp_server):
    claim = _claim(session, make_batch, users)
    _close_on_page(login, claim)
    link = _link(smtp_server.received)
    customer = app.test_client()
    swapped = "A" if link[-1] != "A" else "B"
    for bad in (link[:-1] + swapped, link[:10] + ("x" if link[10] != "x" else "y") + link[11:], "/survey/abc.def"):
        for answer in (customer.get(bad), customer.post(bad, data={"resolved": "yes"})):
            assert answer.status_code == 404, bad
            assert "This survey link does not work" in answer.get_data(as_text=True)
    with at_moment(utcnow() + timedelta(days=31)):
        assert customer.get(link).status_code == 410
        assert customer.post(link, data={"resolved": "yes"}).status_code == 410
    assert _survey(session, claim).answered_at is None


def test_a_bad_answer_keeps_the_form_with_the_field_named(session, app, login, users, make_batch, smtp_server):
    claim = _claim(session, make_batch, users)
    _close_on_page(login, claim)
    link = _link(smtp_server.received)
    customer = app.test_client()
    for data, field in [({"score": "4", "comment": "kept <b>"}, "resolved"),
                        ({"resolved": "yes", "score": "9"}, "score"),
                        ({"resolved": "no", "comment": "x" * 2001}, "comment")]:
        answer = customer.post(link, data=data)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422, field
        assert 'id="form-error"' in html
    assert "kept &lt;b&gt;" in customer.post(link, data={"comment": "kept <b>"}).get_data(as_text=True)
    assert _survey(session, claim).answered_at is None


def test_closing_over_the_api_mails_it_and_the_claim_json_shows_it(session, api, users, make_batch, smtp_server):
    claim = _claim(session, make_batch, users)
    moved = api("coordinator").post(f"/api/v1/claims/{claim.id}/transitions", json={"to": "closed"})
    assert moved.status_code == 200, moved.get_json()
    assert len(smtp_server.received) == 1
    read = api("coordinator").get(f"/api/v1/claims/{claim.id}").get_json()
    assert read["survey"] == {"sent": True, "mail_state": "sent", "answered_at": None, "resolved": None,
                              "score": None}
    summary = api("quality").get("/api/v1/surveys/summary")
    assert summary.status_code == 200
    assert summary.get_json() == {"sent": 1, "answered": 0, "resolved_share": None, "average_score": None}
    assert api("supervisor").get(f"/api/v1/surveys/summary?since={date.today() + timedelta(days=1)}"
                                 ).get_json()["sent"] == 0
    assert api("warehouse").get("/api/v1/surveys/summary").status_code == 403
    assert api("quality").get("/api/v1/surveys/summary?since=yesterday").status_code == 422


@pytest.mark.parametrize("mail_port", [free_port()])
def test_a_mail_server_that_is_down_does_not_fail_the_closing(session, login, users, make_batch, smtp_server):
    claim = _claim(session, make_batch, users)
    staff = _close_on_page(login, claim)
    session.expire_all()
    assert session.get(Claim, claim.id).state == "closed"
    survey = _survey(session, claim)
    assert (survey.mail_state, survey.mail_attempts) == ("pending", 1)
    shown = staff.get(f"/claims/{claim.number}").get_data(as_text=True)
    assert 'data-mail-state="pending"' in shown and "the mail failed" in shown


def test_a_customer_without_an_address_is_shown_on_the_claim(session, login, users, make_batch, smtp_server):
    claim = _claim(session, make_batch, users, email="")
    staff = _close_on_page(login, claim)
    assert smtp_server.received == []
    shown = staff.get(f"/claims/{claim.number}").get_data(as_text=True)
    assert "the customer has no email address" in shown


@pytest.mark.parametrize("where", ["page", "api"])
def test_closing_mails_only_the_survey_of_the_claim_closed(session, login, api, users, make_batch, smtp_server, where):
    from serialtrace.warranty import surveys

    waiting = _claim(session, make_batch, users)  # closed earlier while mail was down: its survey waits
    waiting.state = "closed"
    surveys.open_survey(session, waiting)
    session.commit()
    claim = _claim(session, make_batch, users)
    if where == "page":
        _close_on_page(login, claim)
    else:
        assert api("coordinator").post(f"/api/v1/claims/{claim.id}/transitions",
                                       json={"to": "closed"}).status_code == 200
    # The request waited on its own mail only; the escalation pass mails the other.
    assert [m.message["Subject"] for m in smtp_server.received] == [f"How did we do with claim {claim.number}?"]
    other = _survey(session, waiting)
    assert (other.mail_state, other.mail_attempts) == ("pending", 0)
