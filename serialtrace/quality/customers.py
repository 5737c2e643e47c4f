"""Customers in an ABC x XYZ matrix: ABC by what their claims cost (or how many), XYZ by how evenly they come.

The period is the last `months` full calendar months before today (this month is not over, so it is left out).
A claim counts as on the dashboard (quality.queries): past draft and not cancelled; it belongs to the customer it
names and to the month it was opened in. ABC ranks customers by claim cost (Claim.cost) or by claim count over
the period (analytics.abc). XYZ is the coefficient of variation of the monthly claim counts, sample standard
deviation (analytics.xyz), over the months the customer was with us: from the month of its first shipment or
first counted claim, whichever is earlier. A customer with fewer than `min_months` such months, or no claim in
the period (a mean of 0), is not classified on that axis, with the reason; it never stops the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..i18n import _l
from ..trace import analytics
from ..trace.models import Customer, Shipment
from ..warranty.models import Claim
from .queries import NOT_COUNTED

ABC_CLASSES = ("A", "B", "C")
XYZ_CLASSES = ("X", "Y", "Z")
BASES = ("cost", "count")
COLUMNS = ("customer_id", "customer", "claims", "cost", "value", "pct", "cumulative_pct", "abc", "months", "mean",
           "stdev", "cv", "xyz", "cell", "reason")


@dataclass(frozen=True)
class CustomerSettings:
    """How customers are classed: ABC basis, rule and boundaries; XYZ thresholds; the period and its minimum."""

    basis: str = "cost"
    rule: str = "before"
    a: float = 0.8
    b: float = 0.95
    x: float = 0.10
    y: float = 0.25
    months: int = 12
    min_months: int = 6


@dataclass(frozen=True)
class CustomerMatrix:
    """Per-customer rows (dicts in COLUMNS, by ABC order), the 3x3 cells and the period they cover."""

    settings: CustomerSettings
    period_start: date
    period_end: date
    month_labels: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    cells: dict[str, dict[str, list[dict[str, Any]]]]

    def not_classified(self) -> list[dict[str, Any]]:
        """The customers missing from the matrix, with the reason."""
        return [r for r in self.rows if r["cell"] is None]

    def as_dict(self) -> dict[str, Any]:
        """The matrix as the API returns it."""
        s = self.settings
        return {"basis": s.basis, "rule": s.rule, "a": s.a, "b": s.b, "x": s.x, "y": s.y, "months": s.months,
                "min_months": s.min_months, "period_start": self.period_start, "period_end": self.period_end,
                "month_labels": list(self.month_labels),
                "matrix": [{"abc": a, "xyz": x, "count": len(self.cells[a][x]),
                            "customers": [{"customer_id": r["customer_id"], "customer": r["customer"]}
                                          for r in self.cells[a][x]]}
                           for a in ABC_CLASSES for x in XYZ_CLASSES],
                "rows": [{k: v for k, v in r.items() if k != "series"} | {"monthly_claims": r["series"]}
                         for r in self.rows]}


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def check_settings(s: CustomerSettings) -> None:
    """A 422 naming the first setting out of range."""
    checks = (
        ("basis", s.basis in BASES, _l("basis must be \"cost\" or \"count\", not %(value)r", value=s.basis)),
        ("rule", s.rule in ("before", "including"),
         _l("rule must be \"before\" or \"including\", not %(value)r", value=s.rule)),
        ("b", 0 < s.a < s.b <= 1, _l("ABC boundaries must satisfy 0 < a < b <= 1, got a=%(a)s b=%(b)s", a=s.a,
                                     b=s.b)),
        ("y", 0 < s.x < s.y, _l("XYZ thresholds must satisfy 0 < x < y, got x=%(x)s y=%(y)s", x=s.x, y=s.y)),
        ("months", 2 <= s.months <= 60, _l("months must be between 2 and 60, not %(value)s", value=s.months)),
        ("min_months", 2 <= s.min_months <= s.months,
         _l("min_months must be between 2 and months (%(months)s), not %(value)s", months=s.months,
            value=s.min_months)),
    )
    for name, ok, message in checks:
        if not ok:
            raise ValidationError(message, details={"field": name})


def customer_matrix(session: Session, *, today: date, settings: CustomerSettings | None = None) -> CustomerMatrix:
    """Every customer with a counted claim (ever), classed ABC by the period's claims and XYZ by their months."""
    s = settings or CustomerSettings()
    check_settings(s)
    end_index = _month_index(today)  # this month is not over: the period ends where it starts
    start_index = end_index - s.months
    start, end = _month_start(start_index), _month_start(end_index)
    counted = Claim.state.not_in(NOT_COUNTED)
    customers = dict(session.execute(
        select(Customer.id, Customer.name).where(Customer.id.in_(
            select(Claim.customer_id).where(counted, Claim.customer_id.is_not(None))))).all())
    since = (datetime.combine(start, datetime.min.time(), UTC), datetime.combine(end, datetime.min.time(), UTC))
    in_period = (counted, Claim.customer_id.is_not(None), Claim.opened_at >= since[0], Claim.opened_at < since[1])
    opened = Claim.opened_at
    if session.get_bind().dialect.name == "postgresql":
        opened = func.timezone("UTC", Claim.opened_at)  # months of the UTC calendar, whatever the session's zone
    year, month = func.extract("year", opened), func.extract("month", opened)
    series = {cid: [0] * s.months for cid in customers}
    costs: dict[int, Decimal] = dict.fromkeys(customers, Decimal(0))
    for cid, y, m, count, cost in session.execute(
            select(Claim.customer_id, year, month, func.count(), func.coalesce(func.sum(Claim.cost), 0))
            .where(*in_period).group_by(Claim.customer_id, year, month)):
        series[cid][int(y) * 12 + int(m) - 1 - start_index] += int(count)
        costs[cid] += Decimal(str(cost))
    # The customer's first month with us: its first shipment or first counted claim, whichever came first.
    first_ship = dict(session.execute(select(Shipment.customer_id, func.min(Shipment.shipped_on))
                                      .where(Shipment.customer_id.in_(list(customers)))
                                      .group_by(Shipment.customer_id)).all()) if customers else {}
    first_claim = dict(session.execute(select(Claim.customer_id, func.min(Claim.opened_at))
                                       .where(counted, Claim.customer_id.in_(list(customers)))
                                       .group_by(Claim.customer_id)).all()) if customers else {}
    rows = {cid: _row(cid, name, series[cid], costs[cid], first_ship.get(cid), first_claim.get(cid), start_index,
                      s) for cid, name in customers.items()}
    _class_abc(rows, s)
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {a: {x: [] for x in XYZ_CLASSES} for a in ABC_CLASSES}
    ordered = sorted(rows.values(), key=lambda r: (r["abc"] is None, -r["value"], r["customer"], r["customer_id"]))
    for row in ordered:
        if row["abc"] and row["xyz"]:
            row["cell"] = row["abc"] + row["xyz"]
            cells[row["abc"]][row["xyz"]].append(row)
        else:
            row["reason"] = row["reason"] or row.pop("abc_reason", None)
        row.pop("abc_reason", None)
    labels = tuple(f"{_month_start(start_index + i):%Y-%m}" for i in range(s.months))
    return CustomerMatrix(settings=s, period_start=start, period_end=end, month_labels=labels, rows=tuple(ordered),
                          cells=cells)


def _row(cid: int, name: str, series: list[int], cost: Decimal, first_ship: date | None, first_claim: Any,
         start_index: int, s: CustomerSettings) -> dict[str, Any]:
    """One customer's numbers and XYZ class (or the reason it has none)."""
    firsts = [d for d in (first_ship, first_claim.date() if isinstance(first_claim, datetime) else first_claim)
              if d is not None]
    if isinstance(firsts and firsts[0], str):  # SQLite's min() over a datetime column answers text
        firsts = [date.fromisoformat(str(d)[:10]) for d in firsts]
    joined = min(_month_index(d) for d in firsts) if firsts else start_index
    observed = series[max(0, joined - start_index):]
    row: dict[str, Any] = {"customer_id": cid, "customer": name, "claims": sum(series), "cost": cost,
                           "value": float(cost) if s.basis == "cost" else sum(series), "pct": None,
                           "cumulative_pct": None, "abc": None, "months": len(observed), "mean": None,
                           "stdev": None, "cv": None, "xyz": None, "cell": None, "reason": None, "series": series}
    if len(observed) < s.min_months:
        row["reason"] = _l("only %(months)s months since the first shipment (needs %(needed)s)",
                           months=len(observed), needed=s.min_months)
    elif not any(observed):
        row["reason"] = _l("no claims in the period: a coefficient of variation needs a mean above 0")
    else:
        [found] = analytics.xyz({cid: observed}, x=s.x, y=s.y)
        row.update(mean=found.mean, stdev=found.stdev, cv=found.cv, xyz=found.category)
    return row


def _class_abc(rows: dict[int, dict[str, Any]], s: CustomerSettings) -> None:
    """ABC class, share and cumulative share on every row; none when nothing in the period has a value."""
    values = {cid: Fraction(r["cost"]) if s.basis == "cost" else Fraction(r["claims"]) for cid, r in rows.items()}
    if not any(values.values()):
        for row in rows.values():
            row["abc_reason"] = _l("no claim cost in the period") if s.basis == "cost" else _l(
                "no claims in the period")
        return
    for found in analytics.abc(values, a=s.a, b=s.b, rule=s.rule):
        row = rows[found.key]  # type: ignore[index]
        row.update(pct=found.pct, cumulative_pct=found.cumulative_pct, abc=found.category)
