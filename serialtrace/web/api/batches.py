"""Batches: register one with its serials, read one with where its units went, its recall list."""

from __future__ import annotations

from typing import Literal

from flask import jsonify, url_for
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from ...accounts.enums import Role
from ...config import business_today
from ...trace import genealogy
from ...trace import queries as trace_queries
from ...trace import service as trace_service
from ...trace.dossier import batch_dict, product_dict
from ...trace.models import Product
from ...trace.schemas import BatchCreate, BatchCreatedRead, BatchRead, RecallRead
from ..auth import current_user, requires
from ..database import commit, db
from ..downloads import log_customer_export, recall_csv_response
from . import bp, errors, runtime

TAG = Tag(name="batches", description="production batches: registration, genealogy, recall")
# Up to this many units the answer lists every serial; above it only the first and the last.
SERIALS_LISTED = 10_000


class BatchPath(BaseModel):
    """A batch in the URL."""

    number: str = Field(description="batch number")


class BatchQuery(BaseModel):
    """Narrowing a batch number that several products share."""

    product: str = Field(None, description="SKU or GTIN when several products share the batch number")


class RecallQuery(BatchQuery):
    """The recall list's product, cut and format."""

    format: str = Field(None, description="csv answers the rows as a CSV file; anything else JSON")
    exclude_returned: bool = Field(False, description="leave out units already back (returned, in test, scrapped...)")
    group: Literal["customer"] = Field(None, description="customer: one row per customer with its serials")
    delimiter: Literal["comma", "semicolon"] = Field(
        None, description="CSV field delimiter (comma by default; semicolon for Excel in Russian and other regions "
                          "whose decimal mark is a comma)")
    excel: bool = Field(False, description='CSV: codes made of digits (serials, tax ids) written as ="..." so Excel '
                                           'keeps their leading zeros')


class RecallAnswer(RecallRead):
    """The recall list; with ?format=csv the same rows as a CSV file."""

    model_config = {"openapi_extra": {"description": "customers, contacts, serials, ship dates (CSV with ?format=csv)",
                                      "content": {"text/csv": {"schema": {"type": "string"}}}}}


@bp.get("/batches/<path:number>", tags=[TAG], responses={200: BatchRead, **errors(401, 404, 409, 422)})
@requires()
def get_batch(path: BatchPath, query: BatchQuery):
    """A batch with its product, inputs and where its units went."""
    batch = trace_queries.get_batch(db(), path.number, sku=query.product)
    product = db().get(Product, batch.product_id)
    back, fwd = genealogy.backward(db(), batch), genealogy.forward(db(), batch)
    return jsonify({**batch_dict(batch), "product": product_dict(product), "inputs": back["inputs"],
                    "units_by_status": fwd["units_by_status"], "customers": fwd["customers"],
                    "recall_url": url_for("api.get_recall", number=batch.number)})


@bp.get("/batches/<path:number>/recall", tags=[TAG], responses={200: RecallAnswer, **errors(401, 403, 404, 409, 422)})
@requires(Role.QUALITY, Role.SUPERVISOR, Role.COORDINATOR)
def get_recall(path: BatchPath, query: RecallQuery):
    """Recall list of a batch: customers, contacts, serials, ship dates (JSON, or CSV with ?format=csv)."""
    options = genealogy.recall_options(exclude_returned=query.exclude_returned, group=query.group,
                                       delimiter=query.delimiter, excel=query.excel)
    batch = trace_queries.get_batch(db(), path.number, sku=query.product)
    if query.format == "csv":
        return recall_csv_response(db(), batch, options)
    log_customer_export(f"recall-{batch.number}", fmt="json", batch=batch.number, group=options.group or "")
    items = list(genealogy.recall_list(db(), batch_ids=[batch.id], options=options))
    customers = sorted({r["customer"] for r in items})
    units = sum(r["units"] if options.group else r["quantity"] for r in items)
    return jsonify({"batch": batch.number, "units": units, "customers": customers, "rows": items})


@bp.post("/batches", tags=[TAG], responses={201: BatchCreatedRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.PRODUCTION)
def post_batch(body: BatchCreate):
    """Register a batch and allocate its serials."""
    rt = runtime()
    inputs = [trace_service.LotInput(supplier=lot.supplier or "", part=lot.part or "", lot_number=lot.lot or "",
                                     quantity=lot.quantity) for lot in body.inputs or ()]
    today = business_today(rt.settings)
    batch, serials = trace_service.register_batch(
        db(), product=body.product, quantity=body.quantity, number=body.number, produced_on=body.produced_on or today,
        line=body.line or "", shift=body.shift or "", inputs=inputs, scheme=rt.serial_scheme(), author=current_user(),
        today=today)
    commit()
    answer = {"batch": batch.number, "quantity": batch.quantity, "first_serial": serials[0] if serials else None,
              "last_serial": serials[-1] if serials else None}
    if len(serials) <= SERIALS_LISTED:
        answer["serials"] = serials
    return jsonify(answer), 201, {"Location": url_for("api.get_batch", number=batch.number)}
