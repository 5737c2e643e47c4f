"""parse_scan in bounded time: hostile payloads, the length cap, the work and time budget, non-ASCII digits."""

from __future__ import annotations

import gc
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialtrace import gs1
from serialtrace.scanner import ParsedScan, ScanError, parse_scan
from serialtrace.scanner.parse import MAX_SCAN_LENGTH

GS = "\x1d"
GTIN = "09506000134352"
# CPU time of the calling thread, so a loaded machine does not make the bound flaky; the
# slowest input the property test generates takes a few milliseconds.
BOUND = 0.05


def _timed(raw: str) -> tuple[ParsedScan | ScanError, float]:
    """parse_scan's result or ScanError, and its CPU time without garbage collections of the process.

    A full collection walks every object of the test process and may fall into any call; it
    measures the heap, not the parser.
    """
    collecting = [0.0, 0.0]

    def clock(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[1] = time.thread_time()
        else:
            collecting[0] += time.thread_time() - collecting[1]

    gc.callbacks.append(clock)
    start = time.thread_time()
    try:
        result: ParsedScan | ScanError = parse_scan(raw)
    except ScanError as exc:
        result = exc
    finally:
        took = time.thread_time() - start
        gc.callbacks.remove(clock)
    return result, took - collecting[0]


# --- the payloads that stalled the server ---------------------------------------------------------

@pytest.mark.parametrize("repeats", [30, 32])
def test_gtin_then_repeated_10_is_ambiguous_at_once(repeats):
    # 79 and 83 characters: 18 s and 52 s before the search remembered dead ends.
    scan, took = _timed("]d2" + "01" + GTIN + "10" * repeats)
    assert took < BOUND
    assert isinstance(scan, ParsedScan) and scan.ambiguous and scan.kind == "gs1"
    readings = [dict(scan.ai)] + [dict(a) for a in scan.alternatives]
    assert {"01": GTIN, "10": "10"} in readings  # (10) "10" fifteen or sixteen times


@pytest.mark.parametrize("raw", ["]d2" + "1021" * 14, "]Q3" + "1021" * 14, "]d2" + "21A" * 20, "]C1" + "21A" * 20])
def test_repeated_ai_patterns_without_a_key_are_refused_at_once(raw):
    scan, took = _timed(raw)
    assert took < BOUND
    assert isinstance(scan, ScanError)
    assert scan.part in ("(10)", "(21)") and scan.part in scan.message


def test_element_string_deeper_than_the_recursion_limit_is_read():
    # 7,899 characters, 1,970 elements: RecursionError before (one stack frame per element).
    raw = "]d2" + "01" + GTIN + "2012" * 1970
    assert len(raw) == 7899
    scan, took = _timed(raw)
    assert took < BOUND
    assert isinstance(scan, ParsedScan) and dict(scan.ai) == {"01": GTIN, "20": "12"} and not scan.ambiguous


def test_splits_of_more_elements_than_the_recursion_limit_need_no_recursion():
    elements = sys.getrecursionlimit() + 100
    readings = gs1.split_readings("01" + GTIN + "2012" * elements, limit=8)
    assert len(readings) == 1 and len(readings[0]) == elements + 1
    assert set(readings[0]) == {("01", GTIN), ("20", "12")}


# --- non-ASCII digits -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "char"),
    [
        ("]E0" + "４６０１２３４５６７８９０", "４"),  # full-width, from an East Asian input method
        ("]E0" + "٤٠٠٦٣٨١٣٣٣٩٣١", "٤"),  # Arabic-Indic
        ("]E4" + "0234567३", "३"),  # Devanagari in the last place
        ("]d2" + "01" + "０９５０６０００１３４３５２", "０"),
        ("]C1" + "0109506000134352" + "17" + "２７０１３１", "２"),
        ("]Q3" + "0109506000134352" + "21" + "SN¹²", "¹"),  # superscripts: isdigit() but not \d
        (GS + "01" + "09506000134352" + "10" + "LOT٣", "٣"),
    ],
)
def test_non_ascii_digits_are_a_scan_error_naming_the_digit(raw, char):
    with pytest.raises(ScanError, match="non-ASCII digit") as info:
        parse_scan(raw)
    assert info.value.part == char and repr(char) in info.value.message
    assert "0-9" in info.value.message


def test_non_ascii_digits_without_a_gs1_identifier_are_a_plain_code():
    # Not announced as GS1 or EAN/UPC: a station treats it as a serial like any other text.
    for raw in ["４００６３８１３３３９３１", "(０１)09506000134352", "٠١٠٩٥٠٦٠٠٠١٣٤٣٥٢"]:
        assert parse_scan(raw).kind == "plain"


def test_digital_link_with_encoded_full_width_digits_is_a_scan_error():
    with pytest.raises(ScanError, match=r"\(01\)"):
        parse_scan("https://id.example.com/01/" + "%EF%BC%90" * 13 + "1")


# --- length cap and budget --------------------------------------------------------------------------

def test_scan_over_the_length_cap_is_refused_with_the_numbers():
    with pytest.raises(ScanError, match=r"scan is 8,001 characters long; at most 8,000") as info:
        parse_scan("A" * (MAX_SCAN_LENGTH + 1))
    assert info.value.details == {"length": MAX_SCAN_LENGTH + 1, "limit": MAX_SCAN_LENGTH}
    assert parse_scan("A" * MAX_SCAN_LENGTH).kind == "plain"


def _tangle(length: int) -> str:
    # Many different AIs that may repeat, each value free to swallow the next ones: the number
    # of consistent splits explodes, so the search runs out of work and says so.
    ais = ["91", "92", "93", "94", "95", "96", "97", "98", "99", "90", "400", "401", "403", "240", "241",
           "7002", "8002", "8004", "8012"]
    unit = "".join(f"{ai}A" for ai in ais)
    return "]d2" + "01" + GTIN + unit * ((length - 19) // len(unit))


def test_data_that_splits_too_many_ways_is_too_complex_not_a_stall():
    raw = _tangle(1556)
    scan, took = _timed(raw)
    assert isinstance(scan, ScanError) and scan.message.startswith("scan too complex to read")
    assert "GS (FNC1)" in scan.message
    assert took < 0.5
    # The limit counts work, not time: the same scan gets the same answer on a busy machine.
    again, _ = _timed(raw)
    assert isinstance(again, ScanError) and again.message == scan.message


def test_the_search_stops_at_its_deadline_and_at_its_work_limit():
    data = _tangle(1556)[3:]
    with pytest.raises(gs1.SearchTooComplex):
        gs1.split_readings(data, limit=8, deadline=time.monotonic() - 1)
    with pytest.raises(gs1.SearchTooComplex):
        gs1.split_readings(data, limit=8, max_work=1000)
    # A real label needs a few dozen units of work.
    assert gs1.split_readings("01" + GTIN + "10ABC21XYZ", limit=8, max_work=100)


# --- random input up to the cap ---------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    ["01", "10", "21", "17", "11", "00", "02", "37", "20", "22", "91", "92", "99", "240", "235", "253", "255",
     "415", "422", "426", "3100", "3101", "3922", "4300", "7003", "7007", "8003", "8006", "8007", "8013",
     "8020", "8026", "8030", GTIN, "250101", "991231", "0", "1", "12", "A", "B", "xY", "%4", "-", "DE89",
     GS, "^", "~", "|", "\u2194", "(", ")", "(01)", "https://id.example.com/01/", "/21/", "?17=",
     "４", "٣", "ЫТ", "\r\n", " "]
)
_AIM = st.sampled_from(["", "", "]C1", "]d2", "]Q3", "]E0", "]E4", "]C0", "]Q1", "]e0", GS, "^"])


@st.composite
def hostile_scans(draw):
    """An AIM prefix, then fragments and runs of fragments up to the length cap."""
    parts = [draw(_AIM)]
    for fragment, times in draw(st.lists(st.tuples(_FRAGMENTS, st.integers(1, 600)), max_size=30)):
        parts.append(fragment * times)
    if draw(st.booleans()):
        parts.append(draw(st.text(max_size=20)))
    return "".join(parts)[: MAX_SCAN_LENGTH + draw(st.sampled_from([0, 0, 0, 1]))]


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_scans())
def test_random_input_up_to_the_cap_is_read_or_refused_in_bounded_time(raw):
    scan, took = _timed(raw)
    assert isinstance(scan, (ParsedScan, ScanError))
    assert took < BOUND, (took, raw[:80])
    if isinstance(scan, ScanError):
        assert scan.message
