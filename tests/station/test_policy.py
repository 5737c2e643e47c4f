"""Station rules without a database: names, profiles and the search term after a miss."""

from __future__ import annotations

import pytest

from serialtrace.errors import ValidationError
from serialtrace.scanner import ScannerProfile
from serialtrace.station import policy


def test_a_saved_profile_round_trips_through_the_stored_dict():
    profile = ScannerProfile(prefix="#", suffix="!", separator="^", layout="ru")
    assert policy.profile_from_dict(policy.profile_dict(profile)) == profile


def test_no_profile_or_one_with_an_unknown_layout_scans_without_a_profile():
    assert policy.profile_from_dict(None) is None and policy.profile_from_dict({}) is None
    assert policy.profile_from_dict({"separator": "^", "layout": "dvorak"}) is None


def test_decoded_sources_use_the_decoder_profile_whatever_the_station_saved():
    saved = {"prefix": "#", "separator": "^"}
    assert policy.scan_profile("image", saved) is policy.DECODED_PROFILE
    assert policy.scan_profile("camera", saved) is policy.DECODED_PROFILE
    assert policy.scan_profile("typed", saved) == ScannerProfile(prefix="#", separator="^")


def test_station_names_are_trimmed_and_limited():
    assert policy.ensure_station_name("  desk-1 ") == "desk-1"
    assert policy.station_key("  " + "d" * 70) == "d" * 64 and policy.station_key(None) == ""
    with pytest.raises(ValidationError, match="at most 64 characters"):
        policy.ensure_station_name("d" * 65)


def test_the_search_term_after_a_miss_is_what_was_read():
    assert policy.search_term({"code": "]C1...", "parsed": {"serial": "SN1", "batch": "B1"}}) == "SN1"
    assert policy.search_term({"code": "x", "parsed": {"batch": "B1"}}) == "B1"
    assert policy.search_term({"code": "raw", "parsed": None}) == "raw"
