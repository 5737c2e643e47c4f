"""Pure rules: identifiers, business dates and the warranty status with its reason."""

from datetime import date

import pytest

from serialtrace.errors import ValidationError
from serialtrace.trace.policy import (
    add_months,
    ensure_business_date,
    ensure_code,
    latest_business_date,
    normalise_gtin,
    parse_date,
    warranty_status,
)


def test_gtin_is_padded_and_check_digit_verified():
    assert normalise_gtin("4601234560016") == "04601234560016"
    assert normalise_gtin("") is None
    with pytest.raises(ValidationError, match="check digit 7, expected 6"):
        normalise_gtin("04601234560017")
    with pytest.raises(ValidationError, match="8, 12, 13 or 14 digits"):
        normalise_gtin("12345")


def test_gtin_of_other_scripts_digits_is_refused():
    # Arabic-Indic digits pass str.isdigit(); no barcode carries them.
    with pytest.raises(ValidationError, match="must be 8, 12, 13 or 14 digits"):
        normalise_gtin("\u0664\u0666\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0660\u0660\u0661\u0666")


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-03-14", date(2025, 3, 14)), ("14.03.2025", date(2025, 3, 14)), ("4.3.2025", date(2025, 3, 4)),
    ("14.03.2025 0:00:00", date(2025, 3, 14)), ("2025-03-14T10:30", date(2025, 3, 14)),
    (" 2025-03-14 ", date(2025, 3, 14)),
])
def test_dates_are_read_in_both_formats_every_caller_accepts(text, expected):
    assert parse_date(text, field="shipped_on") == expected


@pytest.mark.parametrize(("text", "message"), [
    ("14/03/2025", "shipment date '14/03/2025' is not a date (YYYY-MM-DD or DD.MM.YYYY)"),
    ("", "shipment date '' is not a date (YYYY-MM-DD or DD.MM.YYYY)"),
    ("31.02.2025", "shipment date '31.02.2025' is not a real calendar date"),
    ("00.00.0000", "shipment date '00.00.0000' is an ERP placeholder for 'no date', not a real date: "
                   "send the real shipment date"),
])
def test_bad_dates_name_the_field_and_the_text(text, message):
    with pytest.raises(ValidationError) as exc:
        parse_date(text, field="shipped_on")
    assert exc.value.message == message and exc.value.details == {"field": "shipped_on"}


def test_a_date_column_named_otherwise_is_named_as_the_caller_says():
    with pytest.raises(ValidationError, match=r"^date 'soon' is not a date"):
        parse_date("soon", field="shipped_on", what="date")


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


# --- business dates --------------------------------------------------------------------------------------------

TODAY = date(2026, 12, 2)


def test_business_dates_run_from_1990_to_one_year_after_today():
    assert ensure_business_date("shipped_on", date(1990, 1, 1), today=TODAY) == date(1990, 1, 1)
    assert ensure_business_date("shipped_on", date(2027, 12, 2), today=TODAY) == date(2027, 12, 2)
    with pytest.raises(ValidationError, match=r"shipment date 1989-12-31 \(shipped_on\) is outside the accepted "
                                              r"range 1990-01-01 to 2027-12-02") as early:
        ensure_business_date("shipped_on", date(1989, 12, 31), today=TODAY)
    assert early.value.details["field"] == "shipped_on" and early.value.status_code == 422
    with pytest.raises(ValidationError, match="production date 2027-12-03 .* outside") as late:
        ensure_business_date("produced_on", date(2027, 12, 3), today=TODAY)
    assert late.value.details == {"field": "produced_on", "earliest": "1990-01-01", "latest": "2027-12-02"}


def test_one_year_ahead_of_29_february_is_28_february():
    assert latest_business_date(date(2028, 2, 29)) == date(2029, 2, 28)
    assert latest_business_date(date(9999, 6, 1)) == date.max


@pytest.mark.parametrize("placeholder", [date(9999, 12, 31), date(9999, 1, 1), date(1900, 1, 1), date(1, 1, 1),
                                         date(1899, 12, 30), date(1970, 1, 1)])
def test_erp_placeholder_dates_say_what_to_send_instead(placeholder):
    with pytest.raises(ValidationError) as refused:
        ensure_business_date("shipped_on", placeholder, today=TODAY)
    assert refused.value.message == (f"shipment date {placeholder.isoformat()} (shipped_on) is an ERP placeholder "
                                     f"for 'no date', not a real date: send the real shipment date")
    with pytest.raises(ValidationError, match=r"send the real sale date, or leave it empty \(not sold yet\)$"):
        ensure_business_date("sold_on", placeholder, today=TODAY, empty="not sold yet")


def test_a_date_that_is_not_a_date_names_the_field():
    with pytest.raises(ValidationError, match=r"production date \(produced_on\) must be a date"):
        ensure_business_date("produced_on", "2025-01-01", today=TODAY)


# --- warranty arithmetic at the end of the calendar ---------------------------------------------------------


@pytest.mark.parametrize("start_rule, shipped_on, sold_on, reason", [
    ("shipment", date(9999, 12, 31), None,
     "warranty cannot be computed: the shipment date 9999-12-31 is an ERP placeholder, not a real date; "
     "correct the shipment date"),
    ("sale", date(2025, 1, 10), date(5000, 6, 1),
     "warranty cannot be computed: the sale date 5000-06-01 lies more than a year ahead; correct the sale date"),
    ("shipment", date(1, 1, 1), None,
     "warranty cannot be computed: the shipment date 0001-01-01 is an ERP placeholder, not a real date; "
     "correct the shipment date"),
])
def test_impossible_start_dates_give_an_unknown_status_with_a_reason(start_rule, shipped_on, sold_on, reason):
    w = warranty_status(months=24, start_rule=start_rule, shipped_on=shipped_on, sold_on=sold_on, today=TODAY)
    assert (w.status, w.until, w.reason) == ("unknown", None, reason)
    assert w.as_dict()["in_warranty"] is False and w.as_dict()["until"] is None


def test_warranty_past_year_9999_is_unknown_instead_of_raising():
    with pytest.raises(ValueError):
        add_months(date(9998, 6, 1), 24)
    near_end = warranty_status(months=24, start_rule="shipment", shipped_on=date(9998, 6, 1), sold_on=None,
                               today=date(9998, 1, 1))
    assert near_end.status == "unknown"
    assert near_end.reason == ("warranty cannot be computed: the shipment date 9998-06-01 plus 24 months falls past "
                               "the last date the calendar holds (9999-12-31); check the shipment date and the "
                               "warranty months")
    huge_grace = warranty_status(months=24, start_rule="shipment", shipped_on=date(2025, 6, 1), sold_on=None,
                                 today=TODAY, grace_days=10**9)
    assert huge_grace.status == "unknown" and "+ 1000000000 days grace falls past" in huge_grace.reason
    huge_months = warranty_status(months=10**6, start_rule="shipment", shipped_on=date(2025, 6, 1), sold_on=None,
                                  today=TODAY)
    assert huge_months.status == "unknown" and "plus 1000000 months" in huge_months.reason


def test_a_shipment_dated_within_the_year_ahead_still_counts():
    w = warranty_status(months=24, start_rule="shipment", shipped_on=date(2027, 6, 1), sold_on=None, today=TODAY)
    assert w.status == "in_warranty" and w.until == date(2029, 6, 1)
