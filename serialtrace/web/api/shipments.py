"""POST /shipments: a shipment by serials and/or batch lines."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import Tag
from sqlalchemy import select

from ...accounts.enums import Role
from ...config import business_today
from ...trace import service as trace_service
from ...trace.models import ShipmentItem
from ...trace.schemas import ShipmentCreate, ShipmentCreatedRead
from ..auth import current_user, requires
from ..database import commit, db
from . import bp, errors, runtime

TAG = Tag(name="shipments", description="units and batch lines shipped to customers")


@bp.post("/shipments", tags=[TAG], responses={201: ShipmentCreatedRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.WAREHOUSE, Role.PRODUCTION)
def post_shipment(body: ShipmentCreate):
    """Record a shipment by serials and/or batch lines."""
    cust = body.customer
    customer = trace_service.get_or_create_customer(
        db(), name=cust.name or "", tax_id=cust.tax_id, contact_name=cust.contact_name or "", email=cust.email or "",
        phone=cust.phone or "")
    lines = [trace_service.BatchLine(batch=line.batch, quantity=line.quantity, sku=line.product)
             for line in body.batches or ()]
    today = business_today(runtime().settings)
    shipment = trace_service.create_shipment(
        db(), customer=customer, shipped_on=body.shipped_on or today, serials=body.serials or [], batch_lines=lines,
        reference=body.reference or "", carrier=body.carrier or "", destination=body.destination or "",
        attributes=body.attributes, author=current_user(), today=today)
    commit()
    items = db().scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == shipment.id)).all()
    return jsonify({"id": shipment.id, "customer": customer.name, "shipped_on": shipment.shipped_on.isoformat(),
                    "reference": shipment.reference, "items": len(items),
                    "quantity": sum(item.quantity for item in items)}), 201
