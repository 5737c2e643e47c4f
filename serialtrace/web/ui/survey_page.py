"""The customer's survey page: GET and POST /survey/<token>, with no login.

No CSRF token either: the form posts back to its own signed link, and a page that cannot read the link cannot
answer; whoever holds the link may answer anyway, so a token would protect nothing and would need a session cookie
for someone who is not a user.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ...errors import DomainError, ValidationError
from ...warranty import surveys
from ...warranty.models import Survey
from .. import csrf
from ..database import commit, db
from ..i18n import _, tr
from .common import runtime, settings

bp = Blueprint("survey", __name__)
csrf.exempt(bp)


def _key() -> bytes:
    return surveys.signing_key(settings())


def _refused(exc: DomainError):
    """A plain page saying why the link does not work: 404 altered or unknown, 410 expired, 409 answered."""
    return render_template("survey.html", state="refused", message=tr(exc.message)), exc.status_code


@bp.get("/survey/<token>")
def survey(token: str):
    """The one question for the claim the link names: resolved yes or no, an optional score and comment."""
    try:
        found = surveys.survey_for_token(db(), _key(), token)
    except DomainError as exc:
        return _refused(exc)
    return _form(token, found)


def _form(token: str, found, *, status: int = 200, error: DomainError | None = None, **typed):
    subject = surveys.survey_subject(db(), found)
    return render_template("survey.html", state="open", token=token, subject=subject,
                           error=tr(error.message) if error else None,
                           error_field=(error.details or {}).get("field") if error else None,
                           comment_max=surveys.COMMENT_MAX, typed=typed), status


@bp.post("/survey/<token>")
def survey_answer(token: str):
    """Store the answer once, then thank the customer; a refused link stores nothing."""
    form = request.form
    typed = {"resolved": form.get("resolved", ""), "score": form.get("score", ""), "comment": form.get("comment", "")}
    try:
        found = surveys.survey_for_token(db(), _key(), token)
    except DomainError as exc:
        return _refused(exc)
    try:
        surveys.answer(db(), _key(), token, resolved=_resolved(typed["resolved"]), score=_score(typed["score"]),
                       comment=typed["comment"])
        commit()
    except ValidationError as exc:
        db().rollback()
        return _form(token, found, status=422, error=exc, **typed)
    except DomainError as exc:
        db().rollback()
        return _refused(exc)
    return render_template("survey.html", state="thanks")


def _resolved(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _score(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 2:
        raise ValidationError(_("the score is 1 to 5, not %(score)s", score=value), details={"field": "score"})
    return int(value)


def claim_survey(claim_id: int) -> Survey | None:
    """The claim page's survey panel: the survey of the claim's last closing."""
    return surveys.claim_survey(db(), claim_id)


def mail_survey(claim_id: int) -> None:
    """Mail the survey of a claim just closed (best effort: the closing is committed whatever happens)."""
    surveys.send_quietly(runtime().sessions, settings(), claim_id)
