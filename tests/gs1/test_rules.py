"""Unit tests for the GS1 rules: table, check digits, character sets, dates, associations."""

import datetime

import pytest

from serialtrace.gs1 import (
    AI_TABLE,
    GS1Error,
    ai_spec,
    check_digit,
    is_valid_check_digit,
    parse_bracketed,
    parse_date,
    validate,
)

GTIN = "09506000134352"


def test_table_holds_the_required_ais():
    required = ["00", "01", "02", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22",
                "240", "241", "250", "251", "30", "3100", "3695", "37", "400", "401", "402",
                "403", "410", "417", "420", "421", "422", "8003", "8004", "8006", "8020",
                "90", "91", "99"]
    assert [ai for ai in required if ai not in AI_TABLE] == []


def test_formats_are_written_in_gs1_notation():
    assert ai_spec("01").format == "N2+N14"
    assert ai_spec("10").format == "N2+X..20"
    assert ai_spec("17").format == "N2+N6"
    assert ai_spec("8003").format == "N4+N1+N13+[X..16]"


def test_separator_rule_follows_the_predefined_length_prefixes():
    assert not ai_spec("01").separator_required
    assert not ai_spec("3103").separator_required
    assert not ai_spec("414").separator_required
    assert ai_spec("10").separator_required
    assert ai_spec("402").separator_required  # fixed length, but "40" is not predefined
    assert ai_spec("8006").separator_required


def test_unknown_ai_is_a_gs1_error():
    with pytest.raises(GS1Error, match=r"unknown AI \(89\)"):
        ai_spec("89")


def test_check_digit_of_gtin_sscc_and_gln():
    assert check_digit("0950600013435") == "2"
    assert check_digit("00614141123456789") == "0"
    assert check_digit("952012345678") == "8"


def test_is_valid_check_digit_rejects_wrong_digit_and_non_digits():
    assert is_valid_check_digit(GTIN)
    assert not is_valid_check_digit("09506000134355")
    assert not is_valid_check_digit("0950600013435A")


def test_check_digit_of_non_digits_is_a_gs1_error():
    with pytest.raises(GS1Error):
        check_digit("12A")


@pytest.mark.parametrize("ai, value", [("00", "006141411234567891"), ("02", "09506000134353"),
                                       ("414", "9520123456789")])
def test_wrong_check_digit_is_named(ai, value):
    with pytest.raises(GS1Error, match=rf"^\({ai}\) check digit is \d, expected \d$"):
        validate([(ai, value)])


def test_character_outside_set_82_is_named():
    with pytest.raises(GS1Error, match=r"^\(10\) character 'é' is not in character set 82$"):
        validate([("01", GTIN), ("10", "ABé")])


def test_cpid_uses_character_set_39():
    validate([("8010", "ABC-123/#")])
    with pytest.raises(GS1Error, match=r"^\(8010\) character 'a' is not in character set 39$"):
        validate([("8010", "abc")])


def test_non_digit_in_numeric_ai_is_named():
    with pytest.raises(GS1Error, match=r"^\(01\) character 'A' is not a digit$"):
        validate([("01", "0950600013435A")])


def test_value_too_long_names_the_limit():
    with pytest.raises(GS1Error, match=r"^\(21\) is 21 characters, at most 20$"):
        validate([("01", GTIN), ("21", "X" * 21)])


def test_fixed_length_value_of_wrong_length_names_the_length():
    with pytest.raises(GS1Error, match=r"^\(01\) is 13 characters, expected 14$"):
        validate([("01", GTIN[:13])])


def test_impossible_date_is_an_error():
    with pytest.raises(GS1Error, match=r"^\(17\) 250231 is not a valid date$"):
        validate([("01", GTIN), ("17", "250231")])


@pytest.mark.parametrize("ai", ["11", "12", "13", "15", "16", "17"])
def test_day_00_means_last_day_of_month_for_yymmd0_ais(ai):
    assert parse_date(ai, "240200", today=datetime.date(2026, 1, 1)) == datetime.date(2024, 2, 29)
    assert parse_date(ai, "250200", today=datetime.date(2026, 1, 1)) == datetime.date(2025, 2, 28)


def test_day_00_is_refused_where_the_ai_needs_a_real_day():
    with pytest.raises(GS1Error, match=r"^\(7007\) 250300 is not a valid date"):
        parse_date("7007", "250300")


def test_february_29_only_in_leap_years():
    validate([("01", GTIN), ("17", "280229")])
    with pytest.raises(GS1Error, match="not a valid date"):
        validate([("01", GTIN), ("17", "270229")])


@pytest.mark.parametrize("yymmdd, year", [("760101", 2076), ("770101", 1977), ("260101", 2026),
                                          ("000101", 2000), ("990101", 1999)])
def test_century_rule_places_year_within_minus_49_plus_50(yymmdd, year):
    assert parse_date("17", yymmdd, today=datetime.date(2026, 6, 1)).year == year


def test_parse_date_of_a_non_date_ai_is_an_error():
    with pytest.raises(GS1Error, match=r"^\(10\) is not a date AI$"):
        parse_date("10", "260101")


def test_serial_needs_gtin():
    with pytest.raises(GS1Error, match=r"^\(21\) needs \(01\)"):
        validate([("21", "XYZ")])


def test_serial_with_itip_is_valid():
    validate([("8006", "095060001343520102"), ("21", "XYZ")])


def test_batch_needs_a_trade_item():
    with pytest.raises(GS1Error, match=r"^\(10\) needs \(01\), \(02\)"):
        validate([("10", "ABC")])


def test_content_needs_count_and_count_needs_sscc_and_content():
    with pytest.raises(GS1Error, match=r"^\(02\) needs \(37\)$"):
        validate([("00", "006141411234567890"), ("02", GTIN)])
    with pytest.raises(GS1Error, match=r"^\(37\) needs \(00\)\+\(02\) or \(00\)\+\(8026\)$"):
        validate([("02", GTIN), ("37", "10")])
    validate([("00", "006141411234567890"), ("02", GTIN), ("37", "10")])


def test_expiry_needs_a_trade_item():
    with pytest.raises(GS1Error, match=r"^\(17\) needs"):
        validate([("17", "261231")])


def test_gtin_and_content_gtin_are_mutually_exclusive():
    with pytest.raises(GS1Error, match=r"cannot be used with"):
        validate([("01", GTIN), ("02", GTIN), ("37", "1"), ("00", "006141411234567890")])


def test_two_decimal_positions_of_one_measure_are_exclusive():
    with pytest.raises(GS1Error, match=r"^\(3100\) cannot be used with \(3102\)$"):
        validate([("01", GTIN), ("3100", "000100"), ("3102", "010000")])


def test_repeated_ai_with_different_values_is_an_error():
    with pytest.raises(GS1Error, match=r"^\(10\) appears more than once with different values"):
        validate([("01", GTIN), ("10", "A"), ("10", "B")])


def test_repeated_ai_with_the_same_value_is_allowed():
    validate([("01", GTIN), ("10", "A"), ("10", "A")])


def test_itip_piece_must_not_exceed_total():
    with pytest.raises(GS1Error, match=r"^\(8006\) piece 03 of total 02"):
        validate([("8006", "095060001343520302")])


def test_bad_input_types_are_gs1_errors():
    for bad in [None, "0101", [("01",)], [(1, "x")], []]:
        with pytest.raises(GS1Error):
            validate(bad)


def test_bracketed_text_with_escaped_parenthesis():
    assert parse_bracketed(r"(01)09506000134352(10)AB\(C") == [("01", GTIN), ("10", "AB(C")]


@pytest.mark.parametrize("text", ["", "01123", "(01", "()1", "(01)", "(1A)1", "(01)0950600013435"])
def test_malformed_bracketed_text_is_a_gs1_error(text):
    with pytest.raises(GS1Error):
        parse_bracketed(text)


def test_character_set_checks_agree_with_the_sets_for_every_character():
    from serialtrace.gs1 import CSET39, CSET82, is_cset39, is_cset82

    for code in range(0x250):
        c = chr(code)
        assert is_cset82(c) == (c in CSET82) and is_cset39(c) == (c in CSET39), repr(c)
    assert is_cset82("") and is_cset82("AB-12") and not is_cset82("AB\n") and not is_cset39("ab")
