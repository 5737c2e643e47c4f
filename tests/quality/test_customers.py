"""Customers in the ABC x XYZ matrix: classes by hand, customers that cannot be classed kept with the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from serialtrace.errors import ValidationError
from serialtrace.quality import customers
from serialtrace.trace import service as trace_service
from serialtrace.warranty.models import Claim

TODAY = date(2025, 7, 15)  # six full months: January to June 2025
SIX = customers.CustomerSettings(months=6, min_months=4)
# Monthly claims January-June (reference-analytics.md: CV 6.3 % X, 15.7 % Y, 145 % Z) and the cost on one claim.
MONTHLY = {"C1": ([10, 11, 10, 9, 10, 10], 8000), "C2": ([8, 10, 7, 9, 11, 9], 1500),
           "C3": ([0, 3, 0, 6, 1, 0], 400)}


@pytest.fixture
def book(session, make_batch):
    """C1-C3 as in MONTHLY, shipped since 2024; C4 first shipped in April (3 months) with one claim costing 100;
    C5 with a claim in 2024 only; drafts and cancelled claims, which never count, on C3."""
    _, serials = make_batch(quantity=6, number="2401A00")
    made = {}
    numbers = iter(range(1, 1000))

    def claim(customer, unit, day, cost=0, state="registered"):
        session.add(Claim(number=f"RC-{next(numbers):05d}", unit_id=unit, customer_id=customer.id, state=state,
                          cost=Decimal(cost), opened_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC)))

    for i, name in enumerate(("C1", "C2", "C3", "C4", "C5")):
        made[name] = customer = trace_service.get_or_create_customer(session, name=name)
        shipped = date(2025, 4, 10) if name == "C4" else date(2024, 6, 1)
        trace_service.create_shipment(session, customer=customer, shipped_on=shipped, serials=[serials[i]],
                                      today=TODAY)
        unit = _unit(session, serials[i])
        if name in MONTHLY:
            counts, cost = MONTHLY[name]
            for month, count in enumerate(counts, start=1):
                for k in range(count):
                    claim(customer, unit, date(2025, month, 1 + k), cost if (month, k) == (2, 0) else 0)
        elif name == "C4":
            claim(customer, unit, date(2025, 5, 3), 100)
        else:
            claim(customer, unit, date(2024, 6, 20), 999)
    claim(made["C3"], _unit(session, serials[2]), date(2025, 1, 5), 50_000, state="draft")
    claim(made["C3"], _unit(session, serials[2]), date(2025, 6, 5), 50_000, state="cancelled")
    claim(made["C3"], _unit(session, serials[2]), date(2025, 7, 1), 50_000)  # this month: not over, not counted
    session.flush()
    return made


def _unit(session, serial):
    from serialtrace.trace import queries as trace_queries

    return trace_queries.get_unit(session, serial).id


def test_matrix_by_hand(session, book):
    found = customers.customer_matrix(session, today=TODAY, settings=SIX)
    assert (found.period_start, found.period_end) == (date(2025, 1, 1), date(2025, 7, 1))
    assert found.month_labels == ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
    rows = {r["customer"]: r for r in found.rows}
    # Cost 8000 / 1500 / 400 / 100 / 0 of 10,000: cumulative before 0, 80, 95, 99, 100 % -> A, B, C, C, C.
    assert {n: r["abc"] for n, r in rows.items()} == {"C1": "A", "C2": "B", "C3": "C", "C4": "C", "C5": "C"}
    assert rows["C1"]["cost"] == Decimal("8000") and rows["C1"]["cumulative_pct"] == pytest.approx(80)
    assert {n: r["xyz"] for n, r in rows.items()} == {"C1": "X", "C2": "Y", "C3": "Z", "C4": None, "C5": None}
    assert rows["C1"]["cv"] == pytest.approx(0.063, abs=5e-4) and rows["C2"]["cv"] == pytest.approx(0.157, abs=5e-4)
    assert rows["C3"]["cv"] == pytest.approx(1.45, abs=5e-3) and rows["C3"]["claims"] == 10
    assert rows["C3"]["series"] == [0, 3, 0, 6, 1, 0]
    assert [[len(found.cells[a][x]) for x in "XYZ"] for a in "ABC"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert [r["customer"] for r in found.cells["A"]["X"]] == ["C1"]
    assert {r["customer"]: str(r["reason"]) for r in found.not_classified()} == {
        "C4": "only 3 months since the first shipment (needs 4)",
        "C5": "no claims in the period: a coefficient of variation needs a mean above 0"}
    assert rows["C4"]["months"] == 3 and rows["C4"]["cell"] is None


def test_abc_by_claim_count_and_the_including_rule(session, book):
    count = customers.customer_matrix(session, today=TODAY,
                                      settings=customers.CustomerSettings(months=6, min_months=4, basis="count"))
    # 60, 54, 10, 1, 0 of 125 claims: before 0, 48, 91.2, 99.2, 100 % -> A, A, B, C, C.
    assert [(r["customer"], r["abc"]) for r in count.rows] == [("C1", "A"), ("C2", "A"), ("C3", "B"), ("C4", "C"),
                                                               ("C5", "C")]
    including = customers.customer_matrix(session, today=TODAY, settings=customers.CustomerSettings(
        months=6, min_months=4, rule="including"))
    # Cumulative including 80, 95, 99, 100 %: C1 on 80 % is still A, C2 on 95 % still B.
    assert [r["abc"] for r in including.rows] == ["A", "B", "C", "C", "C"]


def test_nothing_to_class_is_a_report_not_an_error(session, book):
    later = customers.customer_matrix(session, today=date(2030, 1, 10), settings=SIX)
    assert all(r["cell"] is None and r["abc"] is None for r in later.rows)
    assert {str(r["reason"]) for r in later.rows} == {
        "no claims in the period: a coefficient of variation needs a mean above 0"}
    assert customers.customer_matrix(session, today=date(2030, 1, 10)).as_dict()["matrix"][0]["count"] == 0


def test_empty_database_is_an_empty_matrix(session):
    found = customers.customer_matrix(session, today=TODAY)
    assert found.rows == () and sum(c["count"] for c in found.as_dict()["matrix"]) == 0


@pytest.mark.parametrize(("settings", "field"), [
    (customers.CustomerSettings(basis="money"), "basis"),
    (customers.CustomerSettings(rule="after"), "rule"),
    (customers.CustomerSettings(a=0.9, b=0.8), "b"),
    (customers.CustomerSettings(x=0.3, y=0.2), "y"),
    (customers.CustomerSettings(months=1), "months"),
    (customers.CustomerSettings(min_months=13), "min_months"),
])
def test_bad_settings_are_a_validation_error(session, settings, field):
    with pytest.raises(ValidationError) as caught:
        customers.customer_matrix(session, today=TODAY, settings=settings)
    assert caught.value.details == {"field": field}
