"""GS1 Digital Link URIs: parsing any domain and prefix, building in path order."""

import pytest

from serialtrace.gs1 import GS1Error, build_digital_link, check_digit, parse_digital_link

GTIN = "09506000134352"


def test_any_domain_and_path_prefix_with_qualifiers_and_query():
    uri = f"https://example.com/some/prefix/01/{GTIN}/10/ABC/21/123?17=261231"
    assert parse_digital_link(uri) == [("01", GTIN), ("10", "ABC"), ("21", "123"), ("17", "261231")]


def test_short_names_stand_for_the_ais():
    assert parse_digital_link(f"https://a.example/gtin/{GTIN}/lot/B1/ser/S1") == [
        ("01", GTIN), ("10", "B1"), ("21", "S1")]


@pytest.mark.parametrize("body", ["9506000", "95060001343", "950600013435"])
def test_short_gtins_are_padded_to_14_digits(body):
    short = body + check_digit(body)
    assert parse_digital_link(f"https://a.example/01/{short}") == [("01", short.zfill(14))]


def test_percent_encoding_is_decoded():
    assert parse_digital_link(f"https://a.example/01/{GTIN}/21/A%2FB%2B?17=261231")[1] == ("21", "A/B+")


def test_qualifiers_out_of_order_are_an_error():
    with pytest.raises(GS1Error, match="not a valid key qualifier path"):
        parse_digital_link(f"https://a.example/01/{GTIN}/21/S1/10/B1")


def test_qualifier_in_query_belongs_in_the_path():
    with pytest.raises(GS1Error, match=r"^\(10\) is a key qualifier of \(01\)"):
        parse_digital_link(f"https://a.example/01/{GTIN}?10=B1")


@pytest.mark.parametrize("uri", ["", "ftp://a/01/" + GTIN, "https://a", "https://a/01/x",
                                 f"https://a/01/{GTIN}/", f"https://a/01/{GTIN}?99=a b",
                                 f"https://a/01/{GTIN}?999=1", f"https://a/01/{GTIN}?17=250231"])
def test_bad_uris_are_gs1_errors(uri):
    with pytest.raises(GS1Error):
        parse_digital_link(uri)


def test_build_orders_path_key_22_10_21_and_queries_the_rest():
    pairs = [("21", "S1"), ("17", "261231"), ("10", "B1"), ("01", GTIN), ("22", "V")]
    assert build_digital_link(pairs, domain="https://example.com/") == (
        f"https://example.com/01/{GTIN}/22/V/10/B1/21/S1?17=261231")


def test_build_percent_encodes_values():
    assert build_digital_link([("01", GTIN), ("21", "A/B+")]).endswith("/21/A%2FB%2B")


def test_build_without_a_primary_key_is_an_error():
    with pytest.raises(GS1Error, match="primary key"):
        build_digital_link([("90", "X")])


def test_build_and_parse_round_trip():
    pairs = [("01", GTIN), ("10", "B-1/2"), ("21", "S(1)"), ("17", "261200")]
    assert parse_digital_link(build_digital_link(pairs)) == pairs


def _outcome(uri):
    try:
        return parse_digital_link(uri)
    except GS1Error as exc:
        return str(exc)


@pytest.mark.parametrize(
    "path",
    [
        f"/01/{GTIN}", f"/01/{GTIN}/21/S1", f"/01/{GTIN}/10/L-1.2/21/a:b@c", f"/01/{GTIN}/10/LOT",
        "/01/09506000134353/21/S1", f"/01/{GTIN}/21/" + "S" * 21, f"/01/{GTIN}/21/a~b",
        f"/01/{GTIN}/21/a$b", f"/01/{GTIN}/10/" + "L" * 21,
    ],
)
@pytest.mark.parametrize("origin", ["https://id.example.com", "HTTP://a.example:8080"])
def test_the_common_shape_reads_as_the_full_parser_does(origin, path):
    # A fragment is ignored by the full parser and keeps the URI off the one-regex path.
    assert _outcome(origin + path) == _outcome(origin + path + "#x")
