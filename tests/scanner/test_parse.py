"""parse_scan: AIM identifiers, GS1 data in every form, EAN/UPC, plain codes, and clear errors."""

from __future__ import annotations

import json
import re

import pytest

from serialtrace.scanner import ParsedScan, ScanError, ScannerProfile, parse_scan

from tests.paths import GS1_VECTORS

GS = "\x1d"


def test_gs1_datamatrix_with_separator():
    scan = parse_scan("]d2010950600013435221ABC123" + GS + "10LOT1")
    assert scan.kind == "gs1" and scan.symbology_id == "]d2" and scan.symbology == "DataMatrix"
    assert list(scan.ai.items()) == [("01", "09506000134352"), ("21", "ABC123"), ("10", "LOT1")]
    assert (scan.gtin, scan.serial, scan.batch) == ("09506000134352", "ABC123", "LOT1")
    assert not scan.ambiguous and scan.alternatives == ()
    assert scan.to_dict()["ai"] == {"01": "09506000134352", "21": "ABC123", "10": "LOT1"}


@pytest.mark.parametrize("stand_in", ["^", "~", "|", "\u2194"])
def test_separator_stand_ins_are_read_as_gs(stand_in):
    scan = parse_scan(f"]C1010950600013435210LOT1{stand_in}21SN9")
    assert dict(scan.ai) == {"01": "09506000134352", "10": "LOT1", "21": "SN9"}


def test_configured_stand_in_from_the_profile():
    profile = ScannerProfile(separator="#")
    scan = parse_scan("]C1010950600013435210LOT1#21SN9", profile=profile)
    assert scan.serial == "SN9"


def test_missing_separator_with_two_valid_splits_is_ambiguous():
    scan = parse_scan("]C1010950600013435210ABC21XYZ")
    assert scan.ambiguous
    readings = [dict(scan.ai)] + [dict(a) for a in scan.alternatives]
    assert {"01": "09506000134352", "10": "ABC21XYZ"} in readings
    assert {"01": "09506000134352", "10": "ABC", "21": "XYZ"} in readings


def test_missing_separator_with_one_valid_split_is_not_ambiguous():
    # (10) up to 20 characters cannot hold all of this, so only one split validates.
    scan = parse_scan("]C10109506000134352" + "10ABCDEFGHIJKLMNOPQRST" + "21SN1")
    assert not scan.ambiguous
    assert dict(scan.ai) == {"01": "09506000134352", "10": "ABCDEFGHIJKLMNOPQRST", "21": "SN1"}


def test_profile_that_sends_gs_means_no_guessing():
    scan = parse_scan("]C1010950600013435210ABC21XYZ", profile=ScannerProfile())
    assert not scan.ambiguous and scan.batch == "ABC21XYZ"


def test_bracketed_and_leading_fnc1_forms():
    assert parse_scan("(01)09506000134352(21)X1").serial == "X1"
    assert parse_scan(GS + "010950600013435221X1").serial == "X1"
    assert parse_scan("^010950600013435221X1^10B").batch == "B"


def test_gs1_data_without_identifier_is_recognised_by_its_gtin():
    scan = parse_scan("0109506000134352" + "21SN77")
    assert scan.kind == "gs1" and scan.serial == "SN77"


def test_digital_link_on_any_domain_with_a_path_prefix():
    scan = parse_scan("https://scan.example.com/products/01/09506000134352/10/AB/21/12?17=270131")
    assert scan.kind == "digital_link"
    assert dict(scan.ai) == {"01": "09506000134352", "10": "AB", "21": "12", "17": "270131"}


def test_other_urls_are_urls():
    assert parse_scan("https://example.com/about").kind == "url"


def test_broken_digital_link_is_an_error():
    with pytest.raises(ScanError, match=r"\(01\)"):
        parse_scan("https://example.com/01/09506000134353/21/X")


@pytest.mark.parametrize(
    ("raw", "kind", "gtin"),
    [
        ("4006381333931", "ean", "04006381333931"),
        ("]E04006381333931", "ean", "04006381333931"),
        ("036000291452", "upc", "00036000291452"),
        ("]E402345673", "ean", "00000002345673"),
    ],
)
def test_ean_and_upc(raw, kind, gtin):
    scan = parse_scan(raw)
    assert (scan.kind, scan.gtin, scan.ai) == (kind, gtin, {})


def test_ean_with_wrong_check_digit_under_its_identifier_is_an_error():
    with pytest.raises(ScanError, match="check digit.*expected 1"):
        parse_scan("]E04006381333932")


def test_plain_codes_and_wedge_noise():
    scan = parse_scan("SN-000123\r\n")
    assert (scan.kind, scan.text, scan.ai, scan.symbology_id) == ("plain", "SN-000123", {}, None)
    assert parse_scan("]C0SN-1").symbology_id == "]C0"
    assert parse_scan("4006381333932").kind == "plain"  # no identifier and a bad check digit


@pytest.mark.parametrize(
    ("raw", "part", "rule"),
    [
        ("]C1010950600013435321X", "(01)", "check digit"),
        ("]d2010950600013435217261332", "(17)", "not a valid date"),
        ("]C121X", "(21)", "needs"),
        ("]Q3010950600013435210AB#C", "(10)", "not in character set 82"),
    ],
)
def test_invalid_gs1_names_the_ai_and_the_rule(raw, part, rule):
    with pytest.raises(ScanError, match=rule) as info:
        parse_scan(raw)
    assert info.value.part == part and part in str(info.value)
    assert isinstance(info.value, ValueError)
    assert type(info.value.__cause__).__name__ == "GS1Error"


@pytest.mark.parametrize("raw", ["", "   ", "\r\n", "]C1", 42, None])
def test_empty_or_non_text_scan_is_an_error(raw):
    with pytest.raises(ScanError):
        parse_scan(raw)


def test_russian_layout_is_undone():
    scan = parse_scan("ЫТ123")
    assert scan.text == "SN123" and "keyboard layout mix-up undone" in scan.notes
    scan = parse_scan("ъС1010950600013435210ДЩЕ1:21ЫТ9")
    assert scan.symbology_id == "]C1" and (scan.batch, scan.serial) == ("LOT1", "SN9")


def test_parsed_scan_is_frozen():
    scan = parse_scan("SN1")
    with pytest.raises(AttributeError):
        scan.kind = "gs1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        scan.ai["01"] = "x"  # type: ignore[index]
    assert isinstance(scan, ParsedScan)


# --- the GS1 Syntax Engine vectors, replayed through parse_scan -------------------------------

def _vectors(test: str) -> list[dict]:
    with open(GS1_VECTORS, encoding="utf-8") as handle:
        data = json.load(handle)["vectors"]
    return [v for v in data if v["test"] == test and not v.get("context")]


def _pairs(unbracketed: str) -> list[tuple[str, str]]:
    from serialtrace import gs1

    return gs1.parse_element_string(unbracketed.lstrip("^"), separators="^", associations=False)


def _association_only(exc: ScanError) -> bool:
    # The engine's unit tests for these vectors run without the association rules; we don't.
    return "needs" in str(exc) or "cannot be used with" in str(exc)


@pytest.mark.parametrize("v", _vectors("test_testProcessScanData"), ids=lambda v: repr(v["scan_data"])[:40])
def test_engine_scan_data_vector(v):
    raw = v["scan_data"]
    gs1_marked = raw[:3] in ("]C1", "]d2", "]Q3", "]e0", "]J1") or raw[:2] == "]E"
    if v["should_succeed"]:
        if v["expected_data_str"] == "":
            with pytest.raises(ScanError, match="empty"):
                parse_scan(raw)
            return
        scan = parse_scan(raw)
        expected = v["expected_data_str"]
        if expected.startswith("^"):
            assert list(scan.ai.items()) == _pairs(expected)
        elif "|^" in expected:
            main, composite = expected.split("|", 1)
            assert scan.text == main and list(scan.ai.items()) == _pairs(composite)
        elif scan.kind == "digital_link":
            assert scan.text.lower() == expected.lower()
        else:
            # The engine writes a leading "^" or "\\" of non-GS1 data escaped with a backslash.
            data = expected[1:] if expected.startswith("\\") else expected
            assert scan.kind in ("plain", "ean") and scan.text == data
    elif gs1_marked:
        with pytest.raises(ScanError):
            parse_scan(raw)
    else:
        # Not GS1-marked: for a station that is a plain code (or URL), or an empty scan.
        try:
            assert parse_scan(raw).kind in ("plain", "url")
        except ScanError as exc:
            assert "empty" in str(exc)


@pytest.mark.parametrize("v", _vectors("test_processAIdata"), ids=lambda v: repr(v["unbracketed_input"])[:40])
def test_engine_element_string_vector(v):
    raw = v["unbracketed_input"]
    if raw in ("", "991234"):
        pytest.skip("not GS1 data at all: a station reads these as empty / plain")
    try:
        scan = parse_scan(raw, profile=ScannerProfile(separator="^"))
    except ScanError as exc:
        assert not v["should_succeed"] or _association_only(exc), str(exc)
        return
    assert v["should_succeed"], f"accepted {dict(scan.ai)}"
    assert list(scan.ai.items()) == _pairs(raw)


@pytest.mark.parametrize("v", _vectors("test_parseAIdata"), ids=lambda v: v["bracketed_input"][:40])
def test_engine_bracketed_vector(v):
    if not re.match(r"\(\d{2,4}\)", v["bracketed_input"]):
        # Not bracketed GS1 data at all: a station reads it as a plain code.
        assert parse_scan(v["bracketed_input"]).kind == "plain"
        return
    try:
        scan = parse_scan(v["bracketed_input"])
    except ScanError as exc:
        assert not v["should_succeed"] or _association_only(exc), str(exc)
        return
    assert v["should_succeed"]
    assert list(scan.ai.items()) == _pairs(v["expected_unbracketed"])


@pytest.mark.parametrize("v", _vectors("test_parseDLuri"), ids=lambda v: v["dl_uri"][:50])
def test_engine_digital_link_vector(v):
    from serialtrace import gs1

    uri = v["dl_uri"]
    if not uri.lower().startswith(("http://", "https://")):
        pytest.skip("not a web URI: a station reads it as a plain code")
    try:
        expected = gs1.parse_digital_link(uri[: uri.index("://")].lower() + uri[uri.index("://") :])
    except gs1.GS1Error:
        expected = None
    if v["should_succeed"]:
        assert expected == _pairs(v["expected_unbracketed"])
    try:
        scan = parse_scan(uri)
    except ScanError:
        assert expected is None
        return
    # Policy differences from the engine (convenience alphas, short GTINs) are gs1's to own;
    # parse_scan must agree with gs1 on every URI.
    if expected is None:
        assert scan.kind == "url"
    else:
        assert scan.kind == "digital_link" and list(scan.ai.items()) == expected
