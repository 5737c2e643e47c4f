"""The dashboard's numbers: shipped units and claimed units per batch and lot, and the demo's bad lot found."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.quality import queries
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.enums import ClaimState


def _claim(session, serial: str, state: str | None = None):
    claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                            today=date(2025, 3, 3)).claim
    if state:
        claim.state = state  # the counting rule only reads the state
    return claim


def test_counts_shipped_units_and_claimed_units_once_past_draft_and_not_cancelled(session, make_batch):
    lot_key = ("Shenzhen PCB Co.", "board", "L71033")
    lot = trace_service.LotInput(*lot_key)
    batch, serials = make_batch(quantity=5, number="2501A00", inputs=[lot])
    other, other_serials = make_batch(quantity=2, number="2501A01", inputs=[lot])
    make_batch(quantity=3, number="2501A02")  # nothing shipped: no row
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3),
                                  serials=serials[:4] + other_serials[:1])
    _claim(session, serials[0])
    _claim(session, serials[0])  # a second claim on the same unit: still one claimed unit
    _claim(session, serials[1], ClaimState.DRAFT)
    _claim(session, serials[2], ClaimState.CANCELLED)
    _claim(session, serials[3], ClaimState.CLOSED)
    _claim(session, serials[4])  # never shipped: outside the denominator, so not counted
    _claim(session, other_serials[0])
    session.flush()
    assert queries.batch_rows(session) == [(batch.id, 4, 2), (other.id, 1, 1)]
    [(lot_id, units, claims)] = queries.lot_rows(session)
    assert (units, claims) == (5, 3)
    report = queries.batch_report(session)
    assert [r["batch"] for r in report.rows] == ["2501A01", "2501A00"]  # by adjusted p, nothing flagged
    assert {r["sku"] for r in report.rows} == {"PR-100"} and not any(r["flagged"] for r in report.rows)
    [row] = queries.lot_report(session).rows
    assert (row["lot_id"], row["supplier"], row["part"], row["lot_number"]) == (lot_id, *lot_key)
    assert row["rate"] == pytest.approx(0.6) and row["ci_low"] < 0.6 < row["ci_high"] and not row["flagged"]


def test_no_shipped_units_is_an_empty_report(session, make_batch):
    make_batch(quantity=2)
    assert queries.batch_report(session).rows == () and queries.lot_report(session).pooled_rate is None



def test_a_batch_below_min_units_is_never_flagged(session, make_batch):
    bad, bad_serials = make_batch(quantity=40, number="2501B00")
    _, good_serials = make_batch(quantity=40, number="2501B01")
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3),
                                  serials=bad_serials + good_serials)
    for serial in bad_serials[:10]:
        _claim(session, serial)
    session.flush()
    flagged = [r["batch"] for r in queries.batch_report(session, min_units=30).rows if r["flagged"]]
    assert flagged == ["2501B00"]
    small = queries.batch_report(session, min_units=41).rows
    assert small[0]["batch_id"] == bad.id and small[0]["p_adjusted"] < 0.05 and not small[0]["flagged"]
