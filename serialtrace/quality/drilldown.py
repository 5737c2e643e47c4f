"""Drill-downs of the claim rates: one batch or one component lot with its claims, the failure-mode Pareto by count
and by cost, its customers and the batches it shares component lots with.

Claims count as on the claim-rate tables (see queries): past draft, not cancelled, on a shipped unit, each unit
once. The Pareto by count puts each claimed unit once, under the failure mode of its latest counted claim; the
Pareto by cost adds every counted claim's cost under that claim's own failure mode (money is spent per claim). A
claim's failure mode is the one on its current test record (the record no correction superseded); a claim not yet
tested is counted under NOT_TESTED, one tested without a failure mode under NO_MODE, both after the catch-all codes.
A customer is the one a unit was first shipped to, so the customers' units and claims add up to the totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..errors import NotFound
from ..i18n import Message, _l
from ..trace import analytics
from ..trace.models import Batch, BatchInput, ComponentLot, Customer, Product, Shipment, Unit
from ..trace.policy import MAX_INT
from ..warranty import codes
from ..warranty.enums import FailureList
from ..warranty.models import Claim, TestRecord
from .queries import NOT_COUNTED, _shipped, first_shipments, shipped_per_batch

# Buckets that are not failure-code values (codes match codes.CODE_PATTERN, which allows no parentheses).
NOT_TESTED = "(not yet tested)"
NO_MODE = "(no failure mode)"
# Catch-all failure modes of the seeded list (and "unknown", should quality add it): they say little about what
# failed, so the Pareto shows them after the named modes, then the claims without a coded mode.
CATCH_ALL = ("other", "unknown", "no_fault")
LAST = (*CATCH_ALL, NO_MODE, NOT_TESTED)
BUCKET_LABELS = {NOT_TESTED: _l("Not yet tested"), NO_MODE: _l("Tested, no failure mode coded")}

CLAIM_COLUMNS = ("claim", "serial", "batch", "sku", "customer", "state", "symptom", "verdict", "failure_mode", "cost",
                 "opened_on")
PARETO_COUNT_COLUMNS = ("code", "name", "count", "pct", "cumulative", "cumulative_pct", "vital")
PARETO_COST_COLUMNS = ("code", "name", "cost", "pct", "cumulative", "cumulative_pct", "vital")
CUSTOMER_COLUMNS = ("customer_id", "customer", "units", "claims", "rate")
BATCH_COLUMNS = ("batch_id", "batch", "sku", "status", "held_by_lot", "units", "claims", "rate", "ci_low", "ci_high")
SIBLING_COLUMNS = ("lot_id", "supplier", "part", "lot_number", "batch_id", "batch", "sku", "status", "units",
                   "claims", "rate")


@dataclass(frozen=True)
class Drilldown:
    """A batch's or a lot's numbers: the totals, claims, both Paretos, customers, and the batches beside it."""

    subject: dict[str, Any]
    units: int
    claims: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    claim_rows: tuple[dict[str, Any], ...]
    pareto_count: tuple[dict[str, Any], ...]
    pareto_cost: tuple[dict[str, Any], ...]
    customers: tuple[dict[str, Any], ...]
    # A batch: its component lots, each with its other batches under "siblings". A lot: the batches it went into.
    lots: tuple[dict[str, Any], ...] = ()
    batches: tuple[dict[str, Any], ...] = ()

    def siblings(self) -> list[dict[str, Any]]:
        """The sibling batches one row each, with the lot they share (the downloadable table)."""
        return [{**{k: lot[k] for k in ("lot_id", "supplier", "part", "lot_number")}, **sibling}
                for lot in self.lots for sibling in lot["siblings"]]

    def as_dict(self) -> dict[str, Any]:
        """The drill-down as the API returns it (money as a string, so no cent is lost to a float)."""
        def money(rows: Iterable[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
            return [{**r, **{k: str(r[k]) for k in keys}} for r in rows]

        claims = [{**r, "opened_at": r["opened_at"].isoformat()} for r in money(self.claim_rows, "cost")]

        return {**self.subject, "units": self.units, "claims": self.claims, "rate": self.rate, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "claim_list": claims,
                "pareto_count": list(self.pareto_count),
                "pareto_cost": money(self.pareto_cost, "cost", "cumulative"), "customers": list(self.customers),
                **({"component_lots": list(self.lots)} if "batch_id" in self.subject else
                   {"batches": list(self.batches)})}


def _rate(units: int, claims: int) -> dict[str, Any]:
    """claims / units with the Wilson 95 % interval; None for all three when nothing was shipped."""
    if units == 0:
        return {"rate": None, "ci_low": None, "ci_high": None}
    low, high = analytics.rate_interval(claims, units)
    return {"rate": claims / units, "ci_low": low, "ci_high": high}


def batch_counts(session: Session, batch_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """{batch id: (units shipped, claimed units)} for `batch_ids`, counted as queries.batch_rows counts them."""
    if not batch_ids:
        return {}
    # Units shipped and which units were shipped are kept between views (queries.first_shipments); the claims are
    # read every time.
    units = shipped_per_batch(session)
    claimed = session.execute(select(Claim.unit_id, Unit.batch_id).join(Unit, Unit.id == Claim.unit_id)
                              .where(Unit.batch_id.in_(batch_ids), Claim.state.not_in(NOT_COUNTED))
                              .distinct()).all()
    claims: dict[int, int] = {}
    if claimed:
        for (_, batch_id), at in zip(claimed, first_shipments(session).positions([u for u, _ in claimed]),
                                     strict=True):
            if at >= 0:
                claims[batch_id] = claims.get(batch_id, 0) + 1
    return {b: (int(units.get(b, 0)), int(claims.get(b, 0))) for b in batch_ids}


def _claims(session: Session, batch_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The counted claims on the units of `batch_ids`, newest first, each with its current test's verdict and mode."""
    later = aliased(TestRecord)
    tests: dict[int, tuple[Any, ...]] = {}
    for claim_id, verdict, mode, tested_at, record_id in session.execute(
            select(TestRecord.claim_id, TestRecord.verdict, TestRecord.failure_mode, TestRecord.tested_at,
                   TestRecord.id)
            .join(Claim, Claim.id == TestRecord.claim_id).join(Unit, Unit.id == Claim.unit_id)
            .where(Unit.batch_id.in_(batch_ids), Claim.state.not_in(NOT_COUNTED),
                   ~select(later.id).where(later.supersedes_id == TestRecord.id).exists())):
        # A claim with several cases has several current records: the latest speaks for it.
        if claim_id not in tests or (tested_at, record_id) > tests[claim_id][2:]:
            tests[claim_id] = (verdict, mode, tested_at, record_id)
    rows = session.execute(
        select(Claim.id, Claim.number, Claim.unit_id, Claim.state, Claim.symptom, Claim.cost, Claim.opened_at,
               Unit.serial, Batch.number.label("batch"), Product.sku, Customer.name.label("customer"))
        .join(Unit, Unit.id == Claim.unit_id).join(Batch, Batch.id == Unit.batch_id)
        .join(Product, Product.id == Batch.product_id).outerjoin(Customer, Customer.id == Claim.customer_id)
        .where(Unit.batch_id.in_(batch_ids), Claim.state.not_in(NOT_COUNTED), _shipped(Unit.id))
        .order_by(Claim.opened_at.desc(), Claim.number.desc())).all()
    out = []
    for r in rows:
        verdict, mode = tests[r.id][:2] if r.id in tests else (None, None)
        out.append({"claim": r.number, "serial": r.serial, "batch": r.batch, "sku": r.sku,
                    "customer": r.customer or "", "state": r.state, "symptom": r.symptom, "verdict": verdict,
                    "failure_mode": mode or None, "cost": Decimal(r.cost or 0), "opened_on": _day(r.opened_at),
                    "bucket": NOT_TESTED if verdict is None else (mode or NO_MODE), "unit_id": r.unit_id,
                    "opened_at": r.opened_at})
    return out


def _day(value: datetime) -> str:
    return value.date().isoformat()


def mode_names(session: Session) -> dict[str, Message]:
    """Every failure mode's name (retired ones too, for old records) and the two buckets' labels."""
    names = {row.code: codes.code_name(row.list, row.code, row.name)
             for row in codes.list_codes(session, FailureList.MODE, active_only=False)}
    return {**names, **BUCKET_LABELS}


def _pareto(values: dict[str, int], names: dict[str, Message], key: str) -> tuple[dict[str, Any], ...]:
    """analytics.pareto of `values` as rows named for the page; empty when nothing was counted."""
    if sum(values.values()) == 0:
        return ()
    return tuple({"code": r.code, "name": names.get(r.code, r.code), key: r.count, "pct": r.pct,
                  "cumulative": r.cumulative, "cumulative_pct": r.cumulative_pct, "vital": r.vital}
                 for r in analytics.pareto(values, last=LAST))


def paretos(claims: list[dict[str, Any]], names: dict[str, Message]) -> tuple[tuple[dict[str, Any], ...],
                                                                               tuple[dict[str, Any], ...]]:
    """The Pareto by claimed units (each unit under its latest claim's mode) and by cost (each claim its own)."""
    latest: dict[int, dict[str, Any]] = {}
    for claim in claims:
        held = latest.get(claim["unit_id"])
        if held is None or (claim["opened_at"], claim["claim"]) > (held["opened_at"], held["claim"]):
            latest[claim["unit_id"]] = claim
    counts: dict[str, int] = {}
    for claim in latest.values():
        counts[claim["bucket"]] = counts.get(claim["bucket"], 0) + 1
    cents: dict[str, int] = {}
    for claim in claims:
        # Whole cents: analytics.pareto counts integers, and money must not pass through a float.
        cents[claim["bucket"]] = cents.get(claim["bucket"], 0) + int(claim["cost"] * 100)
    by_cost = tuple({**row, "cost": Decimal(row["cost"]) / 100, "cumulative": Decimal(row["cumulative"]) / 100}
                    for row in _pareto(cents, names, "cost"))
    return _pareto(counts, names, "count"), by_cost


def _customers(session: Session, batch_ids: Sequence[int]) -> tuple[dict[str, Any], ...]:
    """Units first shipped to each customer and how many of them were claimed; most claims first."""
    first = first_shipments(session)
    mine = np.flatnonzero(np.isin(first.batch, np.asarray(batch_ids, dtype=np.int64)))
    if not len(mine):
        return ()
    claimed_units = session.scalars(select(Claim.unit_id).join(Unit, Unit.id == Claim.unit_id)
                                    .where(Unit.batch_id.in_(batch_ids), Claim.state.not_in(NOT_COUNTED))
                                    .distinct()).all()
    at = first.positions(claimed_units) if claimed_units else np.zeros(0, dtype=np.int64)
    per_shipment = np.bincount(first.shipment[mine])
    claimed_per_shipment = np.bincount(first.shipment[at[at >= 0]], minlength=len(per_shipment))
    totals: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    # Every shipment (a few thousand rows) rather than a list of thousands of ids to bind.
    for sid, cid, name in session.execute(select(Shipment.id, Customer.id, Customer.name)
                                          .join(Customer, Customer.id == Shipment.customer_id)
                                          .where(Shipment.id < len(per_shipment))):
        if not per_shipment[sid]:
            continue
        names[cid] = name
        total = totals.setdefault(cid, [0, 0])
        total[0] += int(per_shipment[sid])
        total[1] += int(claimed_per_shipment[sid])
    out = [{"customer_id": cid, "customer": names[cid], "units": units, "claims": claims, "rate": claims / units}
           for cid, (units, claims) in totals.items()]
    return tuple(sorted(out, key=lambda r: (-r["claims"], -r["units"], r["customer"], r["customer_id"])))


def _batch_labels(session: Session, batch_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(batch_ids)
    if not ids:
        return {}
    return {bid: {"batch_id": bid, "batch": number, "sku": sku, "status": status}
            for bid, number, sku, status in session.execute(
                select(Batch.id, Batch.number, Product.sku, Batch.status)
                .join(Product, Product.id == Batch.product_id).where(Batch.id.in_(ids)))}


def _common(session: Session, subject: dict[str, Any], batch_ids: Sequence[int],
            counts: dict[int, tuple[int, int]]) -> dict[str, Any]:
    """What a batch's and a lot's drill-downs share: totals, claims, Paretos and customers of `batch_ids`."""
    units = sum(counts[b][0] for b in batch_ids)
    claimed = sum(counts[b][1] for b in batch_ids)
    claims = _claims(session, batch_ids) if batch_ids else []
    by_count, by_cost = paretos(claims, mode_names(session))
    shown = tuple({**{k: c[k] for k in CLAIM_COLUMNS}, "opened_at": c["opened_at"]} for c in claims)
    return {"subject": subject, "units": units, "claims": claimed, **_rate(units, claimed), "claim_rows": shown,
            "pareto_count": by_count, "pareto_cost": by_cost,
            "customers": _customers(session, batch_ids) if batch_ids else ()}


def batch_drilldown(session: Session, batch_id: int) -> Drilldown:
    """A batch's claims, Paretos and customers, and for each of its component lots the other batches it went into."""
    # An id past the column's range names no row (and must not reach PostgreSQL as an overflow).
    found = session.execute(select(Batch, Product.sku).join(Product, Product.id == Batch.product_id)
                            .where(Batch.id == batch_id)).first() if 0 < batch_id <= MAX_INT else None
    if found is None:
        raise NotFound(_l("no batch with id %(id)s", id=batch_id), details={"batch_id": batch_id})
    batch, sku = found
    lots = session.scalars(select(ComponentLot).join(BatchInput, BatchInput.component_lot_id == ComponentLot.id)
                           .where(BatchInput.batch_id == batch.id)
                           .order_by(ComponentLot.supplier, ComponentLot.part, ComponentLot.lot_number)).all()
    shared: dict[int, list[int]] = {lot.id: [] for lot in lots}
    if lots:
        for lot_id, other in session.execute(
                select(BatchInput.component_lot_id, BatchInput.batch_id)
                .where(BatchInput.component_lot_id.in_(list(shared)), BatchInput.batch_id != batch.id)):
            shared[lot_id].append(other)
    others = sorted({b for ids in shared.values() for b in ids})
    counts = batch_counts(session, [batch.id, *others])
    labels = _batch_labels(session, others)
    lot_rows = []
    for lot in lots:
        siblings = [{**labels[b], "units": counts[b][0], "claims": counts[b][1], "rate": _rate(*counts[b])["rate"]}
                    for b in shared[lot.id]]
        siblings.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["batch"], r["batch_id"]))
        lot_rows.append({**_lot_subject(lot), "siblings": siblings})
    subject = {"batch_id": batch.id, "batch": batch.number, "sku": sku, "produced_on": batch.produced_on.isoformat(),
               "status": batch.status}
    return Drilldown(**_common(session, subject, [batch.id], counts), lots=tuple(lot_rows))


def _lot_subject(lot: ComponentLot) -> dict[str, Any]:
    return {"lot_id": lot.id, "supplier": lot.supplier, "part": lot.part, "lot_number": lot.lot_number,
            "status": lot.status}


def lot_drilldown(session: Session, lot_id: int) -> Drilldown:
    """A component lot over every batch it went into: claims, Paretos, customers, and the batches one by one."""
    lot = session.get(ComponentLot, lot_id) if 0 < lot_id <= MAX_INT else None
    if lot is None:
        raise NotFound(_l("no component lot with id %(id)s", id=lot_id), details={"lot_id": lot_id})
    batch_ids = sorted(session.scalars(select(BatchInput.batch_id).where(BatchInput.component_lot_id == lot.id)))
    counts = batch_counts(session, batch_ids)
    labels = _batch_labels(session, batch_ids)
    held = set(lot.held_batch_ids or ())
    batches = [{**labels[b], "held_by_lot": b in held, "units": counts[b][0], "claims": counts[b][1],
                **_rate(*counts[b])} for b in batch_ids]
    batches.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["batch"], r["batch_id"]))
    subject = {**_lot_subject(lot), "hold_reason": lot.hold_reason,
               "held_at": lot.held_at.isoformat() if lot.held_at else None, "held_by": lot.held_by}
    return Drilldown(**_common(session, subject, batch_ids, counts), batches=tuple(batches))
