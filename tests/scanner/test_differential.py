"""Differential tests: parse_scan against the biip package on generated valid and invalid GS1 data."""

from __future__ import annotations

import biip
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialtrace import gs1
from serialtrace.scanner import ScanError, ScannerProfile, parse_scan

pytestmark = pytest.mark.slow  # thousands of generated cases; `make check` leaves them out

# The generated data carries its separators, like a scanner that transmits GS: no split guessing.
EXACT = ScannerProfile()

GS = "\x1d"
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz0123456789-./"


@st.composite
def gtins(draw, valid=True):
    body = draw(st.text("0123456789", min_size=13, max_size=13))
    check = gs1.check_digit(body)
    if not valid:
        check = str((int(check) + draw(st.integers(1, 9))) % 10)
    return body + check


@st.composite
def dates(draw, valid=True):
    yy = draw(st.integers(0, 99))
    mm = draw(st.integers(1, 12)) if valid else draw(st.sampled_from([0, 13, 19]))
    dd = draw(st.integers(1, 28)) if valid else draw(st.sampled_from([32, 45, 99]))
    if not valid and draw(st.booleans()):
        mm, dd = draw(st.integers(1, 12)), draw(st.sampled_from([32, 40]))
    return f"{yy:02d}{mm:02d}{dd:02d}"


variable = st.text(_LETTERS, min_size=1, max_size=20)


@st.composite
def element_strings(draw):
    """(data, valid, what is broken) for an element string with (01), optional dates, (10) and/or (21)."""
    valid = draw(st.booleans())
    broken = draw(st.sampled_from(["gtin", "date", "charset", "length"])) if not valid else None
    fixed = [("01", draw(gtins(valid=broken != "gtin")))]
    if draw(st.booleans()) or broken == "date":
        fixed.append(("17", draw(dates(valid=broken != "date"))))
    if draw(st.booleans()):
        fixed.append(("11", draw(dates())))
    var = [("10", draw(variable)), ("21", draw(variable))]
    var = draw(st.lists(st.sampled_from(var), min_size=1, max_size=2, unique=True))
    if broken == "charset":
        ai, value = var[0]
        var[0] = (ai, value[:5] + draw(st.sampled_from("#$@[]{}`")) + value[5:])
    if broken == "length":
        ai, value = var[0]
        var[0] = (ai, (value * 21)[:21 + draw(st.integers(0, 5))])
    data = "".join(ai + value for ai, value in fixed)
    data += GS.join(ai + value for ai, value in var)
    return data, valid, broken


def _biip_pairs(scan: str) -> list[tuple[str, str]] | None:
    """biip's reading, or None when biip rejects the data (including check digits and dates)."""
    try:
        result = biip.parse(scan)
    except biip.ParseError:
        return None
    message = result.gs1_message
    if message is None:
        return None
    pairs = []
    for element in message.element_strings:
        if element.gtin_error or element.sscc_error:
            return None
        if element.ai.ai in ("11", "17") and element.date is None:
            return None
        pairs.append((element.ai.ai, element.value))
    return pairs


def _ours(scan: str) -> list[tuple[str, str]] | None:
    try:
        return list(parse_scan(scan, profile=EXACT).ai.items())
    except ScanError:
        return None


@settings(max_examples=1500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(element_strings(), st.sampled_from(["]C1", "]d2", "]Q3"]))
def test_parse_scan_agrees_with_biip(generated, sym_id):
    data, valid, broken = generated
    scan = sym_id + data
    ours, theirs = _ours(scan), _biip_pairs(scan)
    if broken != "length":
        # biip splits an over-long last field where it sees the next AI; GS1 rules reject it.
        assert ours == theirs, (scan, ours, theirs)
    assert (ours is not None) == valid, (scan, ours)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(st.sampled_from("0123456789ABC" + GS), max_size=40), st.sampled_from(["]C1", "]d2"]))
def test_random_gs1_marked_data_never_crashes_and_agrees_when_both_accept(data, sym_id):
    scan = sym_id + data
    ours = _ours(scan)
    theirs = _biip_pairs(scan)
    if ours is not None and theirs is not None and GS in data:
        assert ours == theirs


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_any_text_gives_a_parsed_scan_or_a_scan_error(text):
    try:
        scan = parse_scan(text)
    except ScanError:
        return
    assert scan.kind in {"gs1", "digital_link", "ean", "upc", "url", "iso15434", "plain"}
