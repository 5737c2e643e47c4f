"""SLA compliance: GET /quality/sla, the figures of the SLA page (first response, resolution, by stage, priority,
team and week) as JSON."""

from __future__ import annotations

from flask import jsonify

from ...columns import utcnow
from ...quality import sla_report
from ...quality.sla_schemas import SlaQuery, SlaReportRead
from ..auth import requires
from ..database import db
from . import bp, errors, runtime
from .quality import QUALITY_READERS, TAG


@bp.get("/quality/sla", tags=[TAG], responses={200: SlaReportRead, **errors(401, 403, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_sla(query: SlaQuery):
    """Time to first response and to resolution in business time, share breached, median and p90 (by `method`) of
    the claims registered from `from` to `to` (default the last 90 days), overall and by stage, priority, team and
    week. Claims still open count with their business time so far. An empty period answers zero rows."""
    now = utcnow()
    timezone = runtime().settings.timezone
    chosen = sla_report.make_filters(
        db(), today=sla_report.local_today(db(), now, timezone), date_from=query.date_from, date_to=query.date_to,
        team=query.team, family=query.family, sku=query.sku, priority=query.priority, channel=query.channel,
        method=query.method)
    return jsonify(sla_report.sla_report(db(), chosen, now=now, timezone=timezone).as_dict())
