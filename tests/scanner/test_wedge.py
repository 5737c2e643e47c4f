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


# The US keys a scanner presses and what a Russian layout types for them, symbols included.
_US_TO_RU_KEYS = str.maketrans({**{us: ru for us, ru in zip("qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM",
                                                            "йцукенгшщзфывапролдячсмитьЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬ",
                                                            strict=True)},
                                "#": "№", "]": "ъ", "^": ":", "?": ",", "$": ";"})


def test_affixes_typed_under_a_russian_layout_are_learned_as_sent_and_stripped():
    # A scanner with a "#" prefix and a "?" suffix behind a Russian layout sends "№" and ",": both change with
    # the layout, so the calibration keeps them as they arrive and the parser strips them before undoing it.
    raw = ("#]C1" + CALIBRATION_DATA.replace(GS, "^") + "?").translate(_US_TO_RU_KEYS) + "\r\n"
    assert raw.startswith("№ъС1") and raw.endswith(",\r\n")
    profile = calibrate(raw)
    assert profile == ScannerProfile(prefix="№", suffix=",", separator="^", layout="ru")
    scan = parse_scan(raw, profile=profile)
    assert (scan.symbology_id, dict(scan.ai)) == ("]C1", dict(parse_scan("]C1" + CALIBRATION_DATA).ai))
    label = ("#]C1010460123456001610LOT1^21SN9$").translate(_US_TO_RU_KEYS)
    two_char = ScannerProfile(prefix="№", suffix=";", separator="^", layout="ru")
    assert (parse_scan(label, profile=two_char).batch, parse_scan(label, profile=two_char).serial) == ("LOT1", "SN9")


def test_a_profile_saved_with_affixes_as_us_keys_still_strips_them_under_a_russian_layout():
    raw = ("#]C1010460123456001610LOT1^21SN9?").translate(_US_TO_RU_KEYS)
    scan = parse_scan(raw, profile=ScannerProfile(prefix="#", suffix="?", separator="^", layout="ru"))
    assert (scan.symbology_id, scan.batch, scan.serial) == ("]C1", "LOT1", "SN9")
