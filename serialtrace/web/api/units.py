"""GET /units/<serial>: the unit dossier."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from ...config import business_today
from ...trace import queries as trace_queries
from ...trace.dossier import may_see_contacts, without_contacts
from ...warranty.dossier import unit_dossier
from ...warranty.schemas import UnitDossierRead
from ..auth import current_user, requires
from ..database import db
from . import bp, errors, runtime

TAG = Tag(name="units", description="serialised units and their dossier")


class UnitPath(BaseModel):
    """A unit in the URL."""

    serial: str = Field(description="serial or external code")


class UnitQuery(BaseModel):
    """Narrowing a serial that several products share."""

    gtin: str = Field(None, description="the product's GTIN")


@bp.get("/units/<path:serial>", tags=[TAG], responses={200: UnitDossierRead, **errors(401, 404, 409, 422)})
@requires()
def get_unit(path: UnitPath, query: UnitQuery):
    """The unit dossier: unit, product, batch with its inputs, shipments, warranty, events, claims, tests."""
    unit = trace_queries.get_unit(db(), path.serial, gtin=query.gtin, scheme=runtime().serial_scheme())
    settings = runtime().settings
    dossier = unit_dossier(db(), unit, today=business_today(settings), grace_days=settings.warranty_grace_days)
    # The same rule as the dossier page: contact details only for the roles that call customers.
    return jsonify(dossier if may_see_contacts(current_user()) else without_contacts(dossier))
