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

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ..i18n import _l
from ..trace import analytics
from ..trace.models import Batch, BatchInput, ComponentLot, Product, Shipment, ShipmentItem, Unit
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


# Units shipped per batch and every shipped unit's first shipment take a pass over every unit and shipment line
# (about 2.5 s at a million on SQLite, more under load) and change only when a shipment line or a unit is added: no
# code deletes or edits either, a unit never changes batch and a shipment's date is not edited. So they are
# kept per database, with the batch of every claimed unit that was shipped (None: not shipped), and
# reused while its newest shipment line, the number of lines among the newest LATE_WINDOW ids (a line committed late
# with a lower id than one already seen, which PostgreSQL allows, changes it) and its newest unit stay the same, for
# at most SHIPPED_TTL seconds (a change made outside the application, or a line committed that late). Claims are read
# every time: their states change without a mark.
SHIPPED_TTL = 300.0
LATE_WINDOW = 10_000


@dataclass
class _Shipped:
    """What is kept for one database: the marker it was read at, when, every shipped unit's first shipment, the
    counts per batch, the claimed units' batches."""

    marker: tuple[Any, ...]
    at: float
    first: FirstShipments
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
        first = _read_first_shipments(session)
        return _Shipped((), 0.0, first, first.per_batch(), {})
    key = bind.url.render_as_string(hide_password=True)
    marker = _shipped_marker(session)
    with _shipped_lock:
        kept = _shipped_cache.get(key)
    if kept is not None and kept.marker == marker and time.monotonic() - kept.at < SHIPPED_TTL:
        return kept
    first = _read_first_shipments(session)
    kept = _Shipped(marker, time.monotonic(), first, first.per_batch(), {})
    with _shipped_lock:
        _shipped_cache[key] = kept
    return kept


def shipped_per_batch(session: Session) -> dict[int, int]:
    """{batch id: units shipped} for every batch with a shipped unit (a unit shipped twice counts once)."""
    return _kept(session).per_batch


def first_shipments(session: Session) -> FirstShipments:
    """Every shipped unit with its batch, product and first shipment, kept like the counts per batch."""
    return _kept(session).first


@dataclass(frozen=True)
class FirstShipments:
    """Every shipped unit (sorted ids) with its batch, its product and its first shipment (by date, then id), as
    aligned numpy arrays: the root-cause, field and drill-down pages group them by batch, shipment or day in
    memory instead of walking a million units and their shipment lines in SQL every view."""

    unit: np.ndarray
    batch: np.ndarray
    product: np.ndarray
    shipment: np.ndarray

    def per_batch(self) -> dict[int, int]:
        """{batch id: units shipped}."""
        batches, counts = np.unique(self.batch, return_counts=True)
        return {int(b): int(n) for b, n in zip(batches, counts, strict=True)}

    def positions(self, unit_ids: Any) -> np.ndarray:
        """The index of each of `unit_ids` in the arrays, -1 for a unit never shipped."""
        ids = np.asarray(unit_ids, dtype=np.int64)
        at = np.searchsorted(self.unit, ids)
        found = at < len(self.unit)
        found[found] = self.unit[at[found]] == ids[found]
        return np.where(found, at, -1)


def _fetch(session: Session, statement: Any) -> list[tuple[Any, ...]]:
    """The rows of a statement without bound parameters as the driver returns them: a million rows through
    SQLAlchemy's result objects take twice as long (1.3-1.8 s against 0.7 s on SQLite)."""
    sql = str(statement.compile(dialect=session.get_bind().dialect))
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _column(rows: list[Any], index: int) -> np.ndarray:
    return np.fromiter((row[index] for row in rows), dtype=np.int64, count=len(rows))


def _read_first_shipments(session: Session) -> FirstShipments:
    # Plain reads of the shipment lines and the units, first shipments picked by numpy: grouping them in SQL took
    # 3.5-6 s at a million units on SQLite (a (batch, shipment) pair for almost every unit when shipments mix
    # batches), the reads about 1.3 s.
    order = session.scalars(select(Shipment.id).order_by(Shipment.shipped_on, Shipment.id)).all()
    lines = _fetch(session, select(ShipmentItem.unit_id, ShipmentItem.shipment_id)
                   .where(ShipmentItem.unit_id.is_not(None)))
    units = _fetch(session, select(Unit.id, Unit.batch_id, Unit.product_id).order_by(Unit.id))
    empty = np.zeros(0, dtype=np.int64)
    if not lines:
        return FirstShipments(empty, empty, empty, empty)
    rank = np.zeros(max(order) + 1, dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int64)
    unit, shipment = _column(lines, 0), _column(lines, 1)
    ordered = np.lexsort((rank[shipment], unit))
    unit, shipment = unit[ordered], shipment[ordered]
    first = np.ones(len(unit), dtype=bool)
    first[1:] = unit[1:] != unit[:-1]
    unit, shipment = unit[first], shipment[first]
    ids = _column(units, 0)
    at = np.searchsorted(ids, unit)
    return FirstShipments(unit, _column(units, 1)[at], _column(units, 2)[at], shipment)


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
