"""The loud signal, without a database: green, amber or red for what a scan found, with the reasons in words."""

from __future__ import annotations

import pytest

from serialtrace.station.policy import AMBER, GREEN, RED, scan_signal


def _unit(status="in_warranty", until="2027-03-14", claims=(), batch_status="released"):
    return {"warranty": {"status": status, "until": until}, "claims": list(claims),
            "batch": {"number": "2501A00", "status": batch_status}}


def test_a_unit_in_warranty_with_nothing_open_is_green_saying_until_when():
    signal = scan_signal("unit", _unit())
    assert signal.colour == GREEN
    assert list(signal.reasons) == ["in warranty until 2027-03-14, nothing open"]


@pytest.mark.parametrize(("facts", "reason"), [
    (_unit(status="expired", until="2024-01-31"), "out of warranty since 2024-01-31"),
    (_unit(status="unknown", until=None), "warranty unknown: check the shipment and sale dates"),
    (_unit(status="not_started", until=None), "not shipped or sold yet: the warranty has not started"),
    (_unit(claims=[{"number": "C-1", "state": "triage"}]), "claim C-1 is open (Triage)"),
    (_unit(batch_status="on_hold"), "batch 2501A00 is on hold"),
    (_unit(batch_status="recalled"), "batch 2501A00 is recalled"),
])
def test_a_unit_that_needs_a_look_is_amber_naming_why(facts, reason):
    signal = scan_signal("unit", facts)
    assert signal.colour == AMBER and list(signal.reasons) == [reason]


def test_finished_claims_do_not_make_a_unit_amber_and_every_reason_is_listed():
    closed = [{"number": f"C-{state}", "state": state} for state in ("settled", "billed", "resolved", "closed",
                                                                     "cancelled")]
    assert scan_signal("unit", _unit(claims=closed)).colour == GREEN
    both = scan_signal("claim", _unit(status="expired", until="2024-01-31", batch_status="on_hold",
                                      claims=[{"number": "C-9", "state": "registered"}]))
    assert both.colour == AMBER and list(both.reasons) == [
        "out of warranty since 2024-01-31", "claim C-9 is open (Registered)", "batch 2501A00 is on hold"]


def test_a_warranty_date_is_kept_as_a_date_so_pages_write_it_the_readers_way():
    [reason] = scan_signal("unit", _unit(status="expired", until="2024-01-31")).reasons
    assert reason.msgid == "out of warranty since %(until)s" and reason.params["until"].isoformat() == "2024-01-31"


@pytest.mark.parametrize(("result", "facts", "matched", "colour", "reason"), [
    ("not_found", None, 0, RED, "not found"),
    ("invalid", None, 0, RED, "unreadable scan"),
    ("ambiguous", None, 0, RED, "the scan can be read more than one way and no reading matches"),
    ("ambiguous", None, 2, AMBER, "the scan can be read more than one way; choose the reading that is meant"),
    ("choose", None, 2, AMBER, "several matches; choose one"),
    ("mismatch", None, 1, AMBER, "the label and the unit disagree"),
    ("batch", {"batch": {"number": "B1", "status": "released"}}, 1, GREEN, "batch B1 is released"),
    ("batch", {"batch": {"number": "B1", "status": "on_hold"}}, 1, AMBER, "batch B1 is on hold"),
    ("batch", {"batch": {"number": "B1", "status": "recalled"}}, 1, AMBER, "batch B1 is recalled"),
    ("lot", {}, 1, GREEN, "component lot found"),
    ("product", {}, 1, GREEN, "product found"),
])
def test_each_result_has_its_colour_and_reason(result, facts, matched, colour, reason):
    signal = scan_signal(result, facts, matched=matched)
    assert (signal.colour, list(signal.reasons)) == (colour, [reason])
