"""Root causes and customers: GET /quality/compare (claim rate by attribute) and /quality/customers (ABC x XYZ)."""

from __future__ import annotations

from datetime import date

from flask import jsonify
from sqlalchemy.orm import Session

from ...config import business_today
from ...quality import compare, customers
from ...quality.compare_schemas import CompareQuery, CompareRead, CustomersQuery, CustomersRead
from ..auth import requires
from ..database import db
from . import bp, errors, runtime
from .quality import QUALITY_READERS, TAG


def _iso(body: dict) -> dict:
    """Dates as YYYY-MM-DD (Flask would write them as HTTP dates)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in body.items()}


@bp.get("/quality/compare", tags=[TAG], responses={200: CompareRead, **errors(401, 403, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_compare(query: CompareQuery):
    """Claim rate per value of an attribute (line, shift, carrier, season, shipment:<key>), each value against all
    others: risk ratio with 95 % interval, two-sided Fisher exact p, Benjamini-Hochberg; 422 for an unknown
    attribute, a single value, or no shipped units."""
    session: Session = db()
    done = compare.compare(session, attribute=query.attribute, q=query.q, filters=compare.CompareFilters(
        sku=query.sku or None, shipped_from=query.shipped_from, shipped_to=query.shipped_to))
    return jsonify(_iso({**done.as_dict(), "attributes": compare.available_attributes(session)}))


@bp.get("/quality/customers", tags=[TAG], responses={200: CustomersRead, **errors(401, 403, 409, 422)})
@requires(*QUALITY_READERS)
def get_quality_customers(query: CustomersQuery):
    """Customers in the ABC x XYZ matrix over the last full months: ABC by claim cost or count, XYZ by the
    coefficient of variation of monthly claims; customers that cannot be classed come with the reason."""
    found = customers.customer_matrix(db(), today=business_today(runtime().settings),
                                      settings=customers.CustomerSettings(**query.model_dump()))
    body = _iso(found.as_dict())
    for row in body["rows"]:
        row["cost"] = str(row["cost"])
        row["reason"] = str(row["reason"]) if row["reason"] is not None else None
    return jsonify(body)
