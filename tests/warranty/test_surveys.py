"""Customer surveys on both databases: closing a claim makes one and mails its signed link to a real SMTP server;
the link is answered once, refused when altered, expired or used, and a mail that failed goes out on a later pass."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from serialtrace.columns import at_moment
from serialtrace.config import ConfigError, Settings
from serialtrace.errors import Conflict, NotFound, ValidationError
from serialtrace.trace import service as trace_service
from serialtrace.warranty import queries, service, surveys
from serialtrace.warranty.models import Survey

from .tested_case import people
from tests.fakesmtp import free_port

TODAY = date(2025, 6, 2)
MON = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
SENDER = "service@example.com"
KEY = b"test-secret"


@pytest.fixture
def who(session):
    return people(session)


def settings_for(host: str = "", port: int = 25, **more) -> Settings:
    """Settings of a mail server at host:port (none: mail off) and the tests' secret key."""
    mail = {"smtp_host": host, "smtp_port": port, "mail_from": SENDER} if host else {}
    return Settings.load({"secret_key": "test-secret", "public_url": "https://trace.example.com/", **mail, **more},
                         environ={})


def close_claim(session, make_batch, who, *, email: str = "buyer@example.com", name: str = "Vodokanal"):
    """A claim of a customer with `email`, resolved and then closed by the coordinator on Monday 10:00."""
    batch, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name=name, tax_id=None, email=email)
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=TODAY)
    with at_moment(MON - timedelta(days=3)):
        claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=who["warehouse"],
                                       today=TODAY).claim
    claim.state = "resolved"  # the way there is tested elsewhere; here only the closing step matters
    session.flush()
    with at_moment(MON):
        return service.transition_claim(session, claim_id=claim.id, to="closed", author=who["coordinator"])


def the_survey(session, claim) -> Survey:
    session.expire_all()
    return session.scalars(select(Survey).where(Survey.claim_id == claim.id)).one()


def mailed_token(received) -> str:
    """The token of the survey link in the last received mail's text."""
    text = received[-1].message.get_body(("plain",)).get_content()
    return re.search(r"https://trace\.example\.com/survey/(\S+)", text).group(1)


def test_closing_a_claim_mails_a_survey_whose_link_answers_once(session, sessions, make_batch, who, smtp_server):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    survey = the_survey(session, claim)
    assert (survey.mail_state, survey.email, survey.cycle) == ("pending", "buyer@example.com", 1)
    session.commit()
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON) == 1
    [mail] = received
    assert mail.rcpt_tos == ["buyer@example.com"]
    assert mail.message["Subject"] == f"How did we do with claim {claim.number}?"
    token = mailed_token(received)
    survey = the_survey(session, claim)
    assert (survey.mail_state, survey.mail_attempts, survey.mailed_at) == ("sent", 1, MON)
    assert survey.expires_at == MON + timedelta(days=30)
    # Only the secret's hash is kept, never the token of the link.
    assert survey.token_hash == surveys.token_hash(token.partition(".")[0]) and token not in survey.token_hash
    # Sent once: another pass has nothing to do.
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON + timedelta(minutes=1)) == 0
    assert len(received) == 1

    page = surveys.survey_subject(session, surveys.survey_for_token(session, KEY, token, now=MON))
    assert page["number"] == claim.number
    answered = surveys.answer(session, KEY, token, resolved=True, score=4, comment="  quick and polite ",
                              now=MON + timedelta(days=1))
    assert (answered.resolved, answered.score, answered.comment) == (True, 4, "quick and polite")
    assert queries.claim_read(session, claim, role="coordinator")["survey"] == {
        "sent": True, "mail_state": "sent", "answered_at": (MON + timedelta(days=1)).isoformat(), "resolved": True,
        "score": 4}

    with pytest.raises(Conflict):
        surveys.answer(session, KEY, token, resolved=False, score=1, now=MON + timedelta(days=2))
    survey = the_survey(session, claim)
    assert (survey.resolved, survey.score, survey.answered_at) == (True, 4, MON + timedelta(days=1))


def test_an_altered_expired_or_made_up_link_is_refused_and_nothing_stored(session, sessions, make_batch, who,
                                                                          smtp_server):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    session.commit()
    surveys.send_pending(sessions, settings_for(host, port), now=MON)
    token = mailed_token(received)
    altered = [token[:5] + ("A" if token[5] != "A" else "B") + token[6:],
               token[:-1] + ("A" if token[-1] != "A" else "B"), token.partition(".")[0], "nothing.at-all", ""]
    for bad in altered:
        with pytest.raises(NotFound):
            surveys.answer(session, KEY, bad, resolved=True, now=MON)
    # Signed with another key: the same secret does not open it.
    with pytest.raises(NotFound):
        surveys.answer(session, b"another-key", token, resolved=True, now=MON)
    with pytest.raises(surveys.Gone) as gone:
        surveys.answer(session, KEY, token, resolved=True, now=MON + timedelta(days=30))
    assert gone.value.status_code == 410
    with at_moment(MON + timedelta(days=31)), pytest.raises(surveys.Gone):
        surveys.answer(session, KEY, token, resolved=True)
    assert the_survey(session, claim).answered_at is None


def test_bad_answers_name_the_field_and_store_nothing(session, sessions, make_batch, who, smtp_server):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    session.commit()
    surveys.send_pending(sessions, settings_for(host, port), now=MON)
    token = mailed_token(received)
    for kwargs, field in [({"resolved": None}, "resolved"), ({"resolved": True, "score": 6}, "score"),
                          ({"resolved": True, "score": 0}, "score"),
                          ({"resolved": False, "comment": "x" * 2001}, "comment")]:
        with pytest.raises(ValidationError) as refused:
            surveys.answer(session, KEY, token, now=MON, **kwargs)
        assert refused.value.details == {"field": field}
    assert the_survey(session, claim).answered_at is None
    assert surveys.answer(session, KEY, token, resolved=False, comment="x" * 2000, now=MON).score is None


def test_a_mail_server_that_is_down_leaves_the_survey_pending_for_a_later_pass(session, sessions, make_batch, who,
                                                                              smtp_server):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    session.commit()
    assert surveys.send_pending(sessions, settings_for("127.0.0.1", free_port(), smtp_timeout=2), now=MON) == 0
    survey = the_survey(session, claim)
    assert (survey.mail_state, survey.mail_attempts, survey.mailed_at) == ("pending", 1, None)
    assert "127.0.0.1" in survey.mail_error
    assert queries.claim_read(session, claim, role="coordinator")["survey"]["sent"] is False
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON + timedelta(hours=1)) == 1
    survey = the_survey(session, claim)
    assert (survey.mail_state, survey.mail_attempts, survey.mail_error) == ("sent", 2, "")
    token = mailed_token(received)
    assert surveys.answer(session, KEY, token, resolved=True, now=MON + timedelta(hours=2)).resolved is True


def test_a_customer_without_an_address_gets_no_mail_and_the_claim_says_so(session, sessions, make_batch, who,
                                                                         smtp_server):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who, email="")
    session.commit()
    assert the_survey(session, claim).mail_state == "none"
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON) == 0
    assert received == []
    assert queries.claim_read(session, claim, role="coordinator")["survey"]["mail_state"] == "none"


def test_mail_off_sends_nothing_and_an_old_survey_is_not_sent(session, sessions, make_batch, who, smtp_server):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    session.commit()
    assert surveys.send_pending(sessions, settings_for(), now=MON) == 0
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON + timedelta(days=31)) == 0
    assert received == [] and the_survey(session, claim).mail_state == "pending"


def test_a_pass_that_crashed_while_sending_is_taken_over_after_the_lease(session, sessions, make_batch, who,
                                                                        smtp_server):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    survey = the_survey(session, claim)
    survey.mail_state, survey.mailed_at = "sending", MON
    session.commit()
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON + timedelta(minutes=5)) == 0
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON + timedelta(minutes=20)) == 1
    assert the_survey(session, claim).mail_state == "sent" and len(received) == 1


def test_results_count_sent_answered_resolved_and_the_average_score(session, sessions, make_batch, who,
                                                                    smtp_server):
    host, port, received = smtp_server
    assert surveys.survey_results(session) == {"sent": 0, "answered": 0, "resolved_share": None,
                                               "average_score": None}
    for n in range(3):
        close_claim(session, make_batch, who, name=f"Customer {n}", email=f"c{n}@example.com")
    close_claim(session, make_batch, who, name="No address", email="")
    session.commit()
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON) == 3
    tokens = [re.search(r"/survey/(\S+)", r.message.get_body(("plain",)).get_content()).group(1) for r in received]
    surveys.answer(session, KEY, tokens[0], resolved=True, score=5, now=MON)
    surveys.answer(session, KEY, tokens[1], resolved=False, score=2, now=MON)
    assert surveys.survey_results(session) == {"sent": 3, "answered": 2, "resolved_share": 0.5,
                                               "average_score": 3.5}
    assert surveys.survey_results(session, since=MON + timedelta(days=1))["sent"] == 0


def test_reopening_and_closing_again_asks_again(session, sessions, make_batch, who):
    claim = close_claim(session, make_batch, who)
    with at_moment(MON + timedelta(hours=1)):
        service.transition_claim(session, claim_id=claim.id, to="triage", author=who["supervisor"])
    claim.state = "resolved"
    session.flush()
    with at_moment(MON + timedelta(hours=2)):
        service.transition_claim(session, claim_id=claim.id, to="closed", author=who["coordinator"])
    rows = session.scalars(select(Survey.cycle).where(Survey.claim_id == claim.id).order_by(Survey.cycle)).all()
    assert rows == [1, 2]


@pytest.mark.parametrize("days", ["0", "366", "x"])
def test_the_survey_days_setting_is_checked(days):
    with pytest.raises(ConfigError, match="SERIALTRACE_SURVEY_DAYS"):
        Settings.load(environ={"SERIALTRACE_SURVEY_DAYS": days})


def test_the_escalation_pass_mails_a_survey_a_failed_send_left_pending(session, sessions, make_batch, who,
                                                                       smtp_server):
    from serialtrace.warranty import escalation

    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    session.commit()
    surveys.send_pending(sessions, settings_for("127.0.0.1", free_port(), smtp_timeout=2), now=MON)
    assert the_survey(session, claim).mail_state == "pending"
    summary = escalation.run_pass(sessions, settings_for(host, port), MON + timedelta(minutes=5))
    assert summary.surveys_mailed == 1 and len(received) == 1
    assert the_survey(session, claim).mail_state == "sent"


def test_two_answers_at_once_store_one(session, sessions, make_batch, who, smtp_server, monkeypatch):
    host, port, received = smtp_server
    claim = close_claim(session, make_batch, who)
    session.commit()
    surveys.send_pending(sessions, settings_for(host, port), now=MON)
    token = mailed_token(received)
    checked = surveys.survey_for_token

    def other_answer_lands_after_the_check(session, key, token, *, now=None):
        found = checked(session, key, token, now=now)
        session.execute(update(Survey).where(Survey.id == found.id).values(answered_at=now, resolved=True, score=5))
        return found

    monkeypatch.setattr(surveys, "survey_for_token", other_answer_lands_after_the_check)
    with pytest.raises(Conflict):
        surveys.answer(session, KEY, token, resolved=False, score=1, now=MON)
    survey = the_survey(session, claim)
    assert (survey.resolved, survey.score) == (True, 5)


def test_a_server_that_is_down_stops_the_survey_mail_after_a_few_failures(session, sessions, make_batch, who):
    from serialtrace import mail

    closed = [close_claim(session, make_batch, who, name=f"Customer {n}") for n in range(mail.GIVE_UP + 2)]
    session.commit()
    assert surveys.send_pending(sessions, settings_for("127.0.0.1", free_port(), smtp_timeout=2), now=MON) == 0
    # Each further try would have waited out the timeout: the rest waits for the next pass, untried.
    attempts = [the_survey(session, claim).mail_attempts for claim in closed]
    assert attempts == [1] * mail.GIVE_UP + [0, 0]
    assert {the_survey(session, claim).mail_state for claim in closed} == {"pending"}


def test_the_survey_of_one_claim_is_mailed_alone(session, sessions, make_batch, who, smtp_server):
    host, port, received = smtp_server
    first = close_claim(session, make_batch, who, name="First")
    second = close_claim(session, make_batch, who, name="Second")
    session.commit()
    assert surveys.send_pending(sessions, settings_for(host, port), now=MON, claim_id=second.id) == 1
    assert [r.message["Subject"] for r in received] == [f"How did we do with claim {second.number}?"]
    assert (the_survey(session, first).mail_state, the_survey(session, second).mail_state) == ("pending", "sent")
