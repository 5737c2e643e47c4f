"""Recall campaigns: list and start them, read one per customer, move a customer on or note something, close."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_openapi3 import Tag
from pydantic import BaseModel

from ...quality import recall_queries, recalls
from ...quality.models import RecallCampaign
from ...quality.recall_schemas import (
    CampaignRead,
    RecallClose,
    RecallCreate,
    RecallCustomerPath,
    RecallCustomerUpdate,
    RecallDetail,
    RecallList,
    RecallNoteRead,
    RecallPath,
    RecallQuery,
)
from ..auth import current_user, requires
from ..database import commit, db
from ..downloads import log_customer_export
from . import bp, errors

TAG = Tag(name="recalls", description="recall campaigns: batches recalled, customers followed, units counted back")


def _json(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    return model.model_validate(data).model_dump(mode="json")


def _detail(campaign: RecallCampaign) -> dict[str, Any]:
    notes = recall_queries.notes(db(), campaign)
    customers = [{**r, "notes": notes.get(r["customer_id"], [])} for r in recall_queries.customer_rows(db(), campaign)]
    return _json(RecallDetail, {**recall_queries.campaign_dict(db(), campaign), "customers": customers})


@bp.get("/recalls", tags=[TAG], responses={200: RecallList, **errors(401, 403, 409, 422)})
@requires(*recalls.RECALL_READERS)
def get_recall_campaigns(query: RecallQuery):
    """Campaigns with their progress, open ones first, newest first."""
    items = recall_queries.list_campaigns(db(), state=query.state)
    return jsonify({"items": [_json(CampaignRead, c) for c in items]})


@bp.post("/recalls", tags=[TAG], responses={201: RecallDetail, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*recalls.RECALL_MANAGERS)
def post_recall_campaign(body: RecallCreate):
    """Start a campaign over a batch, a component lot (every batch it went into) or a filter: the units out with
    customers are recalled with their last shipment's customer, the batches become recalled. 422 when nothing is
    out with a customer, 409 naming the batch and campaign when a batch is in an open campaign, 404 for an unknown
    batch, lot or product."""
    common = {"title": body.title, "reason": body.reason, "author": current_user()}
    if body.kind == "batch":
        campaign = recalls.create_from_batch(db(), number=body.batch or "", sku=body.product, **common)
    elif body.kind == "lot":
        lot = recalls.find_component_lot(db(), lot_id=body.lot_id, lot_number=body.lot_number or "",
                                         supplier=body.supplier or "", part=body.part or "")
        campaign = recalls.create_from_lot(db(), lot=lot, **common)
    else:
        campaign = recalls.create_from_filter(db(), sku=body.sku or "", produced_from=body.produced_from,
                                              produced_to=body.produced_to, batch_numbers=body.batches, **common)
    answer = _detail(campaign)
    commit()
    return jsonify(answer), 201


@bp.get("/recalls/<number>", tags=[TAG], responses={200: RecallDetail, **errors(401, 403, 404, 409, 422)})
@requires(*recalls.RECALL_READERS)
def get_recall_campaign(path: RecallPath):
    """A campaign with its progress and, per customer, contacts, status, units affected and returned, notes."""
    campaign = recalls.get_campaign(db(), path.number)
    log_customer_export(campaign.number, fmt="json", campaign=campaign.number)
    return jsonify(_detail(campaign))


@bp.post("/recalls/<number>/customers/<int:customer_id>", tags=[TAG],
         responses={200: RecallNoteRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*recalls.RECALL_MANAGERS)
def post_recall_campaign_customer(path: RecallCustomerPath, body: RecallCustomerUpdate):
    """Move a customer one step on (to_contact, contacted, units_returned, closed), or one step back with a note,
    and/or note something; answers the note written. 409 for a jump or a closed campaign."""
    note = recalls.update_customer(db(), number=path.number, customer_id=path.customer_id, status=body.status,
                                   note=body.note, author=current_user())
    answer = _json(RecallNoteRead, {"id": note.id, "author": note.author, "text": note.text,
                                    "status_from": note.status_from or None, "status_to": note.status_to or None,
                                    "created_at": note.created_at})
    commit()
    return jsonify(answer)


@bp.post("/recalls/<number>/close", tags=[TAG], responses={200: RecallDetail, **errors(400, 401, 403, 404, 409, 413,
                                                                                       422)})
@requires(*recalls.RECALL_MANAGERS)
def post_recall_campaign_close(path: RecallPath, body: RecallClose):
    """Close an open campaign with the reason; 409 when it is closed already."""
    campaign = recalls.close_campaign(db(), number=path.number, reason=body.reason, author=current_user())
    answer = _detail(campaign)
    commit()
    return jsonify(answer)
