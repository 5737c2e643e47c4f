"""split_readings: the same readings, in the same order, as trying every split, without the blow-up."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialtrace import gs1

GTIN = "09506000134352"
GCN = "0950600013439"  # a (255) GCN without its optional serial component


def _every_split(data: str, limit: int = 8) -> list[list[tuple[str, str]]]:
    """The definition: try every split, longest value first, keep those gs1.validate accepts."""
    found: list[list[tuple[str, str]]] = []

    def walk(i: int, pairs: list[tuple[str, str]]) -> None:
        if len(found) >= limit:
            return
        if i == len(data):
            try:
                gs1.validate(pairs)
            except gs1.GS1Error:
                return
            found.append(list(pairs))
            return
        spec = next((gs1.AI_TABLE[data[i:i + k]] for k in (2, 3, 4) if data[i:i + k] in gs1.AI_TABLE), None)
        if spec is None:
            return
        start = i + len(spec.ai)
        if spec.separator_required:
            ends = range(min(len(data), start + spec.max_length), start + spec.min_length - 1, -1)
        else:
            ends = range(start + spec.max_length, start + spec.max_length - 1, -1)
        for end in ends:
            if end > len(data):
                continue
            try:
                gs1.validate([(spec.ai, data[start:end])], associations=False)
            except gs1.GS1Error:
                continue
            pairs.append((spec.ai, data[start:end]))
            walk(end, pairs)
            pairs.pop()

    walk(0, [])
    return found


def test_two_valid_splits_come_longest_value_first():
    assert gs1.split_readings("01" + GTIN + "10ABC21XYZ", limit=8) == [
        [("01", GTIN), ("10", "ABC21XYZ")],
        [("01", GTIN), ("10", "ABC"), ("21", "XYZ")],
    ]


def test_limit_stops_the_search():
    # Short enough for the definition to finish: it takes seconds from about 50 characters.
    data = "01" + GTIN + "10" * 12
    assert len(gs1.split_readings(data, limit=8)) == len(_every_split(data)) == 4
    assert gs1.split_readings(data, limit=2) == _every_split(data, limit=2)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "21A" * 8,  # (21) needs (01), and nothing in the data can be (01)
        "255" + GCN + "21X01" + GTIN,  # (21) needs (01), which (255) excludes; swallowing it leaves (21) alone
        "01" + GTIN + "10A" + "10B",  # (10) twice with different values
        "01" + GTIN + "21S" + "8030" + "QUJD",  # fine: (8030) signs (01)+(21)
        "253" + "1234567890128" + "8030QUJD",  # (8030) needs (253) with its serial component
        "01" + GTIN + "3100000001" + "3101000001",  # (3100) and (3101) exclude each other
    ],
)
def test_rules_between_ais_match_the_definition(data):
    assert gs1.split_readings(data, limit=8) == _every_split(data)


def test_a_repeated_ai_must_repeat_its_value():
    readings = gs1.split_readings("01" + GTIN + "2012" * 3, limit=8)
    assert readings == [[("01", GTIN), ("20", "12"), ("20", "12"), ("20", "12")]]


_PIECES = st.sampled_from(
    ["01", GTIN, "0109506000134352", "10", "21", "17", "11", "250101", "991231", "20", "12", "00", "02", "37",
     "3100", "3101", "3922", "8030", "QUJD", "253", "255", GCN, "8003", "7004", "250", "422", "426", "240", "91",
     "92", "415", "8020", "8006", "8026", "235", "22", "4300", "4307", "DE", "%2", "%41", "8013", "8014", "7040",
     "A", "B", "x", "-", "0", "1", "2", "5", "9"]
)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, min_size=1, max_size=9), st.sampled_from([1, 2, 8]))
def test_readings_equal_those_of_trying_every_split(pieces, limit):
    data = "".join(pieces)[:70]
    assert gs1.split_readings(data, limit=limit) == _every_split(data, limit)


@pytest.mark.parametrize(
    "data",
    [
        "01" + GTIN + "10A21B" * 5,  # a block of two repeated AIs, copied until the data ends
        "01" + GTIN + "10A21B" * 5 + "10A",  # ... and one element of it after the last whole copy
        "01" + GTIN + "91X92Y" * 4 + "91X",
        "9912" * 6 + "91",  # (99) free to swallow its own copies
        "01" + GTIN + "2012" + "3712" * 5 + "2012",  # (37) cannot repeat (20): no reading
        "01" + GTIN + "10" * 16 + "1",
    ],
)
@pytest.mark.parametrize("limit", [1, 8, 100])
def test_forced_runs_of_repeated_elements_match_the_definition(data, limit):
    assert gs1.split_readings(data, limit=limit) == _every_split(data, limit)


def _filled(head: str, unit: str, length: int) -> str:
    return (head + unit * length)[:length]


# The slowest scans the fuzzer found: GS1 data without separators at the 8,000-character cap. Each ran
# the search out of its 10,000 units of work ("too complex to read"); searched to the end they needed
# 16,000 to 187,000 units, because every forced repeat was a step and every value check was redone.
_WORST = [
    _filled("", "991231", 7996),
    _filled("01" + GTIN, "991231", 7995),
    _filled("01" + GTIN, "10", 7996),
    _filled("01" + GTIN, "10", 7995),
    _filled("01" + GTIN, "91", 7997),
    _filled("", "91", 7996),
    _filled("", "304", 7932),
    _filled("", "2012", 7997),
]


@pytest.mark.parametrize("data", _WORST, ids=lambda d: f"{d[:8]}..{len(d)}")
def test_the_worst_data_at_the_length_cap_needs_a_fraction_of_the_work_limit(data):
    # About one unit per position for the table of where elements can start (linear), and a
    # search whose forced runs cost a unit per distinct block, not per element: the whole answer
    # in 8,500 units, the same answer as without a limit.
    unlimited = gs1.split_readings(data, limit=8)
    assert gs1.split_readings(data, limit=8, max_work=8_500) == unlimited
