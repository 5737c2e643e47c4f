"""Root-cause comparisons: claim rate by an attribute of a unit's batch or first shipment, each value against the rest.

Attributes: the batch's production line and shift, the shipment's carrier, the season it shipped in (by month:
winter December-February, spring March-May, summer June-August, autumn September-November) and any key of the
shipment's free JSON attributes (`shipment:weather`, the wet-cement story: cement left wet because it was loaded in
the rain). Units and claimed units are counted as the batch rates count them (quality.queries): shipped units only,
a claim past draft and not cancelled, each unit once. A unit on several shipments belongs to its first one (by date,
then by shipment id): a replacement or a repaired unit going back out does not move it to a later shipment's values.
Units whose shipment has no value for the attribute are left out of the comparison and counted apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..i18n import _l
from ..trace import analytics
from ..trace.models import Batch, Product, Shipment
from ..warranty.models import Claim
from .queries import NOT_COUNTED, first_shipments

# Attributes of the batch or the shipment itself; JSON keys of the shipment's attributes are `shipment:<key>`.
BUILT_IN = ("line", "shift", "carrier", "season")
JSON_PREFIX = "shipment:"
SEASONS = ("winter", "spring", "summer", "autumn")
SEASON_OF_MONTH = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring", 6: "summer",
                   7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}
MAX_KEY = 100
COLUMNS = ("attribute", "value", "units", "claims", "rate", "ci_low", "ci_high", "risk_ratio", "rr_ci_low",
           "rr_ci_high", "p_value", "p_adjusted", "flagged")


@dataclass(frozen=True)
class CompareFilters:
    """Which units take part: one product (SKU) and a range of first-shipment dates, each optional."""

    sku: str | None = None
    shipped_from: date | None = None
    shipped_to: date | None = None


@dataclass(frozen=True)
class Comparison:
    """Rows per attribute value (dicts in COLUMNS), with the totals and the units that had no value."""

    attribute: str
    q: float
    units: int
    claims: int
    units_without_value: int
    rows: tuple[dict[str, Any], ...]
    filters: CompareFilters = field(default_factory=CompareFilters)

    def as_dict(self) -> dict[str, Any]:
        """The comparison as the API returns it."""
        return {"attribute": self.attribute, "q": self.q, "units": self.units, "claims": self.claims,
                "units_without_value": self.units_without_value,
                "rate": self.claims / self.units if self.units else None,
                "sku": self.filters.sku, "shipped_from": self.filters.shipped_from,
                "shipped_to": self.filters.shipped_to, "rows": list(self.rows)}


def attribute_keys(session: Session) -> list[str]:
    """The keys of the shipments' free JSON attributes that occur in the data, sorted."""
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(select(func.jsonb_object_keys(Shipment.attributes).label("key")).distinct())
    else:
        each = func.json_each(Shipment.attributes).table_valued("key")
        found = session.execute(select(each.c.key).select_from(Shipment).join(each, literal_column("1") == 1)
                                .distinct())
    return sorted(str(k) for (k,) in found if k is not None and str(k).strip())


def available_attributes(session: Session) -> list[str]:
    """Every attribute that can be compared: the built-in ones, then `shipment:<key>` for each JSON key found."""
    return [*BUILT_IN, *(JSON_PREFIX + key for key in attribute_keys(session))]


def resolve_attribute(session: Session, name: str) -> str:
    """The canonical name of `name` (a bare JSON key gains its prefix), or a 422 naming the choices."""
    name = (name or "").strip()
    if name in BUILT_IN:
        return name
    key = name.removeprefix(JSON_PREFIX)
    if key and len(key) <= MAX_KEY and key in attribute_keys(session):
        return JSON_PREFIX + key
    raise ValidationError(_l("unknown attribute %(value)r: choose one of %(choices)s", value=name,
                             choices=", ".join(available_attributes(session))), details={"field": "attribute"})


def _value_expr(attribute: str) -> Any:
    """The SQL expression a shipment's value of `attribute` is read with (season: the month, folded afterwards)."""
    if attribute == "carrier":
        return Shipment.carrier
    if attribute == "season":
        return func.extract("month", Shipment.shipped_on)
    # ->> on PostgreSQL, json_extract on SQLite: the key's value as text, NULL when the shipment lacks it.
    return Shipment.attributes[attribute.removeprefix(JSON_PREFIX)].as_string()


def _claimed_units() -> Any:
    """Ids of units with a claim that counts (past draft, not cancelled)."""
    return select(Claim.unit_id).where(Claim.state.not_in(NOT_COUNTED))


def _counted(session: Session, *, only_claimed: bool) -> tuple[np.ndarray, np.ndarray]:
    """(batch, first shipment) of every shipped unit, or of every shipped unit with a counted claim.

    The units' first shipments are kept between views (quality.queries.first_shipments); the claims are read every
    time, their states change without a mark."""
    first = first_shipments(session)
    if not only_claimed:
        return first.batch, first.shipment
    at = first.positions(sorted(set(session.scalars(_claimed_units()))))
    at = at[at >= 0]
    return first.batch[at], first.shipment[at]


def _grouped(session: Session, attribute: str, filters: CompareFilters, product_id: int | None,
             *, only_claimed: bool) -> dict[Any, int]:
    """Units (or claimed units) per raw value of `attribute`, each unit once at its first shipment."""
    batch, shipment = _counted(session, only_claimed=only_claimed)
    shipments = select(Shipment.id, _value_expr(attribute) if attribute not in ("line", "shift") else Shipment.id)
    if filters.shipped_from is not None:
        shipments = shipments.where(Shipment.shipped_on >= filters.shipped_from)
    if filters.shipped_to is not None:
        shipments = shipments.where(Shipment.shipped_on <= filters.shipped_to)
    by_shipment = dict(session.execute(shipments).all())
    batches = {bid: (line, shift, product) for bid, line, shift, product in session.execute(
        select(Batch.id, Batch.line, Batch.shift, Batch.product_id))}
    if not len(batch) or not by_shipment or not batches:
        return {}
    # Each raw value gets a code; units are counted per code by numpy (a million units in a few milliseconds).
    values: dict[Any, int] = {}
    keep = np.zeros(max(max(by_shipment), int(shipment.max())) + 1, dtype=bool)
    keep[list(by_shipment)] = True
    mask = keep[shipment]
    if attribute in ("line", "shift"):
        code = np.full(max(batches) + 1, -1, dtype=np.int64)
        for bid, (line, shift, _) in batches.items():
            code[bid] = values.setdefault(line if attribute == "line" else shift, len(values))
        codes = code[batch]
    else:
        code = np.full(len(keep), -1, dtype=np.int64)
        for sid, value in by_shipment.items():
            code[sid] = values.setdefault(value, len(values))
        codes = code[shipment]
    if product_id is not None:
        of_product = np.zeros(max(batches) + 1, dtype=bool)
        of_product[[bid for bid, (_, _, product) in batches.items() if product == product_id]] = True
        mask &= of_product[batch]
    counts = np.bincount(codes[mask], minlength=len(values))
    return {value: int(counts[c]) for value, c in values.items() if counts[c] > 0}


def _label(attribute: str, raw: Any) -> str | None:
    """The value as shown and compared; None (left out) when the unit's shipment has none."""
    if raw is None:
        return None
    if attribute == "season":
        return SEASON_OF_MONTH[int(raw)]
    text = str(raw).strip()
    return text or None


def _fold(attribute: str, grouped: dict[Any, int]) -> tuple[dict[str, int], int]:
    """Counts per shown value and the count without a value."""
    out: dict[str, int] = {}
    missing = 0
    for raw, count in grouped.items():
        label = _label(attribute, raw)
        if label is None:
            missing += int(count)
        else:
            out[label] = out.get(label, 0) + int(count)
    return out, missing


def _finite(value: float) -> float | None:
    """`value`, or None when it is infinite (JSON has no infinity)."""
    return None if math.isinf(value) else value


def compare(session: Session, *, attribute: str, filters: CompareFilters | None = None,
            q: float = 0.05) -> Comparison:
    """Claim rate per value of `attribute`, each value against all the others: risk ratio with 95 % interval,
    two-sided Fisher exact p, Benjamini-Hochberg across the values; flagged when the adjusted p is at most `q`.

    Raises ValidationError for an unknown attribute or SKU, a bad date range or q, no shipped units, or a single
    value (nothing to compare it with).
    """
    filters = filters or CompareFilters()
    if not 0 < q < 1:
        raise ValidationError(_l("q must lie between 0 and 1, not %(q)r", q=q), details={"field": "q"})
    if filters.shipped_from and filters.shipped_to and filters.shipped_from > filters.shipped_to:
        raise ValidationError(_l("the date range ends (%(end)s) before it starts (%(start)s)",
                                 start=filters.shipped_from, end=filters.shipped_to), details={"field": "shipped_to"})
    attribute = resolve_attribute(session, attribute)
    product_id = None
    if filters.sku:
        product_id = session.scalar(select(Product.id).where(Product.sku == filters.sku))
        if product_id is None:
            raise ValidationError(_l("no product with SKU %(sku)r", sku=filters.sku), details={"field": "sku"})
    units, missing = _fold(attribute, _grouped(session, attribute, filters, product_id, only_claimed=False))
    claims, _ = _fold(attribute, _grouped(session, attribute, filters, product_id, only_claimed=True))
    if not units:
        raise ValidationError(_l("no shipped unit with a value of %(attribute)s matches the filters",
                                 attribute=attribute), details={"field": "attribute"})
    if len(units) < 2:
        raise ValidationError(_l("%(attribute)s has a single value (%(value)s) among the units chosen: there is "
                                 "nothing to compare it with", attribute=attribute, value=next(iter(units))),
                              details={"field": "attribute"})
    order = sorted(units, key=lambda v: (SEASONS.index(v), v) if attribute == "season" else (0, v))
    total_units, total_claims = sum(units.values()), sum(claims.get(v, 0) for v in units)
    tests: list[analytics.RiskRatio | None] = []
    for value in order:
        a, n = claims.get(value, 0), units[value]
        # No claims anywhere: no risk to compare, every value alike.
        tests.append(analytics.risk_ratio(a, n, total_claims - a, total_units - n) if total_claims else None)
    adjusted = analytics.benjamini_hochberg([t.p_value if t else 1.0 for t in tests])
    rows = []
    for value, test, p_adj in zip(order, tests, adjusted, strict=True):
        a, n = claims.get(value, 0), units[value]
        low, high = analytics.rate_interval(a, n)
        rows.append({"attribute": attribute, "value": value, "units": n, "claims": a, "rate": a / n,
                     "ci_low": low, "ci_high": high,
                     "risk_ratio": _finite(test.ratio) if test else None,
                     "rr_ci_low": test.ci_low if test else None, "rr_ci_high": test.ci_high if test else None,
                     "p_value": test.p_value if test else 1.0, "p_adjusted": p_adj,
                     "flagged": bool(test) and p_adj <= q})
    return Comparison(attribute=attribute, q=q, units=total_units, claims=total_claims, units_without_value=missing,
                      rows=tuple(rows), filters=filters)
