"""Check characters for hand-typed serials."""

from __future__ import annotations

import itertools

import pytest

from serialtrace.serials import SerialError
from serialtrace.serials.checkchars import damm_check, is_valid_damm, is_valid_mod37_36, mod37_36_check


def test_damm_known_value():
    assert damm_check("572") == "4"
    assert is_valid_damm("5724")


def test_damm_catches_every_single_digit_error_and_adjacent_swap():
    serial = "40000007919"
    full = serial + damm_check(serial)
    for position, digit in itertools.product(range(len(full)), "0123456789"):
        changed = full[:position] + digit + full[position + 1:]
        assert is_valid_damm(changed) == (changed == full)
    for position in range(len(full) - 1):
        swapped = full[:position] + full[position + 1] + full[position] + full[position + 2:]
        if swapped != full:
            assert not is_valid_damm(swapped)


def test_mod37_36_known_value_from_the_grid_example():
    # GRid A1-2425G-ABC1234002-M uses ISO/IEC 7064 MOD 37,36.
    assert mod37_36_check("A12425GABC1234002") == "M"
    assert is_valid_mod37_36("A12425GABC1234002M")
    assert is_valid_mod37_36("a12425gabc1234002m")


def test_mod37_36_catches_single_substitutions_and_adjacent_swaps():
    serial = "7KQ2M9ZX4P"
    full = serial + mod37_36_check(serial)
    for position, char in itertools.product(range(len(full)), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        changed = full[:position] + char + full[position + 1:]
        assert is_valid_mod37_36(changed) == (changed == full)
    for position in range(len(full) - 1):
        swapped = full[:position] + full[position + 1] + full[position] + full[position + 2:]
        if swapped != full:
            assert not is_valid_mod37_36(swapped)


@pytest.mark.parametrize(("function", "value"), [(damm_check, "12A"), (damm_check, ""), (mod37_36_check, "AB-1"),
                                                 (mod37_36_check, "")])
def test_bad_input_names_the_serial(function, value):
    with pytest.raises(SerialError) as info:
        function(value)
    assert info.value.field == "serial"


def test_validators_say_no_instead_of_raising():
    assert not is_valid_damm("12A4") and not is_valid_damm("5")
    assert not is_valid_mod37_36("AB-1M") and not is_valid_mod37_36("M")
