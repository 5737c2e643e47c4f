"""Replay of the GS1 Barcode Syntax Engine linter vectors through our component checks."""

import json

import pytest

from serialtrace.gs1 import GS1Error
from serialtrace.gs1 import linters as L

from tests.paths import GS1_VECTORS

# Engine linter name -> our check. Linters we do not implement (couponcode, couponposoffer,
# packagetype, gcppos1/2) are not replayed.
CHECKS = {
    "iso3166": L.iso3166, "iso3166999": L.iso3166_or_999, "iso3166alpha2": L.iso3166_alpha2,
    "iso4217": L.iso4217, "nonzero": L.nonzero, "winding": L.winding, "yesno": L.yesno,
    "iso5218": L.iso5218, "hh": L.hour, "mi": L.minute, "ss": L.second, "hhmi": L.hhmi,
    "yyyymmdd": L.yyyymmdd, "latitude": L.latitude, "longitude": L.longitude,
    "hyphen": L.hyphen, "pcenc": L.percent_encoded, "hasnondigit": L.has_non_digit,
    "mediatype": L.media_type, "importeridx": L.importer_index,
    "posinseqslash": L.position_in_sequence, "iban": L.iban, "csumalpha": L.csum_alpha,
}


def _load():
    # The vectors are in the repository (tests/data/MANIFEST.sha256): a missing file fails collection.
    return [v for v in json.loads(GS1_VECTORS.read_text())["vectors"]
            if v["test"] == "linter" and v["linter"] in CHECKS]


_ALL = _load()


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_linter_vectors(name):
    vectors = [v for v in _ALL if v["linter"] == name]
    assert vectors, f"no engine vectors for linter {name}"
    wrong = []
    for v in vectors:
        try:
            CHECKS[name]("9999", v["input"])
            ok = True
        except GS1Error:
            ok = False
        if ok != v["should_succeed"]:
            wrong.append(v["input"])
    assert not wrong, f"{len(wrong)} of {len(vectors)} disagree: {wrong[:10]}"
