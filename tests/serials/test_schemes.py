"""Check characters on serial schemes: Damm on opaque digits, MOD 37,36 on Base32 and patterns."""

from __future__ import annotations

from datetime import date

import pytest

from serialtrace.config import Settings
from serialtrace.serials import (OpaqueBase32, OpaqueDigits, PatternScheme, SerialSchemeError, is_valid_check,
                                 make_scheme)
from serialtrace.serials.checkchars import is_valid_damm, is_valid_mod37_36

DAY = date(2026, 11, 27)


def test_opaque_digits_with_damm_are_twelve_digits_extending_the_unchecked_ones():
    plain = OpaqueDigits(secret="k").format(0, 200, DAY)
    checked = OpaqueDigits(secret="k", check="damm").format(0, 200, DAY)
    assert all(len(s) == 12 and s.isdigit() and is_valid_damm(s) for s in checked)
    assert [s[:-1] for s in checked] == plain
    assert len(set(checked)) == 200


def test_a_typo_in_a_damm_serial_is_caught():
    serial = OpaqueDigits(secret="k", check="damm").format(7, 1, DAY)[0]
    wrong_digit = serial[:3] + str((int(serial[3]) + 1) % 10) + serial[4:]
    swapped = next(serial[:i] + serial[i + 1] + serial[i] + serial[i + 2:]
                   for i in range(len(serial) - 1) if serial[i] != serial[i + 1])
    assert is_valid_check(serial, "damm")
    assert not is_valid_check(wrong_digit, "damm") and not is_valid_check(swapped, "damm")


def test_base32_with_mod37_36_gets_one_more_character():
    checked = OpaqueBase32(secret="k", check="mod37_36").format(0, 100, DAY)
    plain = OpaqueBase32(secret="k").format(0, 100, DAY)
    assert [s[:-1] for s in checked] == plain
    assert all(len(s) == 11 and is_valid_mod37_36(s) for s in checked)


def test_pattern_check_covers_only_letters_and_digits():
    scheme = PatternScheme(pattern="{prefix}-{yy}{ww}-{seq:05d}", prefix="UR", check="mod37_36")
    serials = scheme.format(0, 50, DAY)
    assert serials[0].startswith("UR-2648-00001") and len(serials[0]) == len("UR-2648-00001") + 1
    assert all(is_valid_check(s, "mod37_36") for s in serials)
    assert not is_valid_check(serials[0][:-4] + "9" + serials[0][-3:], "mod37_36")


def test_all_digit_pattern_may_use_damm():
    serials = PatternScheme(pattern="{yy}{ww}{seq:06d}", check="damm").format(0, 3, DAY)
    assert serials[0] == "2648000001" + serials[0][-1] and all(is_valid_damm(s) for s in serials)


@pytest.mark.parametrize("build", [
    lambda: OpaqueBase32(secret="k", check="damm"),
    lambda: PatternScheme(pattern="{prefix}{seq:04d}", prefix="AB", check="damm"),
    lambda: OpaqueDigits(secret="k", check="luhn"),
    lambda: make_scheme("opaque", secret="k", check="crc"),
])
def test_a_check_that_does_not_suit_the_scheme_is_refused(build):
    with pytest.raises(SerialSchemeError):
        build()


def test_setting_chooses_the_check():
    from serialtrace.runtime import Runtime

    settings = Settings.load(environ={"SERIALTRACE_SERIAL_CHECK": "damm"})
    assert settings.serial_check == "damm"
    scheme = Runtime(settings).serial_scheme()
    assert scheme.check == "damm" and len(scheme.format(0, 1, DAY)[0]) == 12
    assert Runtime(Settings.load(environ={})).serial_scheme().check == "none"


def test_none_leaves_serials_alone():
    assert is_valid_check("anything", "none")
    assert make_scheme("base32", secret="k").format(0, 1, DAY)[0] == OpaqueBase32(secret="k").format(0, 1, DAY)[0]
