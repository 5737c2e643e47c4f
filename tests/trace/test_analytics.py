"""The quality analytics agree with the worked numbers of the reference (0.1 % relative unless stated)."""

from __future__ import annotations

import math
import random
from datetime import date

import numpy as np
import pytest
from scipy import stats

from serialtrace.trace import analytics

REL = 1e-3

FIVE_BATCHES = [("B1", 1200, 14), ("B2", 800, 9), ("B3", 1500, 41), ("B4", 600, 5), ("B5", 900, 12)]


# ---------------------------------------------------------------------------------------------- batch claim rates


def test_exact_interval_matches_scipy_documentation():
    assert analytics.rate_interval(7, 50, method="exact") == pytest.approx((0.0581917, 0.2673960), rel=REL)


def test_p_chart_limits_match_the_nist_wafer_example():
    lcl, ucl = analytics.p_chart_limits(0.2313, 50)
    assert lcl == pytest.approx(0.0524, rel=REL)
    assert ucl == pytest.approx(0.4102, rel=REL)


def test_benjamini_hochberg_rejects_four_of_fifteen_and_bonferroni_three():
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
         0.7590, 1.0]
    adjusted = analytics.benjamini_hochberg(p)
    assert sum(value <= 0.05 for value in adjusted) == 4
    assert sum(value <= 0.05 / len(p) for value in p) == 3
    # Step-up keeps the adjusted values in the order of the raw ones.
    assert list(adjusted) == sorted(adjusted)


def test_five_batches_flag_only_b3_with_the_reference_numbers():
    report = analytics.batch_rates(FIVE_BATCHES)
    assert report.pooled_rate == pytest.approx(0.0162, rel=REL)
    b3 = report.rows[0]
    assert b3.batch == "B3" and b3.flagged
    assert b3.rate == pytest.approx(0.02733, rel=REL)
    assert (b3.ci_low, b3.ci_high) == pytest.approx((0.02021, 0.03687), rel=REL)
    assert b3.ucl == pytest.approx(0.02598, rel=REL)
    assert b3.p_value == pytest.approx(7.14e-5, rel=REL)
    assert b3.p_adjusted == pytest.approx(3.57e-4, rel=REL)
    assert [row.batch for row in report.rows if row.flagged] == ["B3"]
    assert report.chi_square == pytest.approx(17.237, rel=REL)
    assert report.df == 4
    assert report.chi_square_p == pytest.approx(0.00174, rel=REL)


def test_a_batch_below_the_minimum_size_is_never_flagged():
    # 10 claims in 20 units is far above the rest, but 20 units are too few to act on.
    report = analytics.batch_rates([("small", 20, 10), ("big", 5000, 50), ("other", 5000, 45)])
    small = next(row for row in report.rows if row.batch == "small")
    assert small.p_adjusted < 0.05
    assert not small.eligible and not small.flagged


def test_a_batch_below_the_minimum_claims_is_never_flagged():
    report = analytics.batch_rates([("few", 40, 2), ("big", 50000, 10)], min_claims=3)
    few = next(row for row in report.rows if row.batch == "few")
    assert few.p_adjusted < 0.05 and not few.flagged


def test_zero_claims_everywhere_flags_nothing_without_nan():
    report = analytics.batch_rates([("B1", 100, 0), ("B2", 200, 0)])
    assert [row.flagged for row in report.rows] == [False, False]
    assert report.chi_square == 0.0 and report.chi_square_p == 1.0
    assert all(row.p_value == 1.0 for row in report.rows)


def test_all_units_failed_is_a_rate_of_one():
    report = analytics.batch_rates([("B1", 50, 50), ("B2", 50, 1)])
    assert report.rows[0].batch == "B1" and report.rows[0].rate == 1.0 and report.rows[0].flagged


@pytest.mark.parametrize(("rows", "message"), [
    ([], "at least two batches, got 0"),
    ([("B1", 100, 3)], "at least two batches, got 1"),
    ([("B1", 100, 3), ("B2", 10, 11)], "B2 has 11 claims but only 10 units shipped"),
    ([("B1", 100, -1), ("B2", 10, 1)], "claims of B1 must be a whole number 0 or more, not -1"),
    ([("B1", -5, 0), ("B2", 10, 1)], "units shipped of B1 must be a whole number 0 or more, not -5"),
    ([("B1", 0, 0), ("B2", 10, 1)], "units shipped of B1 must be more than 0"),
    ([("B1", 10, 1), ("B1", 10, 1)], "batch B1 appears more than once"),
])
def test_bad_batch_rows_are_refused_by_name(rows, message):
    with pytest.raises(ValueError, match=message):
        analytics.batch_rates(rows)


# ---------------------------------------------------------------------------------------------- risk ratio


def test_risk_ratio_matches_the_scipy_relative_risk_example():
    result = analytics.risk_ratio(27, 122, 44, 487)
    assert result.ratio == pytest.approx(2.4495, rel=REL)
    assert (result.ci_low, result.ci_high) == pytest.approx((1.5837, 3.7887), rel=REL)
    assert result.p_value < 0.001


def test_risk_ratio_with_no_events_in_one_group_stays_finite_in_its_interval():
    result = analytics.risk_ratio(0, 100, 10, 100)
    assert result.ratio == 0.0
    assert 0 < result.ci_low < result.ci_high < 1


def test_risk_ratio_refuses_no_events_at_all_and_claims_over_units():
    with pytest.raises(ValueError, match="neither group has any events"):
        analytics.risk_ratio(0, 100, 0, 100)
    with pytest.raises(ValueError, match="group A has 5 claims but only 4 units shipped"):
        analytics.risk_ratio(5, 4, 1, 10)


# ---------------------------------------------------------------------------------------------- Pareto, ABC, XYZ


def test_pareto_order_cumulative_shares_and_vital_few():
    counts = {"price code": 80, "schedule date": 27, "supplier code": 66, "contact num.": 94, "part num.": 33}
    rows = analytics.pareto(counts)
    assert [row.code for row in rows] == ["contact num.", "price code", "supplier code", "part num.",
                                          "schedule date"]
    assert [row.cumulative for row in rows] == [94, 174, 240, 273, 300]
    assert [row.cumulative_pct for row in rows] == pytest.approx([31.33, 58.00, 80.00, 91.00, 100], rel=REL)
    assert [row.vital for row in rows] == [True, True, True, False, False]


def test_pareto_catch_all_goes_last_and_ties_go_by_code():
    rows = analytics.pareto({"other": 50, "b": 5, "a": 5}, last=("other",))
    assert [row.code for row in rows] == ["a", "b", "other"]


def test_pareto_refuses_nothing_counted_and_negative_counts():
    with pytest.raises(ValueError, match="at least one counted failure"):
        analytics.pareto({"a": 0})
    with pytest.raises(ValueError, match="count of a must be a whole number 0 or more, not -2"):
        analytics.pareto({"a": -2})


COSTS = {"C1": 52000, "C2": 21000, "C3": 9500, "C4": 6000, "C5": 4500, "C6": 3000, "C7": 2000, "C8": 1200,
         "C9": 500, "C10": 300}


def test_abc_cumulative_shares_and_both_rules():
    including = analytics.abc(COSTS, rule="including")
    assert [row.cumulative_pct for row in including] == pytest.approx(
        [52, 73, 82.5, 88.5, 93, 96, 98, 99.2, 99.7, 100], rel=REL)
    assert "".join(row.category for row in including) == "AABBBCCCCC"
    assert "".join(row.category for row in analytics.abc(COSTS, rule="before")) == "AAABBBCCCC"


def test_abc_refuses_an_unknown_rule_and_negative_values():
    with pytest.raises(ValueError, match="ABC rule must be"):
        analytics.abc(COSTS, rule="after")
    with pytest.raises(ValueError, match="value of C1 must be a number 0 or more"):
        analytics.abc({"C1": -1})


def test_xyz_with_the_sample_standard_deviation():
    rows = analytics.xyz({"C1": [10, 11, 10, 9, 10, 10], "C2": [8, 10, 7, 9, 11, 9], "C3": [0, 3, 0, 6, 1, 0]})
    assert [row.cv for row in rows] == pytest.approx([0.063, 0.157, 1.45], rel=5e-3)
    assert [row.category for row in rows] == ["X", "Y", "Z"]


def test_xyz_refuses_a_single_period_and_an_all_zero_series():
    with pytest.raises(ValueError, match="C1 needs at least two periods"):
        analytics.xyz({"C1": [3]})
    with pytest.raises(ValueError, match="C2 is 0 in every period"):
        analytics.xyz({"C2": [0, 0, 0]})


# ---------------------------------------------------------------------------------------------- Nevada chart

SHIPPED = {date(2010, 6, 1): 100, date(2010, 7, 1): 140, date(2010, 8, 1): 150}
RETURNED = {(date(2010, 6, 1), date(2010, 7, 1)): 3, (date(2010, 6, 1), date(2010, 8, 1)): 3,
            (date(2010, 6, 1), date(2010, 9, 1)): 5, (date(2010, 7, 1), date(2010, 8, 1)): 2,
            (date(2010, 7, 1), date(2010, 9, 1)): 4, (date(2010, 8, 1), date(2010, 9, 1)): 4}


def test_nevada_failures_suspensions_rates_and_kaplan_meier():
    chart = analytics.nevada(SHIPPED, RETURNED, end=date(2010, 9, 30))
    assert [row.month for row in chart.months] == [1, 2, 3]
    assert [row.failures for row in chart.months] == [9, 7, 5]
    assert [row.suspensions for row in chart.months] == [146, 134, 89]
    assert [row.at_risk for row in chart.months] == [390, 235, 94]
    assert [row.rate for row in chart.months] == pytest.approx([0.02308, 0.02979, 0.05319], rel=REL)
    assert chart.months[-1].cumulative_f == pytest.approx(0.1026, rel=REL)
    assert (date(2010, 6, 1), 3, 5) in chart.cells


@pytest.mark.parametrize(("returned", "message"), [
    ({(date(2010, 6, 1), date(2010, 10, 1)): 1}, "outside 2010-06-01 to the end of observation"),
    ({(date(2010, 7, 1), date(2010, 6, 1)): 1}, "outside 2010-07-01 to the end of observation"),
    ({(date(2010, 5, 1), date(2010, 6, 1)): 1}, "returns from 2010-05-01, which has no shipment"),
    ({(date(2010, 6, 1), date(2010, 7, 1)): 101}, "2010-06-01 has 101 returns but only 100 units shipped"),
])
def test_nevada_refuses_returns_that_cannot_be(returned, message):
    with pytest.raises(ValueError, match=message):
        analytics.nevada(SHIPPED, returned, end=date(2010, 9, 1))


def test_nevada_refuses_no_shipments_and_a_shipment_after_the_end():
    with pytest.raises(ValueError, match="at least one shipment period"):
        analytics.nevada({}, {}, end=date(2010, 9, 1))
    with pytest.raises(ValueError, match="shipment period 2010-08-01 is after the end of observation"):
        analytics.nevada(SHIPPED, {}, end=date(2010, 7, 1))


# ---------------------------------------------------------------------------------------------- SLA


HOURS = [0.667, 1.25, 3.5, 5.0, 7.0, 8.0]
TARGETS = [1, 1, 4, 4, 8, 8]


def test_sla_share_breached_and_p90_by_the_named_method():
    linear = analytics.sla_metrics(HOURS, TARGETS)
    assert (linear.breached, linear.count) == (2, 6)
    assert linear.share_breached == pytest.approx(1 / 3, rel=REL)
    assert linear.p90 == pytest.approx(7.5, rel=REL) and linear.method == "linear"
    assert analytics.sla_metrics(HOURS, TARGETS, method="nearest-rank").p90 == pytest.approx(8.0, rel=REL)


@pytest.mark.parametrize(("elapsed", "targets", "message"), [
    ([], [], "at least one time"),
    ([1.0], [1, 2], "1 times but 2 targets"),
    ([-1.0], [1], "must be 0 or more"),
])
def test_sla_metrics_refuse_bad_input(elapsed, targets, message):
    with pytest.raises(ValueError, match=message):
        analytics.sla_metrics(elapsed, targets)


# ---------------------------------------------------------------------------------------------- Weibull

SHOCK_ABSORBERS = (
    "6700F 6950C 7820C 8790C 9120F 9660C 9820C 11310C 11690C 11850C 11880C 12140C 12200F 12870C 13150F 13330C "
    "13470C 14040C 14300F 17520F 17540C 17890C 18450C 18960C 18980C 19410C 20100F 20100C 20150C 20320C 20900F "
    "22700F 23490C 26510F 27410C 27490F 27890C 28100C").split()


def test_weibull_with_right_censoring_matches_the_shock_absorbers():
    failures = [int(item[:-1]) for item in SHOCK_ABSORBERS if item.endswith("F")]
    suspensions = [int(item[:-1]) for item in SHOCK_ABSORBERS if item.endswith("C")]
    fit = analytics.weibull_fit(failures, suspensions)
    assert fit.beta == pytest.approx(3.1605, rel=REL)
    assert fit.eta == pytest.approx(27718.7, rel=REL)
    # The log-likelihood too: an optimiser stopping early on a flat likelihood can still land near the parameters.
    assert fit.loglik == pytest.approx(-123.9954, abs=1e-4)
    assert fit.b10 == pytest.approx(fit.eta * 0.1053605 ** (1 / fit.beta), rel=1e-6)
    assert fit.beta_low < fit.beta < fit.beta_high and fit.eta_low < fit.eta < fit.eta_high
    assert fit.b10_low < fit.b10 < fit.b10_high


def test_weibull_on_the_nevada_returns_exact_at_the_end_of_their_month():
    fit = analytics.weibull_fit([1] * 9 + [2] * 7 + [3] * 5, [1] * 146 + [2] * 134 + [3] * 89)
    assert fit.beta == pytest.approx(2.4928, rel=REL)
    assert fit.eta == pytest.approx(6.6950, rel=REL)


def test_weibull_with_interval_censoring_agrees_with_scipy_censored_data():
    intervals = [(0, 1)] * 9 + [(1, 2)] * 7 + [(2, 3)] * 5
    suspensions = [1] * 146 + [2] * 134 + [3] * 89
    fit = analytics.weibull_fit([], suspensions, intervals=intervals)
    data = stats.CensoredData(interval=np.array(intervals, dtype=float), right=np.array(suspensions, dtype=float))
    beta, _, eta = stats.weibull_min.fit(data, floc=0)
    assert (fit.beta, fit.eta) == pytest.approx((beta, eta), rel=REL)


def test_weibull_bounds_have_the_textbook_width_on_a_large_complete_sample():
    # Complete Weibull data: Var(beta) ~ 0.608 beta^2 / n and Var(eta) ~ 1.109 eta^2 / (n beta^2).
    n = 2000
    times = 3.0 * (-np.log(1 - (np.arange(1, n + 1) - 0.5) / n)) ** (1 / 2.0)
    fit = analytics.weibull_fit(times)
    assert (fit.beta, fit.eta) == pytest.approx((2.0, 3.0), rel=REL)
    assert (math.log(fit.beta_high / fit.beta) / analytics.Z95) ** 2 * n == pytest.approx(0.608, rel=0.01)
    assert (math.log(fit.eta_high / fit.eta) / analytics.Z95) ** 2 * n * fit.beta**2 == pytest.approx(1.109, rel=0.01)


@pytest.mark.parametrize(("failures", "suspensions", "intervals", "message"), [
    ([], [5, 6], (), "not enough failures to fit: a Weibull needs at least 2, got 0"),
    ([4], [5, 6], (), "not enough failures to fit: a Weibull needs at least 2, got 1"),
    ([0, 4], [], (), "failure times must be finite times above 0, not 0.0"),
    ([3, 4], [-1], (), "suspension times must be finite times of 0 or more, not -1.0"),
    ([3, 4], [], [(2, 2)], "every failure interval must end after it starts"),
    ([4, 4, 4], [1], (), "do not spread enough in time"),
])
def test_weibull_refuses_what_cannot_be_fitted(failures, suspensions, intervals, message):
    with pytest.raises(ValueError, match=message):
        analytics.weibull_fit(failures, suspensions, intervals=intervals)


def test_the_fast_paths_agree_with_scipys_own_tests():
    # batch_rates' vectorised hypergeometric tail is Fisher's one-sided exact test; rate_interval's closed form is
    # binomtest's Wilson interval.
    rng = random.Random(17)
    for _ in range(40):
        rows = [(i, rng.randint(1, 3000), 0) for i in range(rng.randint(2, 12))]
        rows = [(key, units, rng.randint(0, min(units, rng.choice([2, 20, 200])))) for key, units, _ in rows]
        total_units, total_claims = sum(r[1] for r in rows), sum(r[2] for r in rows)
        for row in analytics.batch_rates(rows, min_units=1, min_claims=0).rows:
            rest = total_claims - row.claims
            table = [[row.claims, row.units - row.claims], [rest, total_units - row.units - rest]]
            assert row.p_value == pytest.approx(stats.fisher_exact(table, alternative="greater").pvalue,
                                                rel=1e-9, abs=1e-300)
            ci = stats.binomtest(row.claims, row.units).proportion_ci(confidence_level=0.95, method="wilson")
            assert (row.ci_low, row.ci_high) == (pytest.approx(ci.low, abs=1e-12), pytest.approx(ci.high, abs=1e-12))


def test_weibull_with_counts_equals_one_time_per_unit():
    grouped = analytics.weibull_fit([1, 2, 3], [1, 2, 3], failure_counts=[9, 7, 5], suspension_counts=[146, 134, 89])
    assert grouped.beta == pytest.approx(2.4928, rel=REL) and grouped.eta == pytest.approx(6.6950, rel=REL)
    by_interval = analytics.weibull_fit([], [1, 2, 3], intervals=[(0, 1), (1, 2), (2, 3)], interval_counts=[9, 7, 5],
                                        suspension_counts=[146, 134, 89])
    one_each = analytics.weibull_fit([], [1] * 146 + [2] * 134 + [3] * 89,
                                     intervals=[(0, 1)] * 9 + [(1, 2)] * 7 + [(2, 3)] * 5)
    assert (by_interval.beta, by_interval.eta) == pytest.approx((one_each.beta, one_each.eta), rel=1e-6)
    assert by_interval.loglik == pytest.approx(one_each.loglik, rel=1e-6)
    assert by_interval.cov[0][0] > 0 and by_interval.cov[1][1] > 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"failure_counts": [1]}, "failure counts: 1 counts for 2 times"),
    ({"suspension_counts": [1.5]}, "suspension counts must be whole numbers 0 or more"),
    ({"failure_counts": [1, 0]}, "not enough failures to fit: a Weibull needs at least 2, got 1"),
])
def test_weibull_refuses_counts_that_do_not_fit_the_times(kwargs, message):
    with pytest.raises(ValueError, match=message):
        analytics.weibull_fit([3, 4], [5], **kwargs)


def _fixed(beta: float, eta: float, cov=((0.0, 0.0), (0.0, 0.0))) -> analytics.WeibullFit:
    return analytics.WeibullFit(beta=beta, eta=eta, loglik=0.0, b10=0.0, beta_low=0.0, beta_high=0.0, eta_low=0.0,
                                eta_high=0.0, b10_low=0.0, b10_high=0.0, cov=cov)


def test_forecast_is_the_conditional_probability_times_the_units_in_the_field():
    # beta 2, eta 10, 100 units 5 months old: 100 (1 - exp(H(5) - H(6))) = 100 (1 - e^-0.11) = 10.4166 next month,
    # 100 (e^-0.11 - e^-0.24) = 10.9206 the month after.
    forecast = analytics.weibull_forecast(_fixed(2.0, 10.0), {5.0: 100}, months=2)
    first, second = forecast.months
    assert (first.month, second.month, forecast.units) == (1, 2, 100)
    assert first.expected == pytest.approx(10.4166, rel=1e-4) and second.expected == pytest.approx(10.9206, rel=1e-4)
    assert second.cumulative == pytest.approx(21.3372, rel=1e-4)
    # No parameter uncertainty: the bounds are the Poisson spread alone, expected +- 1.96 sqrt(expected).
    assert (first.low, first.high) == pytest.approx((10.4166 - 1.96 * 10.4166**0.5, 10.4166 + 1.96 * 10.4166**0.5),
                                                    rel=1e-3)
    assert "delta method" in forecast.method and "Poisson" in forecast.method


def test_forecast_with_beta_one_forgets_age_and_widens_with_the_fit_uncertainty():
    # Exponential: every unit fails next month with 1 - e^-0.1 whatever its age; 60 + 40 units -> 9.5163.
    plain = analytics.weibull_forecast(_fixed(1.0, 10.0), [(0.0, 60), (7.0, 40)], months=1).months[0]
    assert plain.expected == pytest.approx(100 * (1 - math.exp(-0.1)), rel=1e-9)
    uncertain = analytics.weibull_forecast(_fixed(1.0, 10.0, ((0.04, 0.0), (0.0, 0.04))), [(0.0, 60), (7.0, 40)],
                                           months=1).months[0]
    assert uncertain.expected == pytest.approx(plain.expected)
    assert uncertain.low < plain.low < plain.expected < plain.high < uncertain.high


def test_forecast_from_a_real_fit_has_bounds_around_a_growing_total():
    fit = analytics.weibull_fit([1] * 9 + [2] * 7 + [3] * 5, [1] * 146 + [2] * 134 + [3] * 89)
    rows = analytics.weibull_forecast(fit, {1: 146, 2: 134, 3: 89}, months=6).months
    assert all(0 <= r.low < r.expected < r.high and r.cumulative_low < r.cumulative < r.cumulative_high for r in rows)
    assert [r.cumulative for r in rows] == sorted(r.cumulative for r in rows) and rows[-1].cumulative < 369


@pytest.mark.parametrize(("cohorts", "months", "message"), [
    ({1.0: 10}, 0, "months to forecast must be a whole number 1 or more, not 0"),
    ({}, 3, "no units left in the field"),
    ({4.0: 0}, 3, "no units left in the field"),
    ({-1.0: 5}, 3, "cohort ages must be finite times of 0 or more"),
])
def test_forecast_refuses_nothing_to_forecast(cohorts, months, message):
    with pytest.raises(ValueError, match=message):
        analytics.weibull_forecast(_fixed(2.0, 10.0), cohorts, months=months)


def test_plot_points_are_bernard_median_ranks():
    # Complete data, n = 3: F = (i - 0.3) / 3.4 = 0.2059, 0.5, 0.7941.
    plot = analytics.weibull_plot_points([10, 20, 30], fit=_fixed(2.0, 20.0))
    assert [p.f for p in plot.points] == pytest.approx([0.7 / 3.4, 0.5, 2.7 / 3.4])
    assert plot.points[1].x == pytest.approx(math.log(20)) and plot.points[1].y == pytest.approx(math.log(math.log(2)))
    # The fitted line y = beta (x - ln eta) crosses 0 at ln eta and runs over the points' x.
    (x0, y0), (x1, y1) = plot.line
    assert (x0, x1) == pytest.approx((math.log(10), math.log(30)))
    assert (y0, y1) == pytest.approx((2 * math.log(10 / 20), 2 * math.log(30 / 20)))


def test_plot_points_use_johnsons_adjusted_ranks_for_suspensions():
    # 10 F, 20 S, 30 F: the first failure ranks 1; the suspension leaves one unit, so the next rank grows by
    # (3 + 1 - 1) / (1 + 1) = 1.5 to 2.5, F = 2.2 / 3.4 = 0.6471.
    plot = analytics.weibull_plot_points([10, 30], [20])
    assert [p.rank for p in plot.points] == pytest.approx([1.0, 2.5])
    assert [p.f for p in plot.points] == pytest.approx([0.7 / 3.4, 2.2 / 3.4])
    assert plot.fit.beta > 0  # fitted by maximum likelihood when no fit is given
    grouped = analytics.weibull_plot_points([10, 30], [20], failure_counts=[2, 1], suspension_counts=[3],
                                            fit=_fixed(1.0, 30.0))
    # 10 F x2 ranks 1, 2 (one point at 2); three suspensions at 20; 30 F: 2 + (7 - 2) / (1 + 1) = 4.5.
    assert [p.rank for p in grouped.points] == pytest.approx([2.0, 4.5])


@pytest.mark.parametrize(("failures", "suspensions"), [([], []), ([], [4, 5]), ([3], [4, 5])])
def test_plot_points_need_two_failures(failures, suspensions):
    with pytest.raises(ValueError, match="not enough failures to fit: a Weibull needs at least 2"):
        analytics.weibull_plot_points(failures, suspensions)
