"""Customer surveys: GET /surveys/summary for the quality pages."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import jsonify
from flask_openapi3 import Tag

from ...accounts.enums import Role
from ...warranty import surveys
from ...warranty.survey_schemas import SurveySummaryQuery, SurveySummaryRead
from ..auth import requires
from ..database import db
from . import bp, errors, runtime

TAG = Tag(name="surveys", description="what customers answered when their claims closed")


@bp.get("/surveys/summary", tags=[TAG], responses={200: SurveySummaryRead, **errors(401, 403, 409, 422)})
@requires(Role.QUALITY, Role.SUPERVISOR)
def get_survey_summary(query: SurveySummaryQuery):
    """Surveys sent and answered, the share resolved and the average score (optionally since a day)."""
    since = None
    if query.since is not None:
        since = datetime.combine(query.since, time(), tzinfo=ZoneInfo(runtime().settings.timezone))
    return jsonify(surveys.survey_results(db(), since=since))
