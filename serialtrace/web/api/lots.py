"""Component lots: hold one (and every released batch it went into), release it (and the batches its hold held)."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from ...trace import lots
from ...trace.models import Batch, ComponentLot
from ..auth import current_user, requires
from ..database import commit, db
from . import bp, errors

TAG = Tag(name="component lots", description="holds on suppliers' lots and the batches they went into")


class LotPath(BaseModel):
    """A component lot in the URL."""

    lot: str = Field(description="the supplier's lot number")


class LotQuery(BaseModel):
    """Narrowing a lot number that several suppliers or parts share."""

    supplier: str = Field(None, description="supplier, when several suppliers' lots share the number")
    part: str = Field(None, description="part, when several parts' lots share the number")


class LotChange(BaseModel):
    """Why the lot is held or released (kept in the history of each batch it changes)."""

    reason: str = Field(description="why; required, at most 500 characters")


class LotHoldRead(BaseModel):
    """The lot after the change and the batches it changed."""

    lot: str
    supplier: str
    part: str
    status: str = Field(description="released or on_hold")
    hold_reason: str
    held_at: datetime | None
    held_by: str
    batches: list[str] = Field(description="numbers of the batches this change held or released")


def _answer(lot: ComponentLot, batches: list[Batch]):
    return jsonify({"lot": lot.lot_number, "supplier": lot.supplier, "part": lot.part, "status": lot.status,
                    "hold_reason": lot.hold_reason, "held_at": lot.held_at.isoformat() if lot.held_at else None,
                    "held_by": lot.held_by, "batches": [b.number for b in batches]})


@bp.post("/component-lots/<path:lot>/hold", tags=[TAG],
         responses={200: LotHoldRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*lots.LOT_HOLDERS)
def post_lot_hold(path: LotPath, query: LotQuery, body: LotChange):
    """Put the lot on hold and every released batch it went into: their units scan amber, get no labels and are
    neither shipped nor handed out as replacements; 409 when the lot is already on hold or its number is shared."""
    lot = lots.find_lot(db(), path.lot, supplier=query.supplier, part=query.part)
    held = lots.hold_lot(db(), lot, reason=body.reason, author=current_user())
    commit()
    return _answer(lot, held)


@bp.post("/component-lots/<path:lot>/release", tags=[TAG],
         responses={200: LotHoldRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*lots.LOT_HOLDERS)
def post_lot_release(path: LotPath, query: LotQuery, body: LotChange):
    """Release the lot and the batches its hold held; a batch held for its own reason or for another held lot
    stays held. 409 when the lot is not on hold."""
    lot = lots.find_lot(db(), path.lot, supplier=query.supplier, part=query.part)
    released = lots.release_lot(db(), lot, reason=body.reason, author=current_user())
    commit()
    return _answer(lot, released)
