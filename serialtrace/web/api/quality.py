"""Quality numbers: GET /quality/batches and /quality/component-lots, claim rates with the outlier test (or CSV)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify
from flask_openapi3 import Tag
from sqlalchemy.orm import Session

from ...accounts.enums import Role
from ...quality import queries
from ...quality.schemas import BatchReportRead, LotReportRead, RateQuery
from ...trace.csvexport import csv_chunks
from ..auth import requires
from ..database import db
from ..downloads import attachment
from . import bp, errors

TAG = Tag(name="quality", description="claim rates per batch and component lot, outliers flagged")
QUALITY_READERS = (Role.QUALITY, Role.SUPERVISOR)


def _answer(report: Callable[..., queries.QualityReport], query: RateQuery, columns: tuple[str, ...],
            name: str) -> Response:
    session: Session = db()
    done = report(session, q=query.q, min_units=query.min_units, min_claims=query.min_claims)
    if query.format == "csv":
        return attachment(csv_chunks(done.rows, columns, bom=True), "text/csv", f"{name}.csv")
    return jsonify(done.as_dict())


@bp.get("/quality/batches", tags=[TAG], responses={200: BatchReportRead, **errors(401, 403, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_batches(query: RateQuery):
    """Claim rate per batch against units shipped, Wilson interval, Fisher test against the rest, Benjamini-Hochberg
    adjusted; flagged rows first. `format=csv` answers the rows as CSV."""
    return _answer(queries.batch_report, query, queries.BATCH_COLUMNS, "quality-batches")


@bp.get("/quality/component-lots", tags=[TAG], responses={200: LotReportRead, **errors(401, 403, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_component_lots(query: RateQuery):
    """Claim rate per component lot over the shipped units of every batch it went into, tested like the batches;
    flagged rows first. `format=csv` answers the rows as CSV."""
    return _answer(queries.lot_report, query, queries.LOT_COLUMNS, "quality-component-lots")
