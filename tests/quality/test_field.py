"""Failures over time in the field: months in service from first shipment to first counted claim, grouped in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from serialtrace.errors import ValidationError
from serialtrace.quality import field
from serialtrace.quality.field import MONTH_DAYS, FieldFilter
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.enums import ClaimState

TODAY = date(2025, 6, 30)


def _claim(session, serial: str, opened: datetime, state: str | None = None):
    claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                            today=opened.date()).claim
    claim.opened_at = opened
    if state:
        claim.state = state  # the counting rule only reads the state
    return claim


@pytest.fixture
def fleet(session, make_batch):
    """Batch 2501F00: 6 units shipped 2025-01-10, 4 on 2025-03-05; batch 2501F01 (lot L-9): 2 units, 1 shipped."""
    batch, serials = make_batch(quantity=10, number="2501F00")
    _, other = make_batch(quantity=2, number="2501F01", inputs=[trace_service.LotInput("Acme", "board", "L-9")])
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 1, 10), serials=serials[:6])
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 5),
                                  serials=serials[6:] + other[:1])
    _claim(session, serials[0], datetime(2025, 2, 9, 10, tzinfo=UTC))      # 30 days in service
    _claim(session, serials[0], datetime(2025, 5, 1, 10, tzinfo=UTC))      # the same unit again: its first claim counts
    _claim(session, serials[1], datetime(2025, 4, 15, 9, tzinfo=UTC))      # 95 days
    _claim(session, serials[2], datetime(2025, 4, 1, 9, tzinfo=UTC), ClaimState.DRAFT)
    _claim(session, serials[3], datetime(2025, 4, 1, 9, tzinfo=UTC), ClaimState.CANCELLED)
    _claim(session, serials[6], datetime(2025, 3, 5, 15, tzinfo=UTC))      # the day it shipped: 0 days
    _claim(session, other[1], datetime(2025, 4, 1, 9, tzinfo=UTC))         # never shipped: not counted
    session.flush()
    return serials, other


def test_first_shipment_to_first_counted_claim_grouped_by_day(session, fleet):
    data = field.field_data(session, today=TODAY)
    assert data.shipped == {date(2025, 1, 10): 6, date(2025, 3, 5): 5} and data.units == 11
    assert data.failures == {(date(2025, 1, 10), date(2025, 2, 9)): 1, (date(2025, 1, 10), date(2025, 4, 15)): 1,
                             (date(2025, 3, 5), date(2025, 3, 5)): 1}
    shipped, returned = data.nevada_input()
    assert shipped == {date(2025, 1, 1): 6, date(2025, 3, 1): 5}
    assert returned == {(date(2025, 1, 1), date(2025, 2, 1)): 1, (date(2025, 1, 1), date(2025, 4, 1)): 1,
                        (date(2025, 3, 1), date(2025, 3, 1)): 1}
    intervals, suspensions = data.weibull_input()
    # Returns on day 0, 30 and 95 of service are the days (d, d + 1] in months.
    assert intervals == {(0.0, 1 / MONTH_DAYS): 1, (30 / MONTH_DAYS, 31 / MONTH_DAYS): 1,
                         (95 / MONTH_DAYS, 96 / MONTH_DAYS): 1}
    # Still in the field: 4 units shipped 171 days ago, 4 shipped 117 days ago.
    assert suspensions == {117 / MONTH_DAYS: 4, 171 / MONTH_DAYS: 4}


def test_filters_by_product_batch_and_lot(session, fleet):
    by_batch = field.field_data(session, FieldFilter(sku="PR-100", batch="2501F01"), today=TODAY)
    assert by_batch.shipped == {date(2025, 3, 5): 1} and by_batch.failures == {}
    assert field.field_data(session, FieldFilter(lot="L-9"), today=TODAY).shipped == {date(2025, 3, 5): 1}
    assert field.field_data(session, FieldFilter(batch="2501F00"), today=TODAY).units == 10


@pytest.mark.parametrize(("filters", "name"), [(FieldFilter(sku="NOPE"), "product"),
                                               (FieldFilter(batch="NOPE"), "batch"), (FieldFilter(lot="NOPE"), "lot")])
def test_an_unknown_filter_is_refused_by_name(session, fleet, filters, name):
    with pytest.raises(ValidationError, match=name) as raised:
        field.field_data(session, filters, today=TODAY)
    assert raised.value.details == {"field": name}


def test_the_report_has_the_nevada_chart_fit_plot_and_forecast(session, fleet):
    report = field.field_report(session, today=TODAY, months=3)
    assert report.weibull_error is None and report.nevada_error is None
    assert [(r["ship_month"], r["months_in_service"], r["return_month"], r["returns"]) for r in report.nevada_rows()] \
        == [("2025-01", 1, "2025-02", 1), ("2025-01", 3, "2025-04", 1), ("2025-03", 0, "2025-03", 1)]
    life = {row["month"]: row for row in report.life_rows()}
    assert life[0]["failures"] == 1 and life[0]["at_risk"] == 11
    assert report.fit is not None and report.fit.beta > 0 and len(report.plot_rows()) == 3
    assert [r["month"] for r in report.forecast_rows()] == [1, 2, 3]
    assert report.forecast is not None and report.forecast.units == 8


def test_too_few_failures_is_a_message_not_an_error(session, make_batch):
    _, serials = make_batch(quantity=3, number="2501G00")
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 1, 10), serials=serials)
    _claim(session, serials[0], datetime(2025, 2, 9, 10, tzinfo=UTC))
    session.flush()
    report = field.field_report(session, today=TODAY)
    assert report.fit is None and "not enough failures to fit" in report.weibull_error
    assert report.nevada is not None and report.forecast_rows() == []
    empty = field.field_report(session, FieldFilter(batch="2501G00", sku="PR-100"), today=date(2024, 12, 1))
    assert empty.nevada is None and empty.nevada_error and empty.weibull_error


def test_a_unit_shipped_again_counts_once_at_its_first_shipment(session, fleet):
    from sqlalchemy import select

    from serialtrace.trace.models import Shipment, ShipmentItem, Unit

    serials, _ = fleet
    again = Shipment(customer_id=session.scalar(select(Shipment.customer_id).limit(1)), shipped_on=date(2025, 5, 1))
    session.add(again)
    session.flush()
    for serial in (serials[0], serials[7]):  # refurbished and shipped again, one of each ship day
        session.add(ShipmentItem(shipment_id=again.id, unit_id=session.scalar(select(Unit.id).where(
            Unit.serial == serial))))
    session.flush()
    data = field.field_data(session, today=TODAY)
    assert data.shipped == {date(2025, 1, 10): 6, date(2025, 3, 5): 5}
    assert field.field_data(session, FieldFilter(batch="2501F00"), today=TODAY).shipped == {
        date(2025, 1, 10): 6, date(2025, 3, 5): 4}
