"""AIs of the GS1 General Specifications beyond the common ones: format and content checks."""

import pytest

from serialtrace.gs1 import AI_TABLE, GS1Error, parse_bracketed, parse_date, parse_element_string

GTIN = "09506000134352"
SSCC = "106141411234567897"


@pytest.mark.parametrize("ai", [
    "03", "235", "3910", "3939", "423", "425", "427", "4300", "4309", "4333", "7001", "7011",
    "7030", "7039", "7040", "7041", "716", "717", "7230", "7239", "7250", "7259", "8001", "8002",
    "8007", "8008", "8009", "8012", "8013", "8014", "8026", "8040", "8043", "8110", "8112", "8200",
])
def test_ai_is_known(ai):
    assert AI_TABLE[ai].ai == ai


def test_titles_of_numbered_ranges():
    assert AI_TABLE["7030"].title == "PROCESSOR # 0"
    assert AI_TABLE["7239"].title == "CERT # 10"


def test_separator_rule_follows_the_first_two_digits():
    for ai, spec in AI_TABLE.items():
        assert spec.separator_required == (ai[:2] not in ("00", "01", "02", "03", "04", "11", "12",
                                                          "13", "14", "15", "16", "17", "18", "19",
                                                          "20", "31", "32", "33", "34", "35", "36",
                                                          "41"))


@pytest.mark.parametrize("value, ok", [
    ("528", True), ("528040", True), ("528040276250840", True), ("5280", False),
    ("528040276250840056", False), ("999", False), ("528999", False),
])
def test_country_list(value, ok):
    data = [("01", GTIN), ("423", value)]
    text = "".join(f"({a}){v}" for a, v in data)
    if ok:
        assert parse_bracketed(text) == data
    else:
        with pytest.raises(GS1Error, match=r"\(423\)"):
            parse_bracketed(text)


def test_country_of_origin_and_processors():
    parse_bracketed(f"(01){GTIN}(422)276(7030)999ABC")
    with pytest.raises(GS1Error, match="ISO 3166"):
        parse_bracketed(f"(01){GTIN}(422)277")
    with pytest.raises(GS1Error, match="cannot be used with"):
        parse_bracketed(f"(01){GTIN}(422)276(426)276")


def test_currency_amounts():
    assert parse_element_string(f"01{GTIN}3103001250\x1d3932978599\x1d10AB") == [
        ("01", GTIN), ("3103", "001250"), ("3932", "978599"), ("10", "AB")]
    with pytest.raises(GS1Error, match="ISO 4217"):
        parse_bracketed(f"(01){GTIN}(3103)001250(3932)000599")
    with pytest.raises(GS1Error, match=r"\(3912\) needs \(8020\)"):
        parse_bracketed(f"(01){GTIN}(3912)978123")


def test_logistics_ais():
    parse_bracketed(f"(00){SSCC}(4307)NL(4309)02790858483015297971(4321)1(4324)2501000830(4330)000350-")
    for bad, rule in [("(4307)XX", "alpha-2"), ("(4309)18000000013600000000", "latitude"),
                      ("(4321)2", "0 \\(no\\)"), ("(4324)2501002460", "hour"),
                      ("(4330)000350+", "hyphens"), ("(4302)A%2", "percent")]:
        with pytest.raises(GS1Error, match=rule):
            parse_bracketed(f"(00){SSCC}{bad}")
    with pytest.raises(GS1Error, match=r"\(4300\) needs \(00\)"):
        parse_bracketed(f"(01){GTIN}(4300)ACME")


def test_dimensions_and_production_time():
    assert parse_element_string(f"800112341234512398\x1d01{GTIN}") == [
        ("8001", "12341234512398"), ("01", GTIN)]
    with pytest.raises(GS1Error, match="zero"):
        parse_bracketed(f"(01){GTIN}(8001)00001234512398")
    with pytest.raises(GS1Error, match="winding"):
        parse_bracketed(f"(01){GTIN}(8001)12341234512338")
    parse_bracketed(f"(01){GTIN}(8008)2501011230")
    with pytest.raises(GS1Error, match="minute"):
        parse_bracketed(f"(01){GTIN}(8008)2501011260")
    assert parse_date("8008", "250131").day == 31


def test_day_00_only_where_allowed():
    parse_bracketed(f"(00){SSCC}(4324)2501000830")  # YYMMD0
    with pytest.raises(GS1Error, match="not a valid date"):
        parse_bracketed(f"(00){SSCC}(4326)250100")  # YYMMDD
    with pytest.raises(GS1Error, match="not a valid date"):
        parse_bracketed(f"(01){GTIN}(7006)250100")


def test_person_ais():
    gsrn = "950600013435252007"
    parse_bracketed(f"(8018){gsrn}(7250)20240229(7252)2(7258)1/2(7259)A")
    for bad, rule in [("(7250)20250229", "YYYYMMDD"), ("(7252)3", "5218"),
                      ("(7258)2/1(7259)A", "past the total")]:
        with pytest.raises(GS1Error, match=rule):
            parse_bracketed(f"(8018){gsrn}{bad}")
    with pytest.raises(GS1Error, match="cannot be used with"):
        parse_bracketed(f"(8018){gsrn}(7250)20240229(7251)202402291200")


def test_iban_and_model_number():
    parse_bracketed("(415)9506000134352(8020)INV1(8007)DE91100000000123456789")
    with pytest.raises(GS1Error, match="check number"):
        parse_bracketed("(415)9506000134352(8020)INV1(8007)DE91100000000123456788")
    parse_bracketed("(8013)1987654Ad4X4bL5ttr2310c2K")
    with pytest.raises(GS1Error, match="check character pair"):
        parse_bracketed("(8013)1987654Ad4X4bL5ttr2310c2L")
    parse_bracketed(f"(01){GTIN}(8014)1987654Ad4X4bL5ttr2310c2K")
    with pytest.raises(GS1Error, match="not a digit"):
        parse_bracketed(f"(01){GTIN}(8014)1000000123")  # right pair, but digits only
