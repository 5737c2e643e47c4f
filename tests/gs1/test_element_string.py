"""Element strings: parsing scanned data and building it back."""

import pytest

from serialtrace.gs1 import (
    FNC1,
    GS,
    GS1Error,
    build_bracketed,
    build_element_string,
    build_fnc1_data,
    fit_gs1_128,
    fits_gs1_128,
    gs1_128_length,
    parse_bracketed,
    parse_element_string,
)

LABEL = "0109506000134352" + "17261231" + "10ABC123" + GS + "21XYZ"


def test_parse_element_string_returns_pairs_in_scan_order():
    assert parse_element_string(LABEL) == [
        ("01", "09506000134352"), ("17", "261231"), ("10", "ABC123"), ("21", "XYZ")]


def test_build_element_string_round_trips_a_label():
    assert build_element_string(parse_element_string(LABEL)) == LABEL


def test_wrong_check_digit_names_ai_and_expected_digit():
    with pytest.raises(GS1Error, match=r"^\(01\) check digit is 5, expected 2$"):
        parse_element_string("0109506000134355")


def test_scanner_stand_ins_act_as_separators():
    data = "0109506000134352" + "10ABC^21XYZ"
    assert parse_element_string(data, separators="\x1d^~|") == [
        ("01", "09506000134352"), ("10", "ABC"), ("21", "XYZ")]


def test_leading_and_trailing_separators_are_tolerated():
    assert parse_element_string(GS + "0109506000134352" + GS) == [("01", "09506000134352")]


def test_variable_ai_without_separator_swallows_the_rest():
    with pytest.raises(GS1Error, match=r"^\(10\) is 21 characters, at most 20$"):
        parse_element_string("0109506000134352" + "10ABC21XYZXYZXYZXYZXYZX")


def test_unknown_ai_is_named_with_its_position():
    with pytest.raises(GS1Error, match=r"^unknown AI at position 16: data starts '8912'$"):
        parse_element_string("0109506000134352" + "891234")


def test_empty_data_is_an_error():
    for data in ["", GS]:
        with pytest.raises(GS1Error, match="no GS1 data"):
            parse_element_string(data)


def test_non_text_is_a_gs1_error():
    with pytest.raises(GS1Error):
        parse_element_string(b"0109506000134352")


def test_builder_puts_fixed_length_ais_first_and_one_variable_ai_last():
    pairs = [("10", "ABC"), ("21", "XYZ"), ("01", "09506000134352"), ("11", "260101")]
    assert build_element_string(pairs) == "0109506000134352" + "11260101" + "10ABC" + GS + "21XYZ"


def test_builder_keeps_order_when_asked():
    pairs = [("10", "ABC"), ("01", "09506000134352")]
    assert build_element_string(pairs, reorder=False) == "10ABC" + GS + "0109506000134352"


def test_builder_validates_its_input():
    with pytest.raises(GS1Error, match=r"^\(21\) needs \(01\)"):
        build_element_string([("21", "XYZ")])


def test_fnc1_data_starts_with_fnc1_and_uses_it_as_separator():
    pairs = [("01", "09506000134352"), ("10", "ABC"), ("21", "XYZ")]
    assert build_fnc1_data(pairs) == FNC1 + "0109506000134352" + "10ABC" + FNC1 + "21XYZ"


def test_bracketed_text_keeps_order_by_default():
    pairs = [("21", "XYZ"), ("01", "09506000134352")]
    assert build_bracketed(pairs) == "(21)XYZ(01)09506000134352"
    assert build_bracketed(pairs, reorder=True) == "(01)09506000134352(21)XYZ"


def test_bracketed_text_escapes_parenthesis_and_round_trips():
    pairs = [("01", "09506000134352"), ("10", "A(B")]
    assert parse_bracketed(build_bracketed(pairs)) == pairs
    assert build_bracketed(pairs, escape=False) == "(01)09506000134352(10)A(B"


LONG_LABEL = [("01", "09506000134352"), ("11", "260101"), ("17", "281231"),
              ("10", "B2026-01"), ("21", "SN1234567")]


def test_gs1_128_length_counts_ais_values_and_separators():
    assert gs1_128_length(LONG_LABEL) == 16 + 8 + 8 + 10 + 1 + 11
    assert not fits_gs1_128(LONG_LABEL)


def test_fit_gs1_128_drops_production_date_first():
    fitted = fit_gs1_128(LONG_LABEL)
    assert [ai for ai, _ in fitted] == ["01", "17", "10", "21"]
    assert fits_gs1_128(fitted)


def test_fit_gs1_128_keeps_data_that_fits():
    pairs = [("01", "09506000134352"), ("11", "260101"), ("21", "1")]
    assert fit_gs1_128(pairs) == pairs


def test_fit_gs1_128_names_the_limit_when_nothing_helps():
    pairs = [("01", "09506000134352"), ("11", "260101"), ("10", "B" * 20), ("21", "S" * 20)]
    with pytest.raises(GS1Error, match=r"^data is 61 characters, GS1-128 holds at most 48"):
        fit_gs1_128(pairs)


def test_remembered_values_do_not_let_a_wrong_check_digit_through():
    from serialtrace.gs1 import GS1Error, parse_element_string

    good = "0109506000134352"
    for _ in range(2):  # the second reading takes the remembered-value path
        assert parse_element_string(good) == [("01", "09506000134352")]
    with pytest.raises(GS1Error, match="check digit"):
        parse_element_string("0109506000134353")
