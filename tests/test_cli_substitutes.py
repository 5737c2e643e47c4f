"""`products substitute add|remove|list` and `products replacement-warranty`."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def run(fresh_cli):
    """Run the console script on a fresh SQLite file with two products."""
    _run = fresh_cli
    for sku, name in (("PR-100", "Flow meter"), ("PR-110", "Flow meter II")):
        assert _run("products", "add", "--sku", sku, "--name", name).exit_code == 0
    return _run


def test_substitutes_are_added_listed_and_removed(run):
    assert run("products", "substitute", "add", "PR-100", "PR-110").output == "PR-110 may now replace PR-100\n"
    assert run("products", "substitute", "add", "PR-100", "PR-110").output == "PR-110 already may replace PR-100\n"
    assert run("products", "substitute", "list", "PR-100").output == "PR-110\tFlow meter II\n"
    assert json.loads(run("products", "substitute", "list", "PR-100", "--json").output) == [
        {"sku": "PR-110", "name": "Flow meter II"}]
    assert run("products", "substitute", "list", "PR-110").output == ""
    assert run("products", "substitute", "remove", "PR-100", "PR-110").output == "PR-110 no longer replaces PR-100\n"
    assert run("products", "substitute", "list", "PR-100").output == ""


def test_substitute_refusals_exit_1_naming_the_problem(run):
    result = run("products", "substitute", "remove", "PR-100", "PR-110")
    assert (result.exit_code, result.output) == (1, "error: PR-110 is not a substitute for PR-100\n")
    result = run("products", "substitute", "add", "PR-100", "PR-100")
    assert result.exit_code == 1 and "cannot be its own substitute" in result.output
    result = run("products", "substitute", "add", "PR-100", "NOPE")
    assert result.exit_code == 1 and "no product with SKU or GTIN 'NOPE'" in result.output
    assert run("products", "substitute", "list", "PR-100").output == ""


def test_replacement_warranty_rule_is_set_per_product(run):
    assert run("products", "replacement-warranty", "PR-100", "restart").output == (
        "PR-100: replacement warranty continue -> restart\n")
    result = run("products", "replacement-warranty", "PR-100", "forever")
    assert result.exit_code != 0
    assert run("products", "replacement-warranty", "PR-100", "continue").output == (
        "PR-100: replacement warranty restart -> continue\n")
