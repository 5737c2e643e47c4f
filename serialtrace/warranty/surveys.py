"""Customer surveys: one per closed claim and cycle, mailed as a signed link that needs no login, answerable once.

The link carries a random secret and an HMAC of it under the app's secret key, so an altered link is refused
before the database is asked; the table keeps only the secret's SHA-256. The secret is made when the mail goes
out (a failed send leaves no usable link behind), and the expiry counts from then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..columns import utcnow
from ..config import Settings, instance_secret_key, is_mail_address
from ..db import transaction
from ..errors import Conflict, DomainError, NotFound, ValidationError
from ..i18n import _l
from ..mail import MailError, build_message, mail_configured, send, until_down
from ..trace.models import Customer, Product, Unit
from .models import Claim, Survey

COMMENT_MAX = 2000
SCORES = range(1, 6)
# A pass that crashed between taking a survey and marking it leaves it "sending"; after this another pass takes it.
LEASE = timedelta(minutes=15)
# Surveys mailed per pass: a backlog (mail was off for a week) goes out over a few passes, not in one long one.
BATCH = 200
PENDING, SENDING, SENT, NONE = "pending", "sending", "sent", "none"
_PURPOSE = b"serialtrace-survey:"
log = logging.getLogger(__name__)


class Gone(DomainError):
    """The survey link has expired."""

    status_code = 410
    code = "gone"


# ------------------------------------------------------------------------------------------------- the signed link


def signing_key(settings: Settings) -> bytes:
    """The key survey links are signed with: the app's secret key (SERIALTRACE_SECRET_KEY or the instance file)."""
    return (settings.secret_key or instance_secret_key(settings.instance_dir)).encode()


def token_hash(secret: str) -> str:
    """What the table keeps of a link's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _signature(key: bytes, secret: str) -> str:
    digest = hmac.new(key, _PURPOSE + secret.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(key: bytes, secret: str) -> str:
    """The token of a survey link: the secret and its signature."""
    return f"{secret}.{_signature(key, secret)}"


def verified_secret(key: bytes, token: str) -> str | None:
    """The secret of `token` when its signature is ours, else None (an altered or made-up link)."""
    secret, dot, signature = token.partition(".")
    if not dot or not secret or len(token) > 200 or not token.isascii():
        return None
    return secret if hmac.compare_digest(signature, _signature(key, secret)) else None


def survey_url(settings: Settings, token: str) -> str:
    """The absolute address of a survey link (SERIALTRACE_PUBLIC_URL)."""
    return f"{settings.public_url.rstrip('/')}/survey/{token}"


# ------------------------------------------------------------------------------------------------- opening


def open_survey(session: Session, claim: Claim, *, now: datetime | None = None) -> Survey:
    """The survey of `claim`'s current cycle, made when new: pending when the customer has an email address, else
    "none" (the claim page says so). Called when a claim is closed; flushes, the caller commits."""
    found = session.scalar(select(Survey).where(Survey.claim_id == claim.id, Survey.cycle == claim.cycle))
    if found is not None:
        return found
    now = now or utcnow()
    customer = session.get(Customer, claim.customer_id) if claim.customer_id is not None else None
    email = (customer.email if customer else "").strip()
    has_address = is_mail_address(email)
    # The placeholder's secret is never sent: the link is made when the mail goes out, the expiry set then.
    survey = Survey(claim_id=claim.id, cycle=claim.cycle, email=email if has_address else "",
                    token_hash=token_hash(secrets.token_urlsafe(24)), created_at=now,
                    expires_at=now + timedelta(days=30), mail_state=PENDING if has_address else NONE)
    session.add(survey)
    session.flush()
    return survey


# ------------------------------------------------------------------------------------------------- mailing


def send_pending(sessions: sessionmaker, settings: Settings, *, now: datetime | None = None,
                 claim_id: int | None = None) -> int:
    """Mail the pending surveys (only `claim_id`'s when given), one transaction before and one after each send;
    returns how many were sent.

    A survey is marked sent only after the server took the mail; a MailError leaves it pending with the error and
    one more attempt, and after mail.GIVE_UP of them in a row the rest waits for the next pass (the server is down).
    Surveys older than SERIALTRACE_SURVEY_DAYS are not sent (mail was off too long to ask). Mail off: nothing
    happens.
    """
    if not mail_configured(settings):
        return 0
    now = now or utcnow()
    key = signing_key(settings)
    query = select(Survey.id).where(_takeable(now), Survey.created_at >= now - timedelta(days=settings.survey_days))
    if claim_id is not None:
        query = query.where(Survey.claim_id == claim_id)
    with transaction(sessions) as session:
        due = list(session.scalars(query.order_by(Survey.id).limit(BATCH)))
    states = until_down(due, lambda survey_id: _send_one(sessions, settings, key, survey_id, now),
                        lambda state: state == PENDING)
    return states.count(SENT)


def _takeable(now: datetime):
    """Pending, or taken by a pass that has not finished within the lease (it crashed)."""
    return and_(Survey.answered_at.is_(None),
                or_(Survey.mail_state == PENDING,
                    and_(Survey.mail_state == SENDING, Survey.mailed_at < now - LEASE)))


def _send_one(sessions: sessionmaker, settings: Settings, key: bytes, survey_id: int, now: datetime) -> str | None:
    """Take one survey (another pass then leaves it alone), mail its new link, then mark the outcome; its mail state
    after, or None when another pass took it first."""
    secret = secrets.token_urlsafe(24)
    with transaction(sessions) as session:
        # While sending, mailed_at holds when the pass took it (the lease); after the send, when it went out.
        taken = session.execute(
            update(Survey).where(Survey.id == survey_id, _takeable(now))
            .values(mail_state=SENDING, mailed_at=now, token_hash=token_hash(secret),
                    expires_at=now + timedelta(days=settings.survey_days))
            .execution_options(synchronize_session=False)).rowcount
        if not taken:
            return None
        email, number = session.execute(select(Survey.email, Claim.number).join(Claim, Claim.id == Survey.claim_id)
                                        .where(Survey.id == survey_id)).one()
    outcome: dict[str, Any]
    try:
        message = build_message(settings, to=email, subject=str(_l("How did we do with claim %(number)s?",
                                                                   number=number)),
                                text=mail_text(settings, number, make_token(key, secret)), with_html=True)
        send(settings, message)
        outcome = {"mail_state": SENT, "mailed_at": now, "mail_error": ""}
    except MailError as exc:
        outcome = {"mail_state": PENDING, "mailed_at": None, "mail_error": str(exc)[:1000]}
    except ValueError as exc:  # an address the mail module refuses: retrying cannot help
        outcome = {"mail_state": NONE, "mailed_at": None, "mail_error": str(exc)[:1000]}
    with transaction(sessions) as session:
        session.execute(update(Survey).where(Survey.id == survey_id, Survey.mail_state == SENDING)
                        .values(mail_attempts=Survey.mail_attempts + 1, **outcome)
                        .execution_options(synchronize_session=False))
    return str(outcome["mail_state"])


def mail_text(settings: Settings, number: str, token: str) -> str:
    """The survey mail's body: the one question and the link."""
    return str(_l("Your claim %(number)s has been closed.\n\n"
                  "Was your problem resolved? One question, no login needed:\n%(url)s\n\n"
                  "The link works once and for %(days)s days.",
                  number=number, url=survey_url(settings, token), days=settings.survey_days))


# ------------------------------------------------------------------------------------------------- answering


def survey_for_token(session: Session, key: bytes, token: str, *, now: datetime | None = None) -> Survey:
    """The open survey of `token`: NotFound when altered or unknown, Gone when expired, Conflict when answered."""
    secret = verified_secret(key, token)
    survey = None if secret is None else session.scalar(select(Survey).where(Survey.token_hash == token_hash(secret)))
    if survey is None:
        raise NotFound(_l("this survey link is not valid: it may have been altered or replaced by a newer one"))
    if survey.answered_at is not None:
        raise Conflict(_l("this survey has already been answered; thank you"))
    if survey.expires_at <= (now or utcnow()):
        raise Gone(_l("this survey link has expired"))
    return survey


def survey_subject(session: Session, survey: Survey) -> dict[str, str]:
    """What the survey page names: the claim number and the product, no other customer data."""
    number, product = session.execute(
        select(Claim.number, Product.name).join(Unit, Unit.id == Claim.unit_id)
        .join(Product, Product.id == Unit.product_id).where(Claim.id == survey.claim_id)).one()
    return {"number": number, "product": product}


def answer(session: Session, key: bytes, token: str, *, resolved: bool | None, score: int | None = None,
           comment: str = "", now: datetime | None = None) -> Survey:
    """Store the customer's answer once; an altered, expired or answered link is refused and nothing stored.

    Two answers at once store one: the UPDATE only touches a survey still unanswered. Flushes; the caller commits.
    """
    now = now or utcnow()
    survey = survey_for_token(session, key, token, now=now)
    if resolved is None:
        raise ValidationError(_l("say whether your problem was resolved (yes or no)"), details={"field": "resolved"})
    if score is not None and score not in SCORES:
        raise ValidationError(_l("the score is 1 to 5, not %(score)s", score=score), details={"field": "score"})
    comment = comment.strip()
    if len(comment) > COMMENT_MAX or "\x00" in comment:
        raise ValidationError(_l("the comment has at most %(max)s characters", max=COMMENT_MAX),
                              details={"field": "comment"})
    stored = session.execute(
        update(Survey).where(Survey.id == survey.id, Survey.answered_at.is_(None), Survey.expires_at > now)
        .values(answered_at=now, resolved=resolved, score=score, comment=comment)
        .execution_options(synchronize_session=False)).rowcount
    if not stored:
        raise Conflict(_l("this survey has already been answered; thank you"))
    session.refresh(survey)
    return survey


# ------------------------------------------------------------------------------------------------- reading


def claim_survey(session: Session, claim_id: int) -> Survey | None:
    """The claim's latest survey (its last closing), or None."""
    return session.scalar(select(Survey).where(Survey.claim_id == claim_id).order_by(Survey.cycle.desc()).limit(1))


def survey_read(survey: Survey | None) -> dict[str, Any] | None:
    """A claim's survey in the claim JSON."""
    if survey is None:
        return None
    return {"sent": survey.mail_state == SENT, "mail_state": survey.mail_state,
            "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
            "resolved": survey.resolved, "score": survey.score}


def survey_results(session: Session, since: datetime | None = None) -> dict[str, Any]:
    """Counts for the quality pages: surveys sent and answered (made since `since`), the share answered "resolved"
    and the average score."""
    answered = Survey.answered_at.is_not(None)
    query = select(func.count().filter(Survey.mail_state == SENT), func.count().filter(answered),
                   func.count().filter(and_(answered, Survey.resolved.is_(True))),
                   func.avg(case((answered, Survey.score))))
    if since is not None:
        query = query.where(Survey.created_at >= since)
    sent, answers, resolved, average = session.execute(query).one()
    return {"sent": sent, "answered": answers,
            "resolved_share": round(resolved / answers, 3) if answers else None,
            "average_score": round(float(average), 2) if average is not None else None}


def send_quietly(sessions: sessionmaker, settings: Settings, claim_id: int) -> None:
    """Mail the survey of the claim just closed (web, CLI), and only that one: the request waits on at most its own
    send, the escalation pass mails the rest. A failure is logged, never the closing's; the next pass tries again."""
    try:
        send_pending(sessions, settings, claim_id=claim_id)
    except Exception:
        log.exception("mailing the surveys of closed claims failed; the next escalation pass tries again")
