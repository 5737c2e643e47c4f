"""The full unit dossier: the trace part plus claims, tests, replacement links, and the warranty a replacement
carries (continued from the unit it replaced, or restarted at its shipment, as the returned unit's product says)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..i18n import _l
from ..trace import queries as trace_queries
from ..trace.dossier import trace_dossier
from ..trace.enums import ReplacementWarranty
from ..trace.models import Product, Shipment, Unit
from ..trace.policy import MAX_INT, WarrantyStatus, warranty_status
from . import queries
from .models import Replacement

# The latest link, up to a bound, in which the unit was handed out in place of another: following links only
# backwards in time ends every walk, even when two units replaced each other in turn over the years.
_HANDED_OUT_FOR = (
    select(Replacement.id, Replacement.returned_unit_id, Replacement.created_at, Unit.serial,
           Product.replacement_warranty, Shipment.shipped_on)
    .join(Unit, Unit.id == Replacement.returned_unit_id).join(Product, Product.id == Unit.product_id)
    .outerjoin(Shipment, Shipment.id == Replacement.shipment_id)
    .where(Replacement.replacement_unit_id == bindparam("unit_id"), Replacement.id <= bindparam("upto"))
    .order_by(Replacement.id.desc()).limit(1)
)


def unit_warranty(session: Session, unit: Unit, own: dict[str, Any], *, today: date, grace_days: int = 0,
                  upto: int = MAX_INT) -> dict[str, Any]:
    """The unit's warranty in the dossier's shape: `own` (from its shipments) unless it was handed out as a
    replacement; then the returned unit's product says whether the returned unit's warranty continues (same end,
    followed along a chain of replacements) or a new one restarts at the replacement's shipment."""
    link = session.connection().execute(_HANDED_OUT_FOR, {"unit_id": unit.id, "upto": upto}).first()
    if link is None:
        return own
    replaced_on = link.shipped_on or link.created_at.date()
    params = {"serial": link.serial, "replaced": replaced_on}
    if link.replacement_warranty == ReplacementWarranty.RESTART:
        months = session.scalar(select(Product.warranty_months).where(Product.id == unit.product_id))
        fresh = warranty_status(months=months, start_rule="shipment", shipped_on=replaced_on, sold_on=None,
                                today=today, grace_days=grace_days)
        if fresh.until is None:
            return fresh.as_dict()
        params |= {"until": fresh.until, "months": months}
        reason = (_l("in warranty until %(until)s (restarted when it replaced %(serial)s on %(replaced)s, "
                     "%(months)s months)", **params) if fresh.status == "in_warranty" else
                  _l("warranty expired on %(until)s (restarted when it replaced %(serial)s on %(replaced)s, "
                     "%(months)s months)", **params))
        return WarrantyStatus(fresh.status, fresh.until, fresh.start, reason).as_dict()
    returned = session.get(Unit, link.returned_unit_id)
    base = unit_warranty(session, returned, trace_dossier(session, returned, today=today,
                                                         grace_days=grace_days)["warranty"],
                         today=today, grace_days=grace_days, upto=link.id - 1)
    if base["until"] is None:
        # The returned unit's warranty cannot be computed (never shipped, a placeholder date): say why, for it.
        return {**base, "reason": _l("%(reason)s (the warranty of %(serial)s, which it replaced on %(replaced)s)",
                                     reason=base["reason"], **params)}
    until = date.fromisoformat(base["until"])
    inside = today <= until + timedelta(days=grace_days)
    params["until"] = until
    reason = (_l("in warranty until %(until)s (continues the warranty of %(serial)s, replaced on %(replaced)s)",
                 **params) if inside else
              _l("warranty expired on %(until)s (continued the warranty of %(serial)s, replaced on %(replaced)s)",
                 **params))
    start = date.fromisoformat(base["start"]) if base["start"] else None
    return WarrantyStatus("in_warranty" if inside else "expired", until, start, reason).as_dict()


def unit_dossier(session: Session, unit: Unit, *, today: date | None = None, grace_days: int = 0) -> dict[str, Any]:
    """Everything known about one unit, in the JSON shape of GET /api/v1/units/<serial>."""
    today = today or date.today()
    dossier = trace_dossier(session, unit, today=today, grace_days=grace_days)
    dossier["warranty"] = unit_warranty(session, unit, dossier["warranty"], today=today, grace_days=grace_days)
    dossier["claims"] = queries.unit_claims(session, unit.id)
    dossier["tests"] = queries.unit_tests(session, unit.id)
    dossier["replacements"] = queries.unit_replacements(session, unit.id)
    return dossier


def lookup_dossier(session: Session, code: str, *, today: date | None = None, grace_days: int = 0) -> dict[str, Any]:
    """Dossier for a serial (or external code); NotFound or Conflict (ambiguous) otherwise."""
    return unit_dossier(session, trace_queries.get_unit(session, code), today=today, grace_days=grace_days)
