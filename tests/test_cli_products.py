"""`products add --shelf-life-months` and `products list` with the shelf life."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def run(fresh_cli):
    """Run the console script on a fresh SQLite file."""
    return fresh_cli


def test_products_add_takes_a_shelf_life_in_months(run):
    result = run("products", "add", "--sku", "GA-450", "--name", "Gas analyser", "--gtin", "04601234560016",
                 "--shelf-life-months", "18", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["shelf_life_months"] == 18
    assert "18 months shelf life" in run("products", "list").output


def test_products_add_refuses_a_shelf_life_out_of_range(run):
    result = run("products", "add", "--sku", "GA-450", "--name", "Gas analyser", "--shelf-life-months", "0")
    assert result.exit_code == 1
    assert "shelf life must be 1 to 120 months, or none; got 0" in result.output
    assert run("products", "list").output == ""
