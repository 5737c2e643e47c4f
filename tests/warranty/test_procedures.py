"""Versioned test procedures per product: publishing checks every step and never edits an older version."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from serialtrace.errors import ValidationError
from serialtrace.warranty import models, procedures

STEPS = [{"name": "Power on", "kind": "pass_fail"},
         {"name": "Supply current", "kind": "measure", "low": 10, "high": 20.5, "unit": "mA"},
         {"name": "Leak test", "kind": "measure", "high": 0.2, "unit": "bar"}]


def _versions(session) -> list[tuple]:
    return list(session.execute(select(models.TestProcedure.product_id, models.TestProcedure.version,
                                       models.TestProcedure.steps).order_by(models.TestProcedure.id)).all())


def test_publish_makes_version_one_then_two_and_keeps_the_first(session, product):
    assert procedures.current_procedure(session, product.id) is None
    assert procedures.procedure_read(None) is None
    first = procedures.publish_procedure(session, product_id=product.id, steps=STEPS, author=None)
    assert first.version == 1
    assert procedures.procedure_read(first) == {"version": 1, "steps": [
        {"name": "Power on", "kind": "pass_fail", "low": None, "high": None, "unit": None},
        {"name": "Supply current", "kind": "measure", "low": 10.0, "high": 20.5, "unit": "mA"},
        {"name": "Leak test", "kind": "measure", "low": None, "high": 0.2, "unit": "bar"}]}
    second = procedures.publish_procedure(session, product_id=product.id, steps=STEPS[:1], author=None)
    assert second.version == 2 and second.id != first.id
    assert procedures.current_procedure(session, product.id).id == second.id
    session.expire_all()
    assert [(v, len(steps)) for _, v, steps in _versions(session)] == [(1, 3), (2, 1)]


@pytest.mark.parametrize(("steps", "field", "words"), [
    ([], "steps", "at least one step"),
    ([{"name": f"s{i}", "kind": "pass_fail"} for i in range(101)], "steps", "at most 100 steps"),
    ([{"name": " ", "kind": "pass_fail"}], "steps[0].name", "required"),
    ([{"name": "x" * 201, "kind": "pass_fail"}], "steps[0].name", "at most 200 characters"),
    ([{"name": "A", "kind": "pass_fail"}, {"name": "A", "kind": "pass_fail"}], "steps[1].name", "unique"),
    ([{"name": "A", "kind": "visual"}], "steps[0].kind", "pass_fail or measure"),
    ([{"name": "A", "kind": "measure", "low": 1}], "steps[0].unit", "unit is required"),
    ([{"name": "A", "kind": "measure", "unit": "V"}], "steps[0].low", "low limit, a high limit or both"),
    ([{"name": "A", "kind": "measure", "unit": "V", "low": 5, "high": 1}], "steps[0].high", "below low"),
    ([{"name": "A", "kind": "measure", "unit": "V", "low": float("nan")}], "steps[0].low", "finite"),
    ([{"name": "A", "kind": "measure", "unit": "V" * 33, "low": 1}], "steps[0].unit", "at most 32"),
    ([{"name": "A", "kind": "pass_fail", "high": 3}], "steps[0].high", "no limits"),
], ids=["empty", "too-many", "blank-name", "long-name", "duplicate", "kind", "no-unit", "no-limit", "low>high",
        "nan", "long-unit", "pass-fail-limit"])
def test_a_bad_step_is_refused_naming_it_and_nothing_is_published(session, product, steps, field, words):
    with pytest.raises(ValidationError) as err:
        procedures.publish_procedure(session, product_id=product.id, steps=steps, author=None)
    assert err.value.details == {"field": field} and words in str(err.value)
    assert _versions(session) == []
