"""Chart data for static/charts.js: plain JSON-ready dicts built from rows a page has already computed."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import current_app, g, url_for
from flask_babel import format_percent
from scipy import stats

from ..trace import analytics
from .auth import PAGE_ROLES, may_open
from .i18n import _

Z95 = float(stats.norm.ppf(0.975))
Z998 = float(stats.norm.ppf(0.999))  # two-sided 99.8 %: the usual outer funnel limit
CURVE_POINTS = 40  # enough for the limits to read as smooth curves


def link_for(endpoint: str, **values: Any) -> str | None:
    """The URL of `endpoint` when the app has it and the current user may open it, else None (no link)."""
    if endpoint not in current_app.view_functions:
        return None
    if endpoint in PAGE_ROLES and not may_open(g.get("user"), endpoint):
        return None
    return url_for(endpoint, **values)


def _sizes(units: list[int]) -> list[int]:
    """Sample sizes from the smallest to the largest row, spaced evenly on a log scale, plus every row's own."""
    low, high = max(1, min(units)), max(1, max(units))
    grid = {low, high, *units}
    if high > low:
        step = (math.log(high) - math.log(low)) / (CURVE_POINTS - 1)
        grid.update(round(math.exp(math.log(low) + i * step)) for i in range(CURVE_POINTS))
    return sorted(n for n in grid if n >= 1)


def funnel(rows: Iterable[Mapping[str, Any]], *, pooled: float | None,
           name: Callable[[Mapping[str, Any]], str],
           url: Callable[[Mapping[str, Any]], str | None] = lambda row: None) -> dict[str, Any]:
    """Funnel plot data: each row's rate against units shipped, the pooled rate and 95 % / 99.8 % p-chart limits."""
    rows = [row for row in rows if row["units"] > 0]
    if pooled is None and rows:
        pooled = sum(row["claims"] for row in rows) / sum(row["units"] for row in rows)
    limits = []
    if rows and pooled is not None:
        for n in _sizes([row["units"] for row in rows]):
            low95, high95 = analytics.p_chart_limits(pooled, n, sigmas=Z95)
            low998, high998 = analytics.p_chart_limits(pooled, n, sigmas=Z998)
            limits.append({"units": n, "low95": low95, "high95": high95, "low998": low998, "high998": high998})
    return {
        "points": [{"name": name(row), "units": row["units"], "claims": row["claims"], "rate": row["rate"],
                    "flagged": bool(row["flagged"]), "url": url(row)} for row in rows],
        "pooled": pooled,
        "limits": limits,
        "text": {"x": _("Units shipped"), "y": _("Claim rate"), "rows": _("Rows"), "flagged": _("Flagged"),
                 "pooled": _("Pooled rate"), "limit95": _("%(level)s limits", level=format_percent(0.95)),
                 "limit998": _("%(level)s limits", level=format_percent(0.998, "#,##0.0%")),
                 "units": _("Units shipped"), "claims": _("Claims"), "rate": _("Claim rate")},
    }
