"""Keyboard-wedge handling: profiles, layouts, calibration, repeated scans."""

from __future__ import annotations

import pytest

from serialtrace.scanner import RepeatFilter, ScanError, ScannerProfile, calibrate, parse_scan
from serialtrace.scanner.wedge import CALIBRATION_DATA, undo_layout

GS = "\x1d"
_TO_RU = str.maketrans("qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM]^",
                       "йцукенгшщзфывапролдячсмитьЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬъ:")


def test_profile_prefix_suffix_and_layout_are_applied():
    profile = ScannerProfile(prefix="@@", suffix="#", separator="^", layout="ru")
    raw = "@@" + "]C1010950600013435210LOT1^21SN9".translate(_TO_RU) + "#\r\n"
    scan = parse_scan(raw, profile=profile)
    assert (scan.symbology_id, scan.batch, scan.serial) == ("]C1", "LOT1", "SN9")


def test_profile_is_frozen_and_checks_the_layout():
    with pytest.raises(AttributeError):
        ScannerProfile().prefix = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        ScannerProfile(layout="dvorak")


def test_layout_detection_leaves_real_latin_text_alone():
    assert undo_layout("SN123", None) == ("SN123", False)
    assert undo_layout("ЫТ123", None) == ("SN123", True)
    assert undo_layout("ЫТ123", "latin") == ("ЫТ123", False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("]C1" + CALIBRATION_DATA + "\r\n", ScannerProfile(separator=GS, layout="latin")),
        ("STX]C1" + CALIBRATION_DATA.replace(GS, "^") + "\t",
         ScannerProfile(prefix="STX", suffix="\t", separator="^", layout="latin")),
        (CALIBRATION_DATA.replace(GS, ""), ScannerProfile(separator="", layout="latin")),
        (("]C1" + CALIBRATION_DATA.replace(GS, "^")).translate(_TO_RU), ScannerProfile(separator="^", layout="ru")),
        ("]C1" + CALIBRATION_DATA.replace(GS, "\u2194"), ScannerProfile(separator=GS, layout="latin")),
    ],
)
def test_calibration_learns_the_profile(raw, expected):
    profile = calibrate(raw)
    assert profile == expected
    # The learned profile reads the calibration scan back as the symbol's data (one of the
    # readings when the scanner drops separators).
    scan = parse_scan(raw, profile=profile)
    readings = [dict(scan.ai)] + [dict(a) for a in scan.alternatives]
    assert dict(parse_scan("]C1" + CALIBRATION_DATA).ai) in readings


def test_calibration_with_the_wrong_symbol_is_an_error():
    with pytest.raises(ScanError, match="calibration"):
        calibrate("]C10109506000134352")


def test_same_code_twice_in_a_second_is_a_repeat():
    seen = RepeatFilter(window=1.0)
    assert not seen.is_repeat("SN1", 10.0)
    assert seen.is_repeat("SN1", 10.4)
    assert not seen.is_repeat("SN2", 10.5)
    assert not seen.is_repeat("SN1", 12.0)
