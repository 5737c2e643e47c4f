"""The dashboard's numbers: shipped units and claimed units per batch and per component lot, tested for outliers.

Units shipped are the units named by a shipment line (a unit shipped twice counts once). A claim counts when it is
past draft and not cancelled: a draft is not yet a complaint, and a cancelled claim was withdrawn or registered in
error, so neither says anything about the product. A unit counts once however many claims it has, and only when it
was shipped, so a batch never has more claimed units than units shipped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, func, select
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


# Units shipped per batch take a pass over every unit (0.2-0.3 s at a million on SQLite, more under load) and change
# only when a shipment line or a unit is added: no code deletes or edits either, and a unit never changes batch. So
# the counts are kept per database, with the batch of every claimed unit that was shipped (None: not shipped), and
# reused while its newest shipment line, the number of lines among the newest LATE_WINDOW ids (a line committed late
# with a lower id than one already seen, which PostgreSQL allows, changes it) and its newest unit stay the same, for
# at most SHIPPED_TTL seconds (a change made outside the application, or a line committed that late). Claims are read
# every time: their states change without a mark.
SHIPPED_TTL = 300.0
LATE_WINDOW = 10_000


@dataclass
class _Shipped:
    """What is kept for one database: the marker it was read at, when, the counts, the claimed units' batches."""

    marker: tuple[Any, ...]
    at: float
    per_batch: dict[int, int]
    batch_of: dict[int, int | None]


_shipped_cache: dict[str, _Shipped] = {}
_shipped_lock = threading.Lock()


def _shipped_marker(session: Session) -> tuple[Any, ...]:
    """What changes whenever a shipment line or a unit is added (index look-ups only)."""
    last = session.scalar(select(func.max(ShipmentItem.id)))
    recent = session.scalar(select(func.count()).select_from(ShipmentItem)
                            .where(ShipmentItem.id > (last or 0) - LATE_WINDOW))
    return last, recent, session.scalar(select(func.max(Unit.id)))


def _kept(session: Session) -> _Shipped:
    """The kept entry of the session's database, read again when its marker moved or it is too old; a fresh one
    (not kept) for a session on one connection, whose rows may be rolled back and their ids reused (tests)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return _Shipped((), 0.0, _count_shipped(session), {})
    key = bind.url.render_as_string(hide_password=True)
    marker = _shipped_marker(session)
    with _shipped_lock:
        kept = _shipped_cache.get(key)
    if kept is not None and kept.marker == marker and time.monotonic() - kept.at < SHIPPED_TTL:
        return kept
    kept = _Shipped(marker, time.monotonic(), _count_shipped(session), {})
    with _shipped_lock:
        _shipped_cache[key] = kept
    return kept


def shipped_per_batch(session: Session) -> dict[int, int]:
    """{batch id: units shipped} for every batch with a shipped unit (a unit shipped twice counts once)."""
    return _kept(session).per_batch


def _count_shipped(session: Session) -> dict[int, int]:
    # From the shipment lines' distinct units to their batches: no probe of the shipment lines for every unit.
    shipped = select(ShipmentItem.unit_id).where(ShipmentItem.unit_id.is_not(None)).distinct().subquery()
    return {int(b): int(n) for b, n in session.execute(
        select(Unit.batch_id, func.count()).join(shipped, shipped.c.unit_id == Unit.id).group_by(Unit.batch_id))}


def _batches_of(session: Session, unit_ids: list[int] | None) -> dict[int, int | None]:
    """{unit id: its batch when it was shipped, else None} for `unit_ids` (None: every unit with a counted claim).

    Each by index look-ups (scalar subqueries, the shipment line's with LIMIT 1): as a join or a semi-join,
    PostgreSQL hashes every unit or every shipment line instead (about 1 s at a million under load)."""
    claimed = select(Claim.unit_id).where(Claim.state.not_in(NOT_COUNTED))
    if unit_ids is not None:
        claimed = claimed.where(Claim.unit_id.in_(unit_ids))
    units = claimed.distinct().subquery()
    batch_of = select(Unit.batch_id).where(Unit.id == units.c.unit_id).correlate(units).scalar_subquery()
    line = (select(ShipmentItem.id).where(ShipmentItem.unit_id == units.c.unit_id).limit(1)
            .correlate(units).scalar_subquery())
    return {int(u): (int(b) if shipped else None) for u, b, shipped in session.execute(
        select(units.c.unit_id, batch_of, line.is_not(None)).select_from(units))}


def batch_rows(session: Session) -> list[tuple[int, int, int]]:
    """(batch id, units shipped, claimed units) for every batch with a shipped unit, by batch id."""
    kept = _kept(session)
    # The units with a counted claim are read every time (from the claims alone); only the new ones are looked up.
    claimed = [int(u) for u in session.scalars(select(Claim.unit_id).where(Claim.state.not_in(NOT_COUNTED))
                                               .distinct())]
    new = [u for u in claimed if u not in kept.batch_of]
    if new:
        found = (_batches_of(session, None) if len(new) > 500 else
                 {u: b for start in range(0, len(new), 500)
                  for u, b in _batches_of(session, new[start:start + 500]).items()})
        kept.batch_of.update(found)
    claims: dict[int, int] = {}
    for unit in claimed:
        batch = kept.batch_of.get(unit)
        if batch is not None:
            claims[batch] = claims.get(batch, 0) + 1
    return [(int(b), int(n), claims.get(b, 0)) for b, n in sorted(kept.per_batch.items())]


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
    if not 0 < q < 1:
        raise ValueError(_l("q must lie between 0 and 1, not %(q)r", q=q))
    rates, pooled = _tested(tuple(rows), q, min_units, min_claims)
    return list(rates), pooled


@lru_cache(maxsize=16)
def _tested(rows: tuple[tuple[int, int, int], ...], q: float, min_units: int,
            min_claims: int) -> tuple[tuple[analytics.BatchRate, ...], float | None]:
    """_rates' numbers, a function of its arguments alone: kept for the next view with the same counts (the tests
    and intervals of 2,000 batches take about 0.1 s)."""
    if len(rows) >= 2:
        report = analytics.batch_rates(rows, q=q, min_units=min_units, min_claims=min_claims)
        return report.rows, report.pooled_rate
    out = []
    for key, units, claims in rows:
        low, high = analytics.rate_interval(claims, units)
        out.append(analytics.BatchRate(batch=key, units=units, claims=claims, rate=claims / units, ci_low=low,
                                       ci_high=high, lcl=0.0, ucl=1.0, p_value=1.0, p_adjusted=1.0,
                                       eligible=units >= min_units and claims >= min_claims, flagged=False))
    return tuple(out), (rows[0][2] / rows[0][1] if rows else None)


def _numbers(rate: analytics.BatchRate) -> dict[str, Any]:
    return {"units": rate.units, "claims": rate.claims, "rate": rate.rate, "ci_low": rate.ci_low,
            "ci_high": rate.ci_high, "p_value": rate.p_value, "p_adjusted": rate.p_adjusted,
            "eligible": rate.eligible, "flagged": rate.flagged}


def _order(rows: list[dict[str, Any]], label: str) -> tuple[dict[str, Any], ...]:
    """Flagged first, then by adjusted p, p, and the label so equal numbers keep one order."""
    return tuple(sorted(rows, key=lambda r: (not r["flagged"], r["p_adjusted"], r["p_value"], str(r[label]))))


def _among(column: Any, rows: list[tuple[int, int, int]]) -> Any:
    """`column` is one of the rows' keys; for many rows the range of their keys (a list of thousands of bound
    parameters cost PostgreSQL 20-50 ms to plan), the labels of keys in it that are not rows being left unused."""
    keys = [key for key, _, _ in rows]
    return column.in_(keys) if len(keys) <= 200 else column.between(min(keys), max(keys))


def batch_report(session: Session, *, q: float = 0.05, min_units: int = 30, min_claims: int = 3,
                 batches: list[tuple[int, int, int]] | None = None) -> QualityReport:
    """Claim rate per batch with interval and Fisher/BH test, labelled with batch number and product SKU."""
    rows = batch_rows(session) if batches is None else batches
    rates, pooled = _rates(rows, q, min_units, min_claims)
    labels = {bid: (number, sku) for bid, number, sku in session.execute(
        select(Batch.id, Batch.number, Product.sku).join(Product, Product.id == Batch.product_id)
        .where(_among(Batch.id, rows)))} if rows else {}
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
        .where(_among(ComponentLot.id, rows)))} if rows else {}
    out = [{"lot_id": r.batch, "supplier": labels[r.batch][0], "part": labels[r.batch][1],
            "lot_number": labels[r.batch][2], **_numbers(r)} for r in rates]
    return QualityReport(rows=_order(out, "lot_number"), q=q, min_units=min_units, min_claims=min_claims,
                         pooled_rate=pooled)
