"""Check characters on serial schemes: Damm on opaque digits, MOD 37,36 on Base32 and patterns."""

from __future__ import annotations

import re
from datetime import date

import pytest

from serialtrace.config import Settings
from serialtrace.serials import (
    OpaqueBase32,
    OpaqueDigits,
    PatternScheme,
    SerialSchemeError,
    is_mistyped,
    is_valid_check,
    make_scheme,
)
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


@pytest.mark.parametrize("kwargs, field, message", [
    ({"kind": "opaque-ish", "secret": "k"}, "scheme",
     "unknown serial scheme 'opaque-ish'; use opaque, base32 or pattern"),
    ({"kind": "opaque", "secret": ""}, "key", "the opaque scheme needs a key"),
    ({"kind": "base32", "secret": "  "}, "key", "the base32 scheme needs a key"),
    ({"kind": "base32", "secret": "k", "check": "damm"}, "check", "check 'damm' does not suit the base32 scheme"),
    ({"kind": "opaque", "secret": "k", "check": "luhn"}, "check", "unknown serial check 'luhn'"),
    ({"kind": "pattern", "secret": "", "pattern": "{seq"}, "pattern", "serial pattern '{seq' does not parse"),
    ({"kind": "pattern", "secret": "", "pattern": "{seq:06s}"}, "pattern", "cannot be filled in"),
    ({"kind": "pattern", "secret": "", "pattern": "{yy}{week}{seq}"}, "pattern", "field {week} is unknown"),
    ({"kind": "pattern", "secret": "", "pattern": "{yy}{mm}"}, "pattern", "exactly one {seq} field"),
    ({"kind": "pattern", "secret": "", "pattern": "{seq:06d}", "prefix": "A B"}, "prefix", "serial prefix 'A B'"),
    ({"kind": "pattern", "secret": "", "pattern": "SN{seq}", "check": "damm"}, "check", "all-digit pattern"),
    ({"kind": "pattern", "secret": "", "pattern": "SN {seq}"}, "pattern", "with characters a GS1 serial (21) cannot"),
    ({"kind": "pattern", "secret": "", "pattern": "{prefix}{seq:04d}", "prefix": "P" * 16, "check": "mod37_36"},
     "pattern", "longer than the 20 characters of a GS1 serial (21)"),
])
def test_every_bad_scheme_setting_names_the_setting(kwargs, field, message):
    with pytest.raises(SerialSchemeError, match=re.escape(message)) as err:
        make_scheme(**kwargs)
    assert err.value.field == field


def test_a_pattern_without_a_key_is_fine():
    assert make_scheme("pattern", secret="", pattern="SN{seq:04d}").format(0, 1, DAY) == ["SN0001"]


@pytest.mark.parametrize("scheme", [
    OpaqueDigits(secret="k", check="damm"),
    OpaqueBase32(secret="k", check="mod37_36"),
    PatternScheme(pattern="{prefix}-{yy}{ww}-{seq:05d}", prefix="UR", check="mod37_36"),
    PatternScheme(pattern="{yy}{ww}{seq:06d}", check="damm"),
])
def test_a_typo_in_a_checked_serial_is_told_apart_from_a_serial_that_does_not_exist(scheme):
    serial = scheme.format(3, 1, DAY)[0]
    assert scheme.fits(serial) and not is_mistyped(scheme, serial)
    # One character changed in place keeps the shape and breaks the check.
    position = len(serial) - 2
    changed = serial[:position] + ("1" if serial[position] != "1" else "2") + serial[position + 1:]
    assert scheme.fits(changed) and is_mistyped(scheme, changed)
    assert is_mistyped(scheme, f"  {changed}\t")
    # Another length or alphabet is not a serial of this scheme at all: no verdict on its check character.
    assert not is_mistyped(scheme, serial + "-") and not is_mistyped(scheme, serial[:-2])
    assert not is_mistyped(scheme, "B250113-01") and not is_mistyped(scheme, "")


def test_a_lower_case_base32_serial_is_checked_as_typed():
    scheme = OpaqueBase32(secret="k", check="mod37_36")
    serial = scheme.format(0, 1, DAY)[0]
    assert not is_mistyped(scheme, serial.lower())


def test_without_a_check_character_nothing_is_a_typo():
    scheme = OpaqueDigits(secret="k")
    serial = scheme.format(0, 1, DAY)[0]
    assert scheme.fits(serial) and not is_mistyped(scheme, serial[:-1] + "0")
