"""Pure rules: identifiers and the warranty status with its reason."""

from datetime import date

import pytest

from serialtrace.errors import ValidationError
from serialtrace.trace.policy import add_months, ensure_code, normalise_gtin, warranty_status


def test_gtin_is_padded_and_check_digit_verified():
    assert normalise_gtin("4601234560016") == "04601234560016"
    assert normalise_gtin("") is None
    with pytest.raises(ValidationError, match="check digit 7, expected 6"):
        normalise_gtin("04601234560017")
    with pytest.raises(ValidationError, match="8, 12, 13 or 14 digits"):
        normalise_gtin("12345")


def test_codes_must_fit_gs1_ai_10_and_21():
    assert ensure_code(" 2501A00 ", what="batch") == "2501A00"
    with pytest.raises(ValidationError, match="1 to 20 characters"):
        ensure_code("X" * 21, what="serial")
    with pytest.raises(ValidationError):
        ensure_code("ЫТ123", what="serial")


def test_add_months_clamps_to_the_last_day():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 3, 14), 24) == date(2027, 3, 14)


def test_warranty_reason_from_shipment():
    w = warranty_status(months=24, start_rule="shipment", shipped_on=date(2025, 3, 14), sold_on=None,
                        today=date(2026, 1, 1))
    assert w.status == "in_warranty"
    assert w.reason == "in warranty until 2027-03-14 (shipped 2025-03-14, 24 months)"


def test_last_day_is_still_in_warranty_and_the_next_is_not():
    kwargs = dict(months=12, start_rule="shipment", shipped_on=date(2025, 3, 14), sold_on=None)
    assert warranty_status(today=date(2026, 3, 14), **kwargs).status == "in_warranty"
    expired = warranty_status(today=date(2026, 3, 15), **kwargs)
    assert expired.status == "expired"
    assert expired.reason == "warranty expired on 2026-03-14 (shipped 2025-03-14, 12 months)"


def test_grace_days_extend_and_are_named():
    w = warranty_status(months=12, start_rule="shipment", shipped_on=date(2025, 3, 14), sold_on=None,
                        today=date(2026, 3, 20), grace_days=10)
    assert w.status == "in_warranty" and "+ 10 days grace" in w.reason


def test_sale_date_wins_when_the_product_starts_at_sale():
    w = warranty_status(months=12, start_rule="sale", shipped_on=date(2025, 1, 10), sold_on=date(2025, 6, 1),
                        today=date(2026, 1, 1))
    assert w.until == date(2026, 6, 1) and "sold 2025-06-01" in w.reason


def test_unshipped_unit_has_not_started():
    w = warranty_status(months=12, start_rule="shipment", shipped_on=None, sold_on=None, today=date(2026, 1, 1))
    assert w.status == "not_started" and w.until is None
