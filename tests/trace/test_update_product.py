"""Editing a product (the admin form) under the same rules as registering one."""

from __future__ import annotations

import pytest

from serialtrace.errors import Conflict, ValidationError
from serialtrace.trace import service


def test_update_changes_only_what_differs(session, product):
    changed = service.update_product(session, product, name="Flow meter UR-100M", warranty_months=24,
                                     family="flow", gtin="4601234560016")
    assert changed == {"name": ("Flow meter UR-100", "Flow meter UR-100M"), "family": ("", "flow")}
    assert product.gtin == "04601234560016"
    assert service.update_product(session, product, name="Flow meter UR-100M", warranty_months=24, family="flow",
                                  gtin="04601234560016") == {}


def test_a_gtin_can_be_removed(session, product):
    service.update_product(session, product, name=product.name, warranty_months=12, gtin=None)
    assert (product.gtin, product.warranty_months) == (None, 12)


@pytest.mark.parametrize(("values", "error", "message"), [
    ({"warranty_months": 241}, ValidationError, "warranty months must be between 0 and 240"),
    ({"warranty_months": -1}, ValidationError, "warranty months must be between 0 and 240"),
    ({"warranty_months": True}, ValidationError, "warranty months must be between 0 and 240"),
    ({"name": ""}, ValidationError, "product name must not be empty"),
    ({"name": "x" * 201}, ValidationError, "product name has at most 200 characters"),
    ({"gtin": "4601234560017"}, ValidationError, "has check digit 7, expected 6"),
    ({"gtin": "4601234560023"}, Conflict, "GTIN 04601234560023 already belongs to another product"),
])
def test_a_refused_edit_changes_nothing(session, product, values, error, message):
    service.add_product(session, sku="HM-7", name="Heat meter", gtin="4601234560023")
    args = {"name": "Renamed", "warranty_months": 30, "family": "", "gtin": product.gtin, **values}
    with pytest.raises(error, match=message) as caught:
        service.update_product(session, product, **args)
    assert caught.value.details["field"] in {"name", "warranty_months", "gtin"}
    assert (product.name, product.warranty_months, product.gtin) == ("Flow meter UR-100", 24, "04601234560016")
