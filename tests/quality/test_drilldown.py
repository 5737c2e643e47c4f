"""Drill-downs of a batch and a component lot: counted claims with their current failure mode, the Pareto by units
and by cost (catch-alls, then untested, last), customers, and the batches sharing a lot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from serialtrace.errors import NotFound
from serialtrace.quality import drilldown, queries

from .drilldown_data import make_drilldown


@pytest.fixture
def drill(session, make_batch):
    return make_drilldown(session, make_batch)


def _codes(rows, key):
    return [(r["code"], r[key]) for r in rows]


def test_a_batch_counts_claims_as_the_claim_rate_table_does(session, drill):
    done = drilldown.batch_drilldown(session, drill.a.id)
    assert (done.units, done.claims) == (8, 6) and done.rate == pytest.approx(0.75)
    assert done.ci_low < 0.75 < done.ci_high
    [row] = [r for r in queries.batch_report(session).rows if r["batch_id"] == drill.a.id]
    assert (row["units"], row["claims"], row["ci_low"]) == (done.units, done.claims, done.ci_low)
    assert done.subject == {"batch_id": drill.a.id, "batch": "2501A00", "sku": "PR-100", "produced_on": "2025-01-13",
                            "status": "released"}
    # Drafts, cancelled claims and claims on units never shipped are left out; newest first.
    numbers = [r["claim"] for r in done.claim_rows]
    c = drill.claims
    assert numbers == [c[k].number for k in ("a0-again", "a5", "a4", "a3", "a2", "a1", "a0")]
    row = {key: next(r for r in done.claim_rows if r["claim"] == claim.number) for key, claim in c.items()
           if claim.number in numbers}
    assert row["a3"]["failure_mode"] == "firmware_hang"  # the correction, not the first record
    assert row["a5"]["verdict"] == "no_fault_found" and row["a5"]["failure_mode"] is None
    assert row["a4"]["verdict"] is None and row["a0"]["cost"] == Decimal("100.00")
    assert row["a0"]["customer"] == "Vodokanal" and row["a0"]["opened_on"] == "2025-05-01"


def test_the_pareto_puts_catch_alls_then_the_untested_last_and_breaks_ties_by_code(session, drill):
    done = drilldown.batch_drilldown(session, drill.a.id)
    # Each claimed unit once, under its latest claim: a0's second claim is not yet tested.
    assert _codes(done.pareto_count, "count") == [
        ("firmware_hang", 1), ("solder_joint_crack", 1), ("other", 1), (drilldown.NO_MODE, 1),
        (drilldown.NOT_TESTED, 2)]
    assert sum(r["count"] for r in done.pareto_count) == done.claims
    assert done.pareto_count[-1]["cumulative_pct"] == pytest.approx(100) and done.pareto_count[0]["pct"] == 100 / 6
    # By cost each claim under its own mode: "other" cost most but stays behind the named modes.
    assert _codes(done.pareto_cost, "cost") == [
        ("solder_joint_crack", Decimal("150")), ("firmware_hang", Decimal("10")), ("other", Decimal("500")),
        (drilldown.NO_MODE, Decimal("20")), (drilldown.NOT_TESTED, Decimal("7"))]
    assert done.pareto_cost[-1]["cumulative"] == Decimal("687.00")
    assert str(done.pareto_count[-1]["name"]) == "Not yet tested"
    assert str(done.pareto_count[0]["name"]) == "Firmware hang"


def test_customers_add_up_to_the_batch(session, drill):
    done = drilldown.batch_drilldown(session, drill.a.id)
    assert [(r["customer"], r["units"], r["claims"]) for r in done.customers] == [("Vodokanal", 5, 5),
                                                                                   ("Teplo", 3, 1)]
    assert sum(r["units"] for r in done.customers) == done.units
    assert sum(r["claims"] for r in done.customers) == done.claims


def test_a_batch_lists_the_batches_sharing_each_of_its_lots(session, drill):
    done = drilldown.batch_drilldown(session, drill.a.id)
    by_lot = {r["lot_number"]: r for r in done.lots}
    assert set(by_lot) == {"L71033", "S-5501"} and by_lot["S-5501"]["siblings"] == []
    siblings = by_lot["L71033"]["siblings"]
    assert [(s["batch"], s["units"], s["claims"]) for s in siblings] == [("2501A01", 3, 1), ("2501A02", 0, 0)]
    assert siblings[0]["rate"] == pytest.approx(1 / 3) and siblings[1]["rate"] is None
    assert [r["batch"] for r in done.siblings()] == ["2501A01", "2501A02"]
    assert done.siblings()[0]["lot_id"] == drill.lot.id
    plain = drilldown.batch_drilldown(session, drill.d.id)
    assert (plain.units, plain.claims, plain.claim_rows, plain.pareto_count, plain.lots) == (3, 0, (), (), ())


def test_a_lot_sums_every_batch_it_went_into(session, drill):
    done = drilldown.lot_drilldown(session, drill.lot.id)
    assert (done.units, done.claims) == (11, 7)
    [row] = [r for r in queries.lot_report(session).rows if r["lot_id"] == drill.lot.id]
    assert (row["units"], row["claims"]) == (done.units, done.claims)
    assert [(b["batch"], b["units"], b["claims"], b["held_by_lot"]) for b in done.batches] == [
        ("2501A00", 8, 6, False), ("2501A01", 3, 1, False), ("2501A02", 0, 0, False)]
    assert done.batches[2]["rate"] is None
    assert _codes(done.pareto_count, "count")[:2] == [("solder_joint_crack", 2), ("firmware_hang", 1)]
    assert [(r["customer"], r["units"], r["claims"]) for r in done.customers] == [("Vodokanal", 5, 5),
                                                                                   ("Teplo", 6, 2)]
    assert len(done.claim_rows) == 8 and done.subject["lot_number"] == "L71033"
    assert done.as_dict()["batches"][0]["batch"] == "2501A00" and "component_lots" not in done.as_dict()


def test_a_held_lot_marks_the_batches_it_held(session, drill):
    from serialtrace.trace import lots

    lots.hold_lot(session, drill.lot, reason="cracked boards", author=None)
    done = drilldown.lot_drilldown(session, drill.lot.id)
    assert done.subject["status"] == "on_hold" and done.subject["hold_reason"] == "cracked boards"
    assert all(b["held_by_lot"] and b["status"] == "on_hold" for b in done.batches)


def test_unknown_ids_are_not_found(session, drill):
    with pytest.raises(NotFound):
        drilldown.batch_drilldown(session, 999_999)
    with pytest.raises(NotFound):
        drilldown.lot_drilldown(session, 999_999)
