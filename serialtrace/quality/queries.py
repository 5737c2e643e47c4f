"""The dashboard's numbers: shipped units and claimed units per batch and per component lot, tested for outliers.

Units shipped are the units named by a shipment line (a unit shipped twice counts once). A claim counts when it is
past draft and not cancelled: a draft is not yet a complaint, and a cancelled claim was withdrawn or registered in
error, so neither says anything about the product. A unit counts once however many claims it has, and only when it
was shipped, so a batch never has more claimed units than units shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..i18n import _l
from ..trace import analytics
from ..trace.models import Batch, BatchInput, ComponentLot, Product, ShipmentItem, Unit
from ..warranty.enums import ClaimState
from ..warranty.models import Claim

# Claims that do not count against the product (see the module's docstring).
NOT_COUNTED = (ClaimState.DRAFT.value, ClaimState.CANCELLED.value)

ROW_COLUMNS = ("units", "claims", "rate", "ci_low", "ci_high", "p_value", "p_adjusted", "eligible", "flagged")
BATCH_COLUMNS = ("batch_id", "batch", "sku", *ROW_COLUMNS)
LOT_COLUMNS = ("lot_id", "supplier", "part", "lot_number", *ROW_COLUMNS)


def _shipped(unit_id: Any) -> Any:
    """True when the unit was on a shipment line: a semi-join, so a unit shipped twice still counts once."""
    return select(ShipmentItem.id).where(ShipmentItem.unit_id == unit_id).exists()


def batch_rows(session: Session) -> list[tuple[int, int, int]]:
    """(batch id, units shipped, claimed units) for every batch with a shipped unit, by batch id."""
    # Two grouped queries: the claims one starts from the few claims rather than joining them to every unit.
    units = dict(session.execute(select(Unit.batch_id, func.count()).where(_shipped(Unit.id))
                                 .group_by(Unit.batch_id)).all())
    claims = dict(session.execute(
        select(Unit.batch_id, func.count(func.distinct(Claim.unit_id)))
        .join(Unit, Unit.id == Claim.unit_id)
        .where(Claim.state.not_in(NOT_COUNTED), _shipped(Unit.id))
        .group_by(Unit.batch_id)).all())
    return [(int(b), int(units[b]), int(claims.get(b, 0))) for b in sorted(units)]


def lot_rows(session: Session, batches: list[tuple[int, int, int]] | None = None) -> list[tuple[int, int, int]]:
    """(component lot id, units shipped, claimed units) summed over the batches each lot went into, by lot id.

    `batches` are batch_rows already read (the page shows both tables from one pass over the units).
    """
    per_batch = {b: (u, c) for b, u, c in (batch_rows(session) if batches is None else batches)}
    sums: dict[int, list[int]] = {}
    # A unit is in one batch and a lot enters a batch once (uq_batch_input), so the sums count no unit twice.
    for batch_id, lot_id in session.execute(select(BatchInput.batch_id, BatchInput.component_lot_id)):
        if batch_id in per_batch:
            total = sums.setdefault(lot_id, [0, 0])
            total[0] += per_batch[batch_id][0]
            total[1] += per_batch[batch_id][1]
    return [(int(k), units, claims) for k, (units, claims) in sorted(sums.items())]


@dataclass(frozen=True)
class QualityReport:
    """Rows (dicts with labels and numbers) flagged first then by adjusted p, with the settings they were tested at."""

    rows: tuple[dict[str, Any], ...]
    q: float
    min_units: int
    min_claims: int
    pooled_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        """The report as the API returns it."""
        return {"q": self.q, "min_units": self.min_units, "min_claims": self.min_claims,
                "pooled_rate": self.pooled_rate, "rows": list(self.rows)}


def _rates(rows: list[tuple[int, int, int]], q: float, min_units: int,
           min_claims: int) -> tuple[list[analytics.BatchRate], float | None]:
    """The analytics of `rows`; one group alone has nothing to be compared with, so it is shown untested."""
    if len(rows) >= 2:
        report = analytics.batch_rates(rows, q=q, min_units=min_units, min_claims=min_claims)
        return list(report.rows), report.pooled_rate
    if not 0 < q < 1:
        raise ValueError(_l("q must lie between 0 and 1, not %(q)r", q=q))
    out = []
    for key, units, claims in rows:
        low, high = analytics.rate_interval(claims, units)
        out.append(analytics.BatchRate(batch=key, units=units, claims=claims, rate=claims / units, ci_low=low,
                                       ci_high=high, lcl=0.0, ucl=1.0, p_value=1.0, p_adjusted=1.0,
                                       eligible=units >= min_units and claims >= min_claims, flagged=False))
    return out, (rows[0][2] / rows[0][1] if rows else None)


def _numbers(rate: analytics.BatchRate) -> dict[str, Any]:
    return {"units": rate.units, "claims": rate.claims, "rate": rate.rate, "ci_low": rate.ci_low,
            "ci_high": rate.ci_high, "p_value": rate.p_value, "p_adjusted": rate.p_adjusted,
            "eligible": rate.eligible, "flagged": rate.flagged}


def _order(rows: list[dict[str, Any]], label: str) -> tuple[dict[str, Any], ...]:
    """Flagged first, then by adjusted p, p, and the label so equal numbers keep one order."""
    return tuple(sorted(rows, key=lambda r: (not r["flagged"], r["p_adjusted"], r["p_value"], str(r[label]))))


def batch_report(session: Session, *, q: float = 0.05, min_units: int = 30, min_claims: int = 3,
                 batches: list[tuple[int, int, int]] | None = None) -> QualityReport:
    """Claim rate per batch with interval and Fisher/BH test, labelled with batch number and product SKU."""
    rows = batch_rows(session) if batches is None else batches
    rates, pooled = _rates(rows, q, min_units, min_claims)
    labels = {bid: (number, sku) for bid, number, sku in session.execute(
        select(Batch.id, Batch.number, Product.sku).join(Product, Product.id == Batch.product_id)
        .where(Batch.id.in_([key for key, _, _ in rows])))} if rows else {}
    out = [{"batch_id": r.batch, "batch": labels[r.batch][0], "sku": labels[r.batch][1], **_numbers(r)}
           for r in rates]
    return QualityReport(rows=_order(out, "batch"), q=q, min_units=min_units, min_claims=min_claims,
                         pooled_rate=pooled)


def lot_report(session: Session, *, q: float = 0.05, min_units: int = 30, min_claims: int = 3,
               batches: list[tuple[int, int, int]] | None = None) -> QualityReport:
    """Claim rate per component lot (units of every batch it went into), labelled supplier, part and lot number."""
    rows = lot_rows(session, batches)
    rates, pooled = _rates(rows, q, min_units, min_claims)
    labels = {lid: (supplier, part, number) for lid, supplier, part, number in session.execute(
        select(ComponentLot.id, ComponentLot.supplier, ComponentLot.part, ComponentLot.lot_number)
        .where(ComponentLot.id.in_([key for key, _, _ in rows])))} if rows else {}
    out = [{"lot_id": r.batch, "supplier": labels[r.batch][0], "part": labels[r.batch][1],
            "lot_number": labels[r.batch][2], **_numbers(r)} for r in rates]
    return QualityReport(rows=_order(out, "lot_number"), q=q, min_units=min_units, min_claims=min_claims,
                         pooled_rate=pooled)
