"""Claim-rate drill-downs: GET /quality/batches/<id> and /quality/component-lots/<id>, the numbers of the pages."""

from __future__ import annotations

from flask import jsonify

from ...quality import drilldown
from ...quality.drilldown_schemas import BatchDrilldownRead, BatchPath, LotDrilldownRead, LotPath
from ..auth import requires
from ..database import db
from ..i18n import tr_all
from . import bp, errors
from .quality import QUALITY_READERS, TAG


@bp.get("/quality/batches/<int:batch_id>", tags=[TAG],
        responses={200: BatchDrilldownRead, **errors(401, 403, 404, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_batch(path: BatchPath):
    """A batch's counted claims with their current failure mode, the failure-mode Pareto by claimed units and by
    cost (catch-all modes, then claims tested without a mode, then claims not yet tested, last; ties by code), its
    customers, and each of its component lots with the other batches it went into."""
    return jsonify(tr_all(drilldown.batch_drilldown(db(), path.batch_id).as_dict()))


@bp.get("/quality/component-lots/<int:lot_id>", tags=[TAG],
        responses={200: LotDrilldownRead, **errors(401, 403, 404, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_component_lot(path: LotPath):
    """A component lot over every batch it went into: claims, failure-mode Paretos and customers as for a batch,
    and the batches one by one (units, claims, rate, status, held by this lot)."""
    return jsonify(tr_all(drilldown.lot_drilldown(db(), path.lot_id).as_dict()))
