"""Quality analytics on plain numbers: batch claim rates, Pareto, ABC/XYZ, risk ratios, Nevada, Weibull and SLA."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from numbers import Real

import numpy as np
from scipy import optimize, stats

from serialtrace.i18n import _l

# Two-sided 95 %: the confidence level every interval in this module reports.
Z95 = float(stats.norm.ppf(0.975))
# The Pareto "vital few": codes whose cumulative share before them is below this percentage.
VITAL_PCT = 80


def _count(value: object, what: str, key: object) -> int:
    """`value` as a non-negative whole count, or a ValueError naming `what` of `key`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(_l("%(what)s of %(key)s must be a whole number 0 or more, not %(value)r",
                            what=what, key=key, value=value))
    return int(value)


# ---------------------------------------------------------------------------------------------- batch claim rates


@dataclass(frozen=True)
class BatchRate:
    """One batch: its claim rate with a Wilson 95 % interval, p-chart limits and its test against the rest."""

    batch: object
    units: int
    claims: int
    rate: float
    ci_low: float
    ci_high: float
    lcl: float
    ucl: float
    p_value: float
    p_adjusted: float
    eligible: bool
    flagged: bool


@dataclass(frozen=True)
class BatchReport:
    """All batches, flagged first then by p-value, with the pooled rate and the chi-square homogeneity test."""

    rows: tuple[BatchRate, ...]
    pooled_rate: float
    chi_square: float
    df: int
    chi_square_p: float


def rate_interval(claims: int, units: int, *, method: str = "wilson") -> tuple[float, float]:
    """95 % interval for claims/units: "wilson" (score, no continuity correction) or "exact" (Clopper-Pearson)."""
    if method not in ("wilson", "exact"):
        raise ValueError(_l("interval method must be \"wilson\" or \"exact\", not %(method)r", method=method))
    _check_rate(claims, units, "rate")
    if method == "wilson":
        # The score interval in closed form (what binomtest(...).proportion_ci(method="wilson") returns, without
        # the exact test binomtest also runs: that took 0.8 ms a batch, most of a 2,000-batch dashboard).
        p, z2 = claims / units, Z95 * Z95
        centre = (p + z2 / (2 * units)) / (1 + z2 / units)
        half = Z95 / (1 + z2 / units) * math.sqrt(p * (1 - p) / units + z2 / (4 * units * units))
        return max(0.0, centre - half), min(1.0, centre + half)
    ci = stats.binomtest(claims, units).proportion_ci(confidence_level=0.95, method=method)
    return float(ci.low), float(ci.high)


def p_chart_limits(p_bar: float, units: int, *, sigmas: float = 3.0) -> tuple[float, float]:
    """Lower and upper p-chart control limits around `p_bar` for a sample of `units`, clipped to 0..1."""
    if not 0 <= p_bar <= 1 or units <= 0:
        raise ValueError(_l("p-chart limits need a rate between 0 and 1 and a positive sample size"))
    half = sigmas * math.sqrt(p_bar * (1 - p_bar) / units)
    return max(0.0, p_bar - half), min(1.0, p_bar + half)


def benjamini_hochberg(p_values: Sequence[float]) -> tuple[float, ...]:
    """Benjamini-Hochberg adjusted p-values (monotone step-up), in the order given."""
    if len(p_values) == 0:
        return ()
    if any(not 0 <= p <= 1 for p in p_values):
        raise ValueError(_l("p-values must lie between 0 and 1"))
    return tuple(float(p) for p in stats.false_discovery_control(np.asarray(p_values, dtype=float), method="bh"))


def _check_rate(claims: int, units: int, key: object) -> None:
    """ValueError unless 0 <= claims <= units and units > 0."""
    _count(units, "units shipped", key)
    _count(claims, "claims", key)
    if units == 0:
        raise ValueError(_l("units shipped of %(key)s must be more than 0", key=key))
    if claims > units:
        raise ValueError(_l("%(key)s has %(claims)s claims but only %(units)s units shipped",
                            key=key, claims=claims, units=units))


def batch_rates(rows: Iterable[tuple[object, int, int]], *, q: float = 0.05, min_units: int = 30,
                min_claims: int = 3) -> BatchReport:
    """Claim rate per batch against units shipped; flags batches failing more than chance allows at FDR `q`."""
    rows = list(rows)
    if not 0 < q < 1:
        raise ValueError(_l("q must lie between 0 and 1, not %(q)r", q=q))
    if len(rows) < 2:
        raise ValueError(_l("comparing batches needs at least two batches, got %(count)s", count=len(rows)))
    seen = set()
    for batch, units, claims in rows:
        if batch in seen:
            raise ValueError(_l("batch %(key)s appears more than once", key=batch))
        seen.add(batch)
        _check_rate(claims, units, batch)
    total_units = sum(units for _, units, _ in rows)
    total_claims = sum(claims for _, _, claims in rows)
    pooled = total_claims / total_units
    # One-sided Fisher exact test of each batch against the rest: only a batch failing more than the others is a
    # quality problem to chase. Its p is P(X >= claims) for X hypergeometric (all units, all claims, the batch's
    # units drawn), the same number stats.fisher_exact(..., alternative="greater") gives, for every batch in one
    # vectorised call (one fisher_exact per batch took 0.75 s for 2,000 batches).
    drawn = np.array([units for _, units, _ in rows], dtype=np.int64)
    hits = np.array([claims for _, _, claims in rows], dtype=np.int64)
    p_values = [min(1.0, float(p)) for p in stats.hypergeom.sf(hits - 1, total_units, total_claims, drawn)]
    # Every batch tested is in the family, small ones too: leaving them out after seeing the data would flatter
    # the adjustment; being small only stops a batch from being flagged.
    adjusted = benjamini_hochberg(p_values)
    out = []
    for (batch, units, claims), p, p_adj in zip(rows, p_values, adjusted, strict=True):
        low, high = rate_interval(claims, units)
        lcl, ucl = p_chart_limits(pooled, units)
        eligible = units >= min_units and claims >= min_claims
        out.append(BatchRate(batch=batch, units=units, claims=claims, rate=claims / units, ci_low=low, ci_high=high,
                             lcl=lcl, ucl=ucl, p_value=p, p_adjusted=p_adj, eligible=eligible,
                             flagged=eligible and p_adj <= q))
    out.sort(key=lambda r: (not r.flagged, r.p_value, str(r.batch)))
    if total_claims == 0:
        # No claims at all: every batch is alike and the chi-square statistic is undefined rather than large.
        chi, df, chi_p = 0.0, len(rows) - 1, 1.0
    else:
        res = stats.chi2_contingency([[claims, units - claims] for _, units, claims in rows], correction=False)
        chi, df, chi_p = float(res.statistic), int(res.dof), float(res.pvalue)
    return BatchReport(rows=tuple(out), pooled_rate=pooled, chi_square=chi, df=df, chi_square_p=chi_p)


# ---------------------------------------------------------------------------------------------- risk ratio


@dataclass(frozen=True)
class RiskRatio:
    """Risk of group A over group B with a 95 % interval (log method) and a two-sided Fisher exact p-value."""

    ratio: float
    ci_low: float
    ci_high: float
    p_value: float


def risk_ratio(a_events: int, a_total: int, b_events: int, b_total: int) -> RiskRatio:
    """Risk ratio of A against B (e.g. shipped in rain against dry) with its interval and p-value."""
    _check_rate(a_events, a_total, "group A")
    _check_rate(b_events, b_total, "group B")
    if a_events == 0 and b_events == 0:
        raise ValueError(_l("neither group has any events: there is no risk to compare"))
    ratio = math.inf if b_events == 0 else (a_events / a_total) / (b_events / b_total)
    a, at, b, bt = a_events, a_total, b_events, b_total
    if a == 0 or b == 0:
        # Haldane-Anscombe: add a half to every cell so a zero still gives a finite, honest interval.
        a, at, b, bt = a + 0.5, at + 1, b + 0.5, bt + 1
    centre = math.log((a / at) / (b / bt))
    se = math.sqrt(1 / a - 1 / at + 1 / b - 1 / bt)
    table = [[a_events, a_total - a_events], [b_events, b_total - b_events]]
    p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    return RiskRatio(ratio=ratio, ci_low=math.exp(centre - Z95 * se), ci_high=math.exp(centre + Z95 * se),
                     p_value=p)


# ---------------------------------------------------------------------------------------------- Pareto, ABC, XYZ


@dataclass(frozen=True)
class ParetoRow:
    """One failure code in Pareto order: its count, the running total and whether it is one of the vital few."""

    code: str
    count: int
    cumulative: int
    pct: float
    cumulative_pct: float
    vital: bool


def pareto(counts: Mapping[str, int], *, last: Sequence[str] = ()) -> tuple[ParetoRow, ...]:
    """Codes by count descending, ties by code, catch-all codes in `last` at the end in the order given."""
    for code, count in counts.items():
        _count(count, "count", code)
    total = sum(counts.values())
    if total == 0:
        raise ValueError(_l("a Pareto chart needs at least one counted failure"))
    tail = [code for code in last if code in counts]
    ordered = sorted((c for c in counts if c not in tail), key=lambda c: (-counts[c], c)) + tail
    rows, running = [], 0
    for code in ordered:
        before = running
        running += counts[code]
        # Integers, not floats: a bar landing exactly on 80 % must not flip on rounding.
        rows.append(ParetoRow(code=code, count=counts[code], cumulative=running, pct=100 * counts[code] / total,
                              cumulative_pct=100 * running / total, vital=before * 100 < VITAL_PCT * total))
    return tuple(rows)


@dataclass(frozen=True)
class AbcRow:
    """One item in ABC order with its share, cumulative share (percent) and class."""

    key: object
    value: float
    pct: float
    cumulative_pct: float
    category: str


def abc(values: Mapping[object, float], *, a: float = 0.8, b: float = 0.95, rule: str = "before") -> tuple[AbcRow, ...]:
    """ABC classes by value (ties by key): rule "before" is cumulative before < boundary, "including" is <= it."""
    if rule not in ("before", "including"):
        raise ValueError(_l("ABC rule must be \"before\" or \"including\", not %(rule)r", rule=rule))
    if not 0 < a < b <= 1:
        raise ValueError(_l("ABC boundaries must satisfy 0 < a < b <= 1, got a=%(a)s b=%(b)s", a=a, b=b))
    for key, value in values.items():
        if not isinstance(value, Real) or isinstance(value, bool) or value < 0 or math.isnan(value):
            raise ValueError(_l("value of %(key)s must be a number 0 or more, not %(value)r", key=key, value=value))
    # Exact fractions: a customer landing on a boundary is classed by the rule, not by float rounding.
    exact = {key: Fraction(value) for key, value in values.items()}
    total = sum(exact.values(), Fraction(0))
    if total == 0:
        raise ValueError(_l("ABC classes need at least one item with a value above 0"))
    fa, fb = Fraction(str(a)), Fraction(str(b))
    rows, running = [], Fraction(0)
    for key in sorted(exact, key=lambda k: (-exact[k], str(k))):
        before = running
        running += exact[key]
        share = before / total if rule == "before" else running / total
        if rule == "before":
            category = "A" if share < fa else "B" if share < fb else "C"
        else:
            category = "A" if share <= fa else "B" if share <= fb else "C"
        rows.append(AbcRow(key=key, value=values[key], pct=float(100 * exact[key] / total),
                           cumulative_pct=float(100 * running / total), category=category))
    return tuple(rows)


@dataclass(frozen=True)
class XyzRow:
    """One item's demand variability: mean, sample standard deviation, coefficient of variation and class."""

    key: object
    mean: float
    stdev: float
    cv: float
    category: str


def xyz(series: Mapping[object, Sequence[float]], *, x: float = 0.10, y: float = 0.25) -> tuple[XyzRow, ...]:
    """XYZ classes by coefficient of variation (sample standard deviation): X if cv <= x, Y if cv <= y, else Z."""
    if not 0 < x < y:
        raise ValueError(_l("XYZ thresholds must satisfy 0 < x < y, got x=%(x)s y=%(y)s", x=x, y=y))
    rows = []
    for key in sorted(series, key=str):
        values = np.asarray(series[key], dtype=float)
        if values.size < 2:
            raise ValueError(_l("%(key)s needs at least two periods for a variation, got %(count)s",
                                key=key, count=int(values.size)))
        if np.any(values < 0) or np.any(np.isnan(values)):
            raise ValueError(_l("%(key)s has a negative or missing value", key=key))
        mean = float(values.mean())
        if mean == 0:
            raise ValueError(_l("%(key)s is 0 in every period: a coefficient of variation needs a mean above 0",
                                key=key))
        stdev = float(values.std(ddof=1))
        cv = stdev / mean
        category = "X" if cv <= x else "Y" if cv <= y else "Z"
        rows.append(XyzRow(key=key, mean=mean, stdev=stdev, cv=cv, category=category))
    return tuple(rows)


# ---------------------------------------------------------------------------------------------- Nevada chart


@dataclass(frozen=True)
class NevadaMonth:
    """Months in service: returns, units still in the field at that age, units at risk, rate and Kaplan-Meier F."""

    month: int
    failures: int
    suspensions: int
    at_risk: int
    rate: float
    cumulative_f: float


@dataclass(frozen=True)
class Nevada:
    """The Nevada triangle as (ship period, months in service, returns) cells and its life table by month."""

    cells: tuple[tuple[object, int, int], ...]
    months: tuple[NevadaMonth, ...]


def _month_index(period: object) -> int:
    """A period (date, datetime or whole month number) as a count of months, so periods subtract."""
    if isinstance(period, date):
        return period.year * 12 + period.month - 1
    if isinstance(period, int) and not isinstance(period, bool):
        return period
    raise ValueError(_l("period %(period)r must be a date or a whole month number", period=period))


def nevada(shipped: Mapping[object, int], returned: Mapping[tuple[object, object], int], *, end: object) -> Nevada:
    """Returns by ship period and months in service, with the return rate by month and Kaplan-Meier cumulative F."""
    if not shipped:
        raise ValueError(_l("a Nevada chart needs at least one shipment period"))
    last = _month_index(end)
    ages = {}
    for period, units in shipped.items():
        _count(units, "units shipped", period)
        ages[period] = last - _month_index(period)
        if ages[period] < 0:
            raise ValueError(_l("shipment period %(period)s is after the end of observation", period=period))
    by_age: dict[tuple[object, int], int] = {}
    returned_of = dict.fromkeys(shipped, 0)
    for (ship, back), count in returned.items():
        _count(count, "returns", (ship, back))
        if ship not in shipped:
            raise ValueError(_l("returns from %(period)s, which has no shipment", period=ship))
        months = _month_index(back) - _month_index(ship)
        if months < 0 or _month_index(back) > last:
            raise ValueError(_l("return period %(back)s lies outside %(ship)s to the end of observation",
                                back=back, ship=ship))
        by_age[ship, months] = by_age.get((ship, months), 0) + count
        returned_of[ship] += count
    for period, count in returned_of.items():
        if count > shipped[period]:
            raise ValueError(_l("%(period)s has %(count)s returns but only %(units)s units shipped",
                                period=period, count=count, units=shipped[period]))
    # Same-month returns (dead on arrival) get a month 0 row; otherwise the table starts at one month in service.
    first = 0 if any(months == 0 and n for (_, months), n in by_age.items()) else 1
    rows, survival = [], 1.0
    for month in range(first, max(ages.values()) + 1):
        cohorts = [p for p in shipped if ages[p] >= month]
        failures = sum(by_age.get((p, month), 0) for p in cohorts)
        # At risk: units of the cohorts observed this long, less those returned at a younger age.
        at_risk = sum(shipped[p] - sum(by_age.get((p, m), 0) for m in range(month)) for p in cohorts)
        suspensions = sum(shipped[p] - returned_of[p] for p in shipped if ages[p] == month)
        rate = failures / at_risk if at_risk else 0.0
        survival *= 1 - rate
        rows.append(NevadaMonth(month=month, failures=failures, suspensions=suspensions, at_risk=at_risk, rate=rate,
                                cumulative_f=1 - survival))
    cells = tuple(sorted(((p, m, n) for (p, m), n in by_age.items()), key=lambda c: (_month_index(c[0]), c[1])))
    return Nevada(cells=cells, months=tuple(rows))


# ---------------------------------------------------------------------------------------------- SLA
# Business time itself is serialtrace.warranty.sla.business_seconds; these are the compliance figures over it.


# Percentile methods a report may name: numpy's "linear" interpolation, or the nearest rank (numpy's inverted CDF).
PERCENTILE_METHODS = {"linear": "linear", "nearest-rank": "inverted_cdf"}


@dataclass(frozen=True)
class SlaMetrics:
    """One measure (first response or resolution): how many, how many over target, median and p90 by `method`."""

    count: int
    breached: int
    share_breached: float
    median: float
    p90: float
    method: str


def sla_metrics(elapsed: Sequence[float], targets: Sequence[float], *, method: str = "linear") -> SlaMetrics:
    """Breaches (over target; equal to target is met), median and p90 of one measure, by the named percentile method."""
    if method not in PERCENTILE_METHODS:
        raise ValueError(_l("percentile method must be \"linear\" or \"nearest-rank\", not %(method)r", method=method))
    if len(elapsed) != len(targets):
        raise ValueError(_l("%(elapsed)s times but %(targets)s targets: each time needs its target",
                            elapsed=len(elapsed), targets=len(targets)))
    if not elapsed:
        raise ValueError(_l("SLA metrics need at least one time"))
    values = np.asarray(elapsed, dtype=float)
    if np.any(values < 0) or np.any(np.isnan(values)) or any(t < 0 for t in targets):
        raise ValueError(_l("times and targets must be 0 or more"))
    breached = sum(value > target for value, target in zip(elapsed, targets, strict=True))
    how = PERCENTILE_METHODS[method]
    return SlaMetrics(count=len(elapsed), breached=breached, share_breached=breached / len(elapsed),
                      median=float(np.percentile(values, 50, method=how)),
                      p90=float(np.percentile(values, 90, method=how)), method=method)


# ---------------------------------------------------------------------------------------------- Weibull


@dataclass(frozen=True)
class WeibullFit:
    """Two-parameter Weibull by maximum likelihood, with 95 % Fisher-matrix bounds (log scale) and B10 life."""

    beta: float
    eta: float
    loglik: float
    b10: float
    beta_low: float
    beta_high: float
    eta_low: float
    eta_high: float
    b10_low: float
    b10_high: float
    # Covariance of (ln beta, ln eta) from the observed information: what forecasts draw their bounds from.
    cov: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))


# Shapes beyond this mean the failures sit on one instant: no spread to estimate, so no fit to report.
MAX_BETA = 100.0
# B10: the age by which 10 % have failed, eta * (-ln 0.9) ** (1 / beta).
_B10_LOG = math.log(-math.log(0.9))


def _times(values: Iterable[float], what: str, *, positive: bool) -> np.ndarray:
    """`values` as a float array, refusing negative (or, for failures, zero) and non-finite times."""
    array = np.asarray(list(values), dtype=float).reshape(-1)
    bad = ~np.isfinite(array) | (array <= 0 if positive else array < 0)
    if np.any(bad):
        raise ValueError(_l("%(what)s must be finite times %(bound)s, not %(value)r",
                            what=what, bound="above 0" if positive else "of 0 or more", value=float(array[bad][0])))
    return array


def _weibull_nll(params: np.ndarray, exact: np.ndarray, right: np.ndarray, lows: np.ndarray,
                 highs: np.ndarray, weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> float:
    """Negative log-likelihood at (log beta, log eta) for exact failures, right and interval censoring.

    `weights` (counts of exact, right and interval rows) let grouped data stand for many equal units.
    """
    log_beta, log_eta = params
    if abs(log_beta) > 10 or abs(log_eta) > 50:
        # Far outside any real life: a wall keeps the optimiser from overflowing on data with no spread.
        return math.inf
    beta = math.exp(log_beta)
    w_exact, w_right, w_interval = weights if weights is not None else (
        np.ones(exact.size), np.ones(right.size), np.ones(lows.size))
    n_exact = float(w_exact.sum())
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        log_exact = np.log(exact) - log_eta
        ll = (n_exact * log_beta - n_exact * log_eta + (beta - 1) * (w_exact * log_exact).sum()
              - (w_exact * np.exp(beta * log_exact)).sum())
        ll -= (w_right * np.power(right / math.exp(log_eta), beta)).sum()
        if lows.size:
            h_low = np.power(lows / math.exp(log_eta), beta)
            h_high = np.power(highs / math.exp(log_eta), beta)
            # log(S(low) - S(high)) written so a narrow interval far in the tail does not cancel to log(0).
            ll += (w_interval * (-h_low + np.log(-np.expm1(-(h_high - h_low))))).sum()
    return float(-ll) if np.isfinite(ll) else math.inf


def _weights(counts: Iterable[float] | None, size: int, what: str) -> np.ndarray:
    """`counts` (one per row, whole numbers 0 or more) as a float array; None is one unit per row."""
    if counts is None:
        return np.ones(size)
    array = np.asarray(list(counts), dtype=float).reshape(-1)
    if array.size != size:
        raise ValueError(_l("%(what)s: %(counts)s counts for %(rows)s times; each time needs its count",
                            what=what, counts=int(array.size), rows=size))
    if np.any(~np.isfinite(array) | (array < 0) | (array != np.round(array))):
        raise ValueError(_l("%(what)s must be whole numbers 0 or more", what=what))
    return array


def weibull_fit(failures: Iterable[float], suspensions: Iterable[float] = (), *,
                intervals: Iterable[tuple[float, float]] = (), failure_counts: Iterable[float] | None = None,
                suspension_counts: Iterable[float] | None = None,
                interval_counts: Iterable[float] | None = None) -> WeibullFit:
    """Weibull shape and scale by maximum likelihood from exact failures, suspensions and (low, high] intervals.

    The optional counts say how many units each time stands for (grouped data: a million units in the field are a
    few thousand ages with counts); without them every time is one unit.
    """
    exact = _times(failures, "failure times", positive=True)
    right = _times(suspensions, "suspension times", positive=False)
    pairs = list(intervals)
    lows = _times((low for low, _ in pairs), "interval starts", positive=False)
    highs = _times((high for _, high in pairs), "interval ends", positive=True)
    if np.any(highs <= lows):
        raise ValueError(_l("every failure interval must end after it starts"))
    weights = (_weights(failure_counts, exact.size, "failure counts"),
               _weights(suspension_counts, right.size, "suspension counts"),
               _weights(interval_counts, lows.size, "interval counts"))
    failed = float(weights[0].sum() + weights[2].sum())
    if failed < 2:
        raise ValueError(_l("not enough failures to fit: a Weibull needs at least 2, got %(count)s",
                            count=int(failed)))
    # Work in units of the longest time so both parameters start near 1 and the optimiser sees a round problem.
    scale = float(np.concatenate([exact, right, highs]).max())
    data = (exact / scale, right / scale, lows / scale, highs / scale, weights)
    observed = float((weights[0] * exact).sum() + (weights[2] * highs).sum() + (weights[1] * right).sum()) / scale
    start = np.array([0.0, math.log(observed / failed)])
    # Simplex first (robust on flat likelihoods), then a quasi-Newton polish to converge fully.
    rough = optimize.minimize(_weibull_nll, start, args=data, method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    if not np.isfinite(rough.fun) or math.exp(rough.x[0]) > MAX_BETA:
        raise ValueError(_l("the failures do not spread enough in time to fit a Weibull"))
    with np.errstate(all="ignore"):
        best = optimize.minimize(_weibull_nll, rough.x, args=data, method="BFGS", options={"gtol": 1e-10})
    if not np.isfinite(best.fun) or best.fun > rough.fun or math.exp(best.x[0]) > MAX_BETA:
        best = rough
    log_beta, log_eta = (float(v) for v in best.x)
    beta = math.exp(log_beta)
    eta = math.exp(log_eta) * scale
    # Exact failures carry a density: back in the caller's units each one costs log(scale).
    loglik = -best.fun - float(weights[0].sum()) * math.log(scale)
    cov = _covariance(best.x, data)
    se_beta, se_eta = math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])
    b10 = eta * math.exp(_B10_LOG / beta)
    # Delta method on log B10 = log eta + ln(-ln 0.9) / beta, with respect to (log beta, log eta).
    gradient = np.array([-_B10_LOG / beta, 1.0])
    se_b10 = math.sqrt(float(gradient @ cov @ gradient))
    return WeibullFit(beta=beta, eta=eta, loglik=loglik, b10=b10,
                      beta_low=beta * math.exp(-Z95 * se_beta), beta_high=beta * math.exp(Z95 * se_beta),
                      eta_low=eta * math.exp(-Z95 * se_eta), eta_high=eta * math.exp(Z95 * se_eta),
                      b10_low=b10 * math.exp(-Z95 * se_b10), b10_high=b10 * math.exp(Z95 * se_b10),
                      cov=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))))


def _covariance(at: np.ndarray, data: tuple) -> np.ndarray:
    """Inverse of the observed information (numerical Hessian of the negative log-likelihood) at the optimum."""
    step = 1e-4
    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * step, np.eye(2)[j] * step
            hessian[i, j] = (_weibull_nll(at + ei + ej, *data) - _weibull_nll(at + ei - ej, *data)
                             - _weibull_nll(at - ei + ej, *data) + _weibull_nll(at - ei - ej, *data)) / (4 * step**2)
    try:
        cov = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        cov = None
    if cov is None or not np.all(np.isfinite(cov)) or cov[0, 0] <= 0 or cov[1, 1] <= 0:
        raise ValueError(_l("the failures carry too little information to bound the Weibull fit"))
    return cov


@dataclass(frozen=True)
class ForecastMonth:
    """Expected returns in one coming month (1 = the next) and cumulated up to it, each with 95 % bounds."""

    month: int
    expected: float
    low: float
    high: float
    cumulative: float
    cumulative_low: float
    cumulative_high: float


@dataclass(frozen=True)
class WeibullForecast:
    """Returns expected from the units still in the field over the coming months, and how the bounds were made."""

    units: int
    months: tuple[ForecastMonth, ...]
    method: str


FORECAST_METHOD = "delta method on the fit's (ln beta, ln eta) covariance plus Poisson variance, normal 95 %"


def _cohorts(cohorts: Mapping[float, int] | Iterable[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(ages, counts) of the cohorts as arrays, refusing negative ages and counts that are not whole."""
    pairs = list(cohorts.items() if isinstance(cohorts, Mapping) else cohorts)
    ages = _times((age for age, _ in pairs), "cohort ages", positive=False)
    counts = np.array([_count(count, "units", age) for age, count in pairs], dtype=float)
    return ages, counts


def _expected(params: np.ndarray, ages: np.ndarray, counts: np.ndarray, months: int) -> np.ndarray:
    """Expected cumulative returns after 1..months more months at (ln beta, ln eta), all cohorts summed."""
    beta, eta = math.exp(params[0]), math.exp(params[1])
    ahead = ages[:, None] + np.arange(1, months + 1)[None, :]
    # S(t + k) / S(t) = exp(H(t) - H(t + k)): in cumulative hazards, so an old cohort never divides 0 by 0.
    conditional = -np.expm1(np.power(ages / eta, beta)[:, None] - np.power(ahead / eta, beta))
    return counts @ conditional


def weibull_forecast(fit: WeibullFit, cohorts: Mapping[float, int] | Iterable[tuple[float, int]], *,
                     months: int) -> WeibullForecast:
    """Returns expected in each of the next `months` months from units in the field (age in months: count).

    A unit of age t fails by t + k with probability (F(t + k) - F(t)) / (1 - F(t)). The 95 % bounds are the delta
    method on the fit's covariance of (ln beta, ln eta) plus Poisson variance for the returns themselves (normal
    approximation, clipped at 0); ages are in the fit's time unit, taken as months.
    """
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(_l("months to forecast must be a whole number 1 or more, not %(value)r", value=months))
    ages, counts = _cohorts(cohorts)
    if counts.sum() == 0:
        raise ValueError(_l("no units left in the field: every unit has failed or none was shipped, so there is "
                            "nothing to forecast"))
    at = np.array([math.log(fit.beta), math.log(fit.eta)])
    cov = np.array(fit.cov, dtype=float)
    cumulative = _expected(at, ages, counts, int(months))
    # Central differences: the Jacobian of the cumulative curve with respect to (ln beta, ln eta).
    step = 1e-6
    jacobian = np.column_stack([(_expected(at + e, ages, counts, int(months))
                                 - _expected(at - e, ages, counts, int(months))) / (2 * step)
                                for e in np.eye(2) * step])
    per_month = np.diff(cumulative, prepend=0.0)
    per_jacobian = np.diff(jacobian, axis=0, prepend=np.zeros((1, 2)))

    def bounds(value: np.ndarray, jac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        spread = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, cov, jac), 0.0) + value)
        return np.maximum(value - Z95 * spread, 0.0), value + Z95 * spread

    low, high = bounds(per_month, per_jacobian)
    cum_low, cum_high = bounds(cumulative, jacobian)
    rows = tuple(ForecastMonth(month=k + 1, expected=float(per_month[k]), low=float(low[k]), high=float(high[k]),
                               cumulative=float(cumulative[k]), cumulative_low=float(cum_low[k]),
                               cumulative_high=float(cum_high[k])) for k in range(int(months)))
    return WeibullForecast(units=int(counts.sum()), months=rows, method=FORECAST_METHOD)


@dataclass(frozen=True)
class PlotPoint:
    """A failure time on the Weibull probability plot: its adjusted rank, median rank F, ln t and ln(-ln(1 - F))."""

    time: float
    rank: float
    f: float
    x: float
    y: float


@dataclass(frozen=True)
class WeibullPlot:
    """Probability-plot points (one per distinct failure time) and the fitted line's two ends as (x, y)."""

    points: tuple[PlotPoint, ...]
    line: tuple[tuple[float, float], tuple[float, float]]
    fit: WeibullFit


def weibull_plot_points(failures: Iterable[float], suspensions: Iterable[float] = (), *,
                        failure_counts: Iterable[float] | None = None,
                        suspension_counts: Iterable[float] | None = None,
                        fit: WeibullFit | None = None) -> WeibullPlot:
    """Bernard median ranks on Johnson's adjusted ranks (suspensions shift later failures) and the fitted line.

    At equal times failures rank before suspensions; a time with several failures is one point at the rank of its
    last failure. Without `fit` the line is the maximum likelihood fit of the same data.
    """
    exact = _times(failures, "failure times", positive=True)
    right = _times(suspensions, "suspension times", positive=False)
    w_exact = _weights(failure_counts, exact.size, "failure counts")
    w_right = _weights(suspension_counts, right.size, "suspension counts")
    failed = int(w_exact.sum())
    if failed < 2:
        raise ValueError(_l("not enough failures to fit: a Weibull needs at least 2, got %(count)s", count=failed))
    if fit is None:
        fit = weibull_fit(exact, right, failure_counts=w_exact, suspension_counts=w_right)
    by_time: dict[float, list[float]] = {}
    for times, weights, slot in ((exact, w_exact, 0), (right, w_right, 1)):
        for time, weight in zip(times.tolist(), weights.tolist(), strict=True):
            by_time.setdefault(time, [0.0, 0.0])[slot] += weight
    total = float(w_exact.sum() + w_right.sum())
    points, rank, before = [], 0.0, 0.0
    for time in sorted(by_time):
        failed_here, suspended_here = by_time[time]
        for j in range(int(failed_here)):
            # Johnson: the rank grows by (N + 1 - previous rank) / (1 + units from this one on).
            rank += (total + 1 - rank) / (1 + total - before - j)
        if failed_here:
            f = (rank - 0.3) / (total + 0.4)
            points.append(PlotPoint(time=time, rank=rank, f=f, x=math.log(time), y=math.log(-math.log(1 - f))))
        before += failed_here + suspended_here
    xs = [p.x for p in points]
    ends = (min(xs), max(xs)) if max(xs) > min(xs) else (min(xs) - 1, max(xs) + 1)
    line = tuple((x, fit.beta * (x - math.log(fit.eta))) for x in ends)
    return WeibullPlot(points=tuple(points), line=(line[0], line[1]), fit=fit)
