"""Batches sharing a component lot, shipped to two customers, with claims tested through the bench's own service:
the drill-downs' numbers, worked out by hand in the docstring of `make_drilldown`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from serialtrace.accounts import service as accounts_service
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, ComponentLot
from serialtrace.warranty import bench
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import Claim, UnitCase

TODAY = date(2025, 6, 2)
LOT = ("Shenzhen PCB Co.", "board", "L71033")
OWN_LOT = ("Sensirion", "sensor", "S-5501")


@dataclass
class Drill:
    """The batches (A has the claims; B and C share A's board lot; D shares nothing), the lots and the claims."""

    a: Batch
    b: Batch
    c: Batch
    d: Batch
    lot: ComponentLot
    own_lot: ComponentLot
    claims: dict[str, Claim]


def _claim(session, serial: str, opened: int, *, cost: str = "0", state: str | None = None) -> Claim:
    claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                            today=TODAY).claim
    claim.opened_at = datetime(2025, 5, opened, 9, 0, tzinfo=UTC)
    claim.cost = Decimal(cost)
    if state:
        claim.state = state  # the counting rule only reads the state
    session.flush()
    return claim


def _test(session, people, claim: Claim, verdict: str, mode: str | None, *, supersedes: int | None = None):
    """Send the claim's unit in, receive it and record the test with its failure mode (the bench's service)."""
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    if supersedes is None:
        for to in ("triage", "awaiting_return"):
            warranty_service.transition_claim(session, claim_id=claim.id, to=to, author=people["coordinator"],
                                              today=TODAY)
        warranty_service.receive_case(session, case_id=case.id, serial=case.expected_serial,
                                      author=people["warehouse"])
    failure = {"mode": mode} if mode else None
    return bench.record_test(session, case_id=case.id, verdict=verdict, failure=failure, author=people["engineer"],
                             supersedes=supersedes).record


def make_drilldown(session, make_batch) -> Drill:
    """Batch A: 10 units, 8 shipped (a0-a4 to Vodokanal, a5-a7 to Teplo), lots LOT and OWN_LOT. Counted claims:
    a0 twice (solder crack, 100.00; later untested, 7.00), a1 solder crack 50.00, a2 other 500.00, a3 sensor drift
    corrected to firmware hang 10.00, a4 untested, a5 no fault found without a mode 20.00; not counted: a6 draft,
    a7 cancelled, a8 (never shipped). So A: 8 units, 6 claimed units (Vodokanal 5 units 5 claimed, Teplo 3 / 1).
    Pareto by units: firmware_hang 1, solder_joint_crack 1, other 1, no mode 1, not yet tested 2.
    By cost: solder_joint_crack 150.00, firmware_hang 10.00, other 500.00, no mode 20.00, not yet tested 7.00.
    Batch B: 4 units, 3 shipped to Teplo, 1 claimed (b0, solder crack, 30.00), lot LOT. Batch C: 2 units, none
    shipped, lot LOT. Batch D: 3 units, 3 shipped, no claim, no shared lot."""
    people = {role: accounts_service.create_user(session, username=f"drill-{role}", role=role)
              for role in ("warehouse", "coordinator", "engineer")}
    lot, own = trace_service.LotInput(*LOT), trace_service.LotInput(*OWN_LOT)
    a, a_serials = make_batch(quantity=10, number="2501A00", inputs=[lot, own])
    b, b_serials = make_batch(quantity=4, number="2501A01", inputs=[lot])
    c, _ = make_batch(quantity=2, number="2501A02", inputs=[lot])
    d, d_serials = make_batch(quantity=3, number="2501A03")
    vodokanal = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    teplo = trace_service.get_or_create_customer(session, name="Teplo", tax_id="7709876543")
    trace_service.create_shipment(session, customer=vodokanal, shipped_on=date(2025, 2, 3), serials=a_serials[:5])
    trace_service.create_shipment(session, customer=teplo, shipped_on=date(2025, 2, 4),
                                  serials=a_serials[5:8] + b_serials[:3] + d_serials)
    claims = {
        "a0": _claim(session, a_serials[0], 1, cost="100.00"),
        "a0-again": _claim(session, a_serials[0], 20, cost="7.00"),
        "a1": _claim(session, a_serials[1], 2, cost="50.00"),
        "a2": _claim(session, a_serials[2], 3, cost="500.00"),
        "a3": _claim(session, a_serials[3], 4, cost="10.00"),
        "a4": _claim(session, a_serials[4], 5),
        "a5": _claim(session, a_serials[5], 6, cost="20.00"),
        "a6": _claim(session, a_serials[6], 7, cost="900.00", state="draft"),
        "a7": _claim(session, a_serials[7], 8, cost="900.00", state="cancelled"),
        "a8": _claim(session, a_serials[8], 9, cost="900.00"),
        "b0": _claim(session, b_serials[0], 10, cost="30.00"),
    }
    _test(session, people, claims["a0"], "confirmed_defect", "solder_joint_crack")
    _test(session, people, claims["a1"], "confirmed_defect", "solder_joint_crack")
    _test(session, people, claims["a2"], "confirmed_defect", "other")
    first = _test(session, people, claims["a3"], "confirmed_defect", "sensor_drift")
    _test(session, people, claims["a3"], "confirmed_defect", "firmware_hang", supersedes=first.id)
    _test(session, people, claims["a5"], "no_fault_found", None)
    _test(session, people, claims["b0"], "confirmed_defect", "solder_joint_crack")
    for claim in claims.values():
        session.refresh(claim)
    # The bench's verdicts move claims on; the costs stay as set (repairs are booked by hand).
    session.flush()
    lots = {(row.supplier, row.part, row.lot_number): row for row in session.scalars(select(ComponentLot))}
    return Drill(a=a, b=b, c=c, d=d, lot=lots[LOT], own_lot=lots[OWN_LOT], claims=claims)
