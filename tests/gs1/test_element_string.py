"""Element strings: parsing scanned data and building it back."""

import pytest

from serialtrace.gs1 import GS, GS1Error, build_element_string, parse_element_string

LABEL = "0109506000134352" + "17261231" + "10ABC123" + GS + "21XYZ"


def test_parse_element_string_returns_pairs_in_scan_order():
    assert parse_element_string(LABEL) == [
        ("01", "09506000134352"), ("17", "261231"), ("10", "ABC123"), ("21", "XYZ")]


def test_build_element_string_round_trips_a_label():
    assert build_element_string(parse_element_string(LABEL)) == LABEL


def test_wrong_check_digit_names_ai_and_expected_digit():
    with pytest.raises(GS1Error, match=r"^\(01\) check digit is 5, expected 2$"):
        parse_element_string("0109506000134355")
