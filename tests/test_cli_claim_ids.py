"""`serialtrace claims show` with a reference that is neither a claim number nor an ASCII id: a clear refusal."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("ref", ["²", "٣", "99999999999999999999"])
def test_show_refuses_a_reference_in_other_digits_naming_it(fresh_cli, ref):
    shown = fresh_cli("claims", "show", ref)
    assert shown.exit_code == 1
    assert f"no claim {ref!r}" in shown.output
