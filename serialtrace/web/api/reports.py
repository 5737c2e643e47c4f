"""Control reports: GET /reports/registrations, the daily registration report for supervisors and quality."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import Tag

from ...accounts.enums import Role
from ...warranty import reports
from ...warranty.report_schemas import RegistrationReportQuery, RegistrationReportRead
from ..auth import requires
from ..database import db
from . import bp, errors, runtime

TAG = Tag(name="reports", description="control reports")


@bp.get("/reports/registrations", tags=[TAG], responses={200: RegistrationReportRead, **errors(401, 403, 409, 422)})
@requires(Role.SUPERVISOR, Role.QUALITY)
def get_registration_report(query: RegistrationReportQuery):
    """Complaints registered on a day per person and channel (in the business calendar's time zone), the ones their
    customer's account manager registered after confirming, and claims still in draft or registered too long."""
    settings = runtime().settings
    return jsonify(reports.daily_registration_report(db(), query.day, fallback_timezone=settings.timezone,
                                                     stale_hours=settings.stale_registration_hours))
