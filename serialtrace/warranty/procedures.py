"""Test procedures per product as versioned steps: publishing a new version (an old one is never edited) and reading
the current one."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..i18n import _l
from ..trace.models import Product
from ..trace.service import Author
from .models import TestProcedure

KINDS = ("pass_fail", "measure")
MAX_STEPS = 100
NAME_MAX = 200
UNIT_MAX = 32


def current_procedure(session: Session, product_id: int) -> TestProcedure | None:
    """The product's newest procedure version, or None when it has none."""
    return session.scalars(select(TestProcedure).where(TestProcedure.product_id == product_id)
                           .order_by(TestProcedure.version.desc()).limit(1)).first()


def procedure_read(procedure: TestProcedure | None) -> dict[str, Any] | None:
    """A procedure as the API shows it: {"version", "steps": [{"name", "kind", "low", "high", "unit"}]}, or None."""
    if procedure is None:
        return None
    return {"version": procedure.version,
            "steps": [{key: step.get(key) for key in ("name", "kind", "low", "high", "unit")}
                      for step in procedure.steps]}


def _refuse(index: int, field: str, message: Any) -> ValidationError:
    return ValidationError(message, details={"field": f"steps[{index}].{field}"})


def _limit(step: Mapping[str, Any], key: str, index: int) -> float | None:
    """A step's limit as a finite number, or None when not given."""
    value = step.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _refuse(index, key, _l("steps[%(i)s].%(key)s must be a finite number", i=index, key=key))
    return float(value)


def _check_step(step: Mapping[str, Any], index: int, seen: set[str]) -> dict[str, Any]:
    """One step in its stored shape; any fault a 422 naming steps[i].<field>."""
    if not isinstance(step, Mapping):
        raise ValidationError(_l("steps[%(i)s] must be an object", i=index), details={"field": f"steps[{index}]"})
    name = step.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise _refuse(index, "name", _l("steps[%(i)s].name is required", i=index))
    if len(name) > NAME_MAX:
        raise _refuse(index, "name", _l("steps[%(i)s].name has at most %(max)s characters", i=index, max=NAME_MAX))
    if name in seen:
        raise _refuse(index, "name", _l("steps[%(i)s].name %(name)r is used by an earlier step; step names are unique",
                                        i=index, name=name))
    seen.add(name)
    kind = step.get("kind")
    if kind not in KINDS:
        raise _refuse(index, "kind", _l("steps[%(i)s].kind must be pass_fail or measure, not %(kind)r", i=index,
                                        kind=kind))
    low, high = _limit(step, "low", index), _limit(step, "high", index)
    unit = step.get("unit") or ""
    if not isinstance(unit, str) or len(unit.strip()) > UNIT_MAX:
        raise _refuse(index, "unit", _l("steps[%(i)s].unit is text of at most %(max)s characters", i=index,
                                        max=UNIT_MAX))
    unit = unit.strip()
    if kind == "pass_fail":
        for key, value in (("low", low), ("high", high), ("unit", unit)):
            if value not in (None, ""):
                raise _refuse(index, key, _l("steps[%(i)s].%(key)s: a pass_fail step has no limits or unit",
                                             i=index, key=key))
    else:
        if not unit:
            raise _refuse(index, "unit", _l("steps[%(i)s].unit is required for a measure step", i=index))
        if low is None and high is None:
            raise _refuse(index, "low", _l("steps[%(i)s]: a measure step needs a low limit, a high limit or both",
                                           i=index))
        if low is not None and high is not None and low > high:
            raise _refuse(index, "high", _l("steps[%(i)s].high %(high)s is below low %(low)s", i=index, high=high,
                                            low=low))
    return {"name": name, "kind": kind, "low": low, "high": high, "unit": unit or None}


def check_steps(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The steps of a procedure in their stored shape: 1 to MAX_STEPS, unique names, kind pass_fail or measure, a
    measure with a unit and at least one limit (low <= high); any fault a 422 naming steps[i].<field>."""
    if not isinstance(steps, Sequence) or isinstance(steps, str) or not steps:
        raise ValidationError(_l("a procedure needs at least one step"), details={"field": "steps"})
    if len(steps) > MAX_STEPS:
        raise ValidationError(_l("a procedure has at most %(max)s steps", max=MAX_STEPS), details={"field": "steps"})
    seen: set[str] = set()
    return [_check_step(step, index, seen) for index, step in enumerate(steps)]


def publish_procedure(session: Session, *, product_id: int, steps: Sequence[Mapping[str, Any]],
                      author: Author | None) -> TestProcedure:
    """Publish the product's next procedure version (n+1) with `steps`; earlier versions stay as they were, for the
    records made with them. Two publishers at once: the product row is locked, so versions never collide. Flushes;
    the caller commits."""
    checked = check_steps(steps)
    session.execute(select(Product.id).where(Product.id == product_id).with_for_update())
    version = (session.scalar(select(func.max(TestProcedure.version))
                              .where(TestProcedure.product_id == product_id)) or 0) + 1
    procedure = TestProcedure(product_id=product_id, version=version, steps=checked,
                              author_id=getattr(author, "id", None))
    session.add(procedure)
    session.flush()
    return procedure
