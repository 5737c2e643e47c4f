"""A serial typed at a station whose check character is wrong is called a typo, not just "nothing found"."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.serials import OpaqueDigits, PatternScheme, is_valid_check
from serialtrace.station.models import ScanLog
from serialtrace.station.service import scan_payload
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Unit

CHECKED = OpaqueDigits(secret="test-key", check="damm")
TYPO = "check character wrong: mistyped serial?"


@pytest.fixture
def scheme():
    """Batches get twelve-digit serials whose last digit is a Damm check digit."""
    return CHECKED


def _typo(serial: str) -> str:
    """The serial with its fourth digit typed one higher: same shape, wrong check digit."""
    return serial[:3] + str((int(serial[3]) + 1) % 10) + serial[4:]


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_typed_serial_with_a_wrong_check_digit_is_called_a_typo(session, user, make_batch):
    _, serials = make_batch(3)
    units, logs = _count(session, Unit), _count(session, ScanLog)
    typo = _typo(serials[0])
    answer = scan_payload(session, typo, station="desk", user=user, scheme=CHECKED)
    assert answer["result"] == "not_found" and answer["matches"] == []
    assert answer["message"] == f"nothing found for {typo}: {TYPO}"
    # The scan is logged as any scan that found nothing; nothing else changes.
    assert _count(session, Unit) == units and _count(session, ScanLog) == logs + 1
    assert session.scalars(select(ScanLog).order_by(ScanLog.id.desc())).first().result == "not_found"


def test_the_right_serial_and_other_codes_are_answered_as_before(session, user, make_batch):
    batch, serials = make_batch(2, number="2501A00")
    assert scan_payload(session, serials[1], station="desk", user=user, scheme=CHECKED)["result"] == "unit"
    assert scan_payload(session, "2501A00", station="desk", user=user, scheme=CHECKED)["result"] == "batch"
    # Not the shape of a serial of this scheme (a lost digit, letters): nothing found, no guess about a typo.
    for code in (serials[0][:-1], "ZZZ999"):
        assert scan_payload(session, code, station="desk", user=user, scheme=CHECKED)["message"] == \
            f"nothing found for {code}"


def test_without_a_check_character_setting_a_typo_is_just_not_found(session, user, make_batch):
    _, serials = make_batch(1)
    typo = _typo(serials[0])
    for scheme in (None, OpaqueDigits(secret="test-key")):
        assert scan_payload(session, typo, station=f"desk-{scheme}", user=user, scheme=scheme)["message"] == \
            f"nothing found for {typo}"


def test_a_decoded_code_is_not_called_a_typo(session, user, make_batch):
    _, serials = make_batch(1)
    typo = _typo(serials[0])
    for source in ("camera", "image"):
        answer = scan_payload(session, typo, station=source, user=user, source=source, scheme=CHECKED)
        assert answer["result"] == "not_found" and TYPO not in answer["message"]


def test_a_code_read_with_a_scanner_identifier_is_not_called_a_typo(session, user, make_batch):
    _, serials = make_batch(1)
    answer = scan_payload(session, "]C0" + _typo(serials[0]), station="desk", user=user, scheme=CHECKED)
    assert answer["result"] == "not_found" and TYPO not in answer["message"]


def test_a_unit_whose_serial_fails_the_check_is_still_found(session, user, product):
    # Serials from before the check character was switched on (or from an ERP) keep their units reachable.
    legacy = PatternScheme(pattern="9{seq:011d}")
    _, serials = trace_service.register_batch(session, product=product, quantity=12, number="OLD", scheme=legacy,
                                              produced_on=date(2025, 1, 13))
    unchecked = next(s for s in serials if not is_valid_check(s, "damm"))
    assert CHECKED.fits(unchecked)
    assert scan_payload(session, unchecked, station="desk", user=user, scheme=CHECKED)["result"] == "unit"
