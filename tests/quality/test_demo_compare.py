"""On the demo data, the wet-cement story: units of WET_SKU loaded in the rain fail more often than dry ones."""

from __future__ import annotations

import pytest

from serialtrace.demo import WET_SKU
from serialtrace.quality import compare

pytestmark = pytest.mark.slow  # loads the demo data set; `make check` leaves it out


def test_rain_is_flagged_for_the_wet_product(demo):
    with demo.transaction() as s:
        found = compare.compare(s, attribute="shipment:weather", filters=compare.CompareFilters(sku=WET_SKU))
        assert "shipment:weather" in compare.available_attributes(s)
        carriers = compare.compare(s, attribute="carrier")
    rows = {r["value"]: r for r in found.rows}
    assert set(rows) == {"rain", "dry"}
    assert rows["rain"]["flagged"] and rows["rain"]["risk_ratio"] > 2 and rows["rain"]["rate"] > rows["dry"]["rate"]
    assert len(carriers.rows) >= 2 and sum(r["units"] for r in carriers.rows) == carriers.units
