"""Claim rate by attribute: values against the rest, counted per unit at its first shipment; bad input is a 422."""

from __future__ import annotations

import math
from datetime import date

import pytest

from serialtrace.errors import ValidationError
from serialtrace.quality import compare
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import ShipmentItem
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.enums import ClaimState


def _claim(session, serial: str, state: str | None = None):
    claim = warranty_service.register_claim(session, serial=serial, symptom="no_power", author=None,
                                            today=date(2025, 9, 1)).claim
    if state:
        claim.state = state
    return claim


@pytest.fixture
def wet_cement(session, make_batch):
    """Line 1 (11 units) and Line 2 (12 units): 8 units loaded in rain (4 claimed), 14 dry (1), 1 without weather.

    Rain: shipment S1 (January, DPD) with Line 1 units 0-5 and Line 2 units 0-1; claims on L1 0, 1, 2 and L2 0,
    a draft on L1 3 and a cancelled claim on L1 4 (neither counts). Dry: S2 (July, PEK) with L1 6-9 and L2 2-9,
    claim on L1 6; S3 (August, PEK) with L2 10-11 and L1 unit 0 again (it stays with its first shipment, S1).
    S4 (July, DPD, no attributes): L1 10, claimed.
    """
    _, one = make_batch(quantity=11, number="2501A10", line="Line 1", shift="A")
    _, two = make_batch(quantity=12, number="2501A11", line="Line 2", shift="B")
    customer = trace_service.get_or_create_customer(session, name="Cement Works", tax_id="7701234567")

    def ship(day, carrier, attributes, serials):
        return trace_service.create_shipment(session, customer=customer, shipped_on=day, serials=serials,
                                             carrier=carrier, attributes=attributes, today=date(2025, 9, 1))

    ship(date(2025, 1, 10), "DPD", {"weather": "rain", "truck": "open"}, one[:6] + two[:2])
    ship(date(2025, 7, 10), "PEK", {"weather": "dry"}, one[6:10] + two[2:10])
    s3 = ship(date(2025, 8, 1), "PEK", {"weather": " dry "}, two[10:])
    session.add(ShipmentItem(shipment_id=s3.id, unit_id=_unit_id(session, one[0]), quantity=1))
    ship(date(2025, 7, 20), "DPD", {}, one[10:])
    for serial in (one[0], one[0], one[1], one[2], two[0], one[6], one[10]):
        _claim(session, serial)
    _claim(session, one[3], ClaimState.DRAFT)
    _claim(session, one[4], ClaimState.CANCELLED)
    session.flush()


def _unit_id(session, serial):
    from serialtrace.trace import queries as trace_queries

    return trace_queries.get_unit(session, serial).id


def _rows(result):
    return {r["value"]: r for r in result.rows}


def test_rain_against_dry_by_hand(session, wet_cement):
    result = compare.compare(session, attribute="shipment:weather")
    rows = _rows(result)
    assert list(rows) == ["dry", "rain"]
    assert (rows["rain"]["units"], rows["rain"]["claims"]) == (8, 4)
    assert (rows["dry"]["units"], rows["dry"]["claims"]) == (14, 1)  # " dry " is dry; L1 0's second trip is not
    assert (result.units, result.claims, result.units_without_value) == (22, 5, 1)
    rain = rows["rain"]
    assert rain["rate"] == 0.5 and rain["risk_ratio"] == pytest.approx(7.0)
    # Fisher exact, two-sided, [[4, 4], [1, 13]]: (C(5,4)C(17,4) + C(5,5)C(17,3)) / C(22,8) = 12580 / 319770.
    assert rain["p_value"] == pytest.approx(12580 / 319770, rel=1e-9)
    se = math.sqrt(1 / 4 - 1 / 8 + 1 / 1 - 1 / 14)
    assert rain["rr_ci_low"] == pytest.approx(7 * math.exp(-1.959964 * se), rel=1e-5)
    assert rain["rr_ci_high"] == pytest.approx(7 * math.exp(1.959964 * se), rel=1e-5)
    assert rows["dry"]["risk_ratio"] == pytest.approx(1 / 7)
    # Two values, one p: Benjamini-Hochberg leaves it as it is; 0.039 flags both at q = 0.05, neither at 0.01.
    assert rain["p_adjusted"] == pytest.approx(rain["p_value"]) and rain["flagged"] and rows["dry"]["flagged"]
    assert not any(r["flagged"] for r in compare.compare(session, attribute="weather", q=0.01).rows)


def test_built_in_attributes(session, wet_cement):
    carrier = _rows(compare.compare(session, attribute="carrier"))
    assert {v: (r["units"], r["claims"]) for v, r in carrier.items()} == {"DPD": (9, 5), "PEK": (14, 1)}
    line = _rows(compare.compare(session, attribute="line"))
    assert {v: (r["units"], r["claims"]) for v, r in line.items()} == {"Line 1": (11, 5), "Line 2": (12, 1)}
    shift = _rows(compare.compare(session, attribute="shift"))
    assert {v: (r["units"], r["claims"]) for v, r in shift.items()} == {"A": (11, 5), "B": (12, 1)}
    season = compare.compare(session, attribute="season")
    assert [(r["value"], r["units"], r["claims"]) for r in season.rows] == [("winter", 8, 4), ("summer", 15, 2)]
    # [[5, 4], [1, 13]]: the tables as or less likely than k = 5 of 6 claims in 9 of 23 units, k = 0, 5, 6.
    assert carrier["DPD"]["p_value"] == pytest.approx(14960 / 817190, rel=1e-9)


def test_filters_and_keys(session, wet_cement, make_batch):
    assert compare.attribute_keys(session) == ["truck", "weather"]
    assert compare.available_attributes(session)[-2:] == ["shipment:truck", "shipment:weather"]
    same = compare.compare(session, attribute="weather", filters=compare.CompareFilters(sku="PR-100"))
    assert same.units == 22
    july = compare.compare(session, attribute="carrier", filters=compare.CompareFilters(
        shipped_from=date(2025, 7, 1), shipped_to=date(2025, 7, 31)))
    # L1 0 shipped first in January: outside the range even though its second trip was in August.
    assert {r["value"]: (r["units"], r["claims"]) for r in july.rows} == {"DPD": (1, 1), "PEK": (12, 1)}


@pytest.mark.parametrize(("kwargs", "field", "text"), [
    ({"attribute": "colour"}, "attribute", "unknown attribute"),
    ({"attribute": "shipment:route"}, "attribute", "unknown attribute"),
    ({"attribute": "shipment:truck"}, "attribute", "single value"),
    ({"attribute": "season", "filters": compare.CompareFilters(shipped_to=date(2025, 6, 30))}, "attribute",
     "single value"),
    ({"attribute": "line", "filters": compare.CompareFilters(shipped_from=date(2026, 1, 1))}, "attribute",
     "no shipped unit"),
    ({"attribute": "line", "filters": compare.CompareFilters(sku="NOPE")}, "sku", "no product"),
    ({"attribute": "line", "filters": compare.CompareFilters(shipped_from=date(2025, 2, 1),
                                                             shipped_to=date(2025, 1, 1))}, "shipped_to", "ends"),
    ({"attribute": "line", "q": 1.5}, "q", "q must"),
])
def test_bad_input_is_a_validation_error(session, wet_cement, kwargs, field, text):
    with pytest.raises(ValidationError) as caught:
        compare.compare(session, **kwargs)
    assert caught.value.details == {"field": field} and text in str(caught.value)


def test_no_claims_at_all_compares_nothing_but_still_answers(session, make_batch):
    _, one = make_batch(quantity=2, number="2501A20", line="Line 1")
    _, two = make_batch(quantity=3, number="2501A21", line="Line 2")
    customer = trace_service.get_or_create_customer(session, name="Cement Works", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 1, 10), serials=one + two,
                                  today=date(2025, 9, 1))
    rows = compare.compare(session, attribute="line").rows
    assert [(r["units"], r["claims"], r["risk_ratio"], r["p_value"], r["flagged"]) for r in rows] == [
        (2, 0, None, 1.0, False), (3, 0, None, 1.0, False)]
