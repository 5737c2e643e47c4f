"""SLA compliance figures of claims driven through the real services, checked against hand-worked numbers
(tests/quality/sla_data.py), on both databases; and the business-time arrays against warranty.sla."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from serialtrace.errors import ValidationError
from serialtrace.quality import business_time, sla_report
from serialtrace.warranty import sla

from ..warranty.tested_case import people
from .sla_data import HOUR, NOW, WEEK, make_claims

PERIOD = {"date_from": "2025-06-01", "date_to": "2025-06-06"}


@pytest.fixture
def who(session):
    return people(session)


@pytest.fixture
def claims(session, make_batch, who):
    return make_claims(session, make_batch, who)


def _report(session, method="linear", **filters):
    chosen = sla_report.make_filters(session, today=NOW.date(), **{**PERIOD, **filters}, method=method)
    return sla_report.sla_report(session, chosen, now=NOW, timezone="UTC")


def test_first_response_and_resolution_match_the_hand_worked_figures(session, claims):
    report = _report(session)
    assert report.claims == 4  # not the draft, the cancelled claim or May's
    first = report.first_response
    # 1, 2.5, 9 (equal to its target: met) and 44 h still waiting (over its 2 h target: breached).
    assert (first.count, first.open, first.breached, first.share_breached) == (4, 1, 1, 0.25)
    assert first.median_seconds == pytest.approx(5.75 * HOUR)  # (2.5 + 9) / 2
    assert first.p90_seconds == pytest.approx(33.5 * HOUR)  # 9 + 0.7 * (44 - 9), linear interpolation
    resolution = report.resolution
    # 9 h stopped, 44 h running, 44 h running (P1: 18 h target, breached), 10 h paused.
    assert (resolution.count, resolution.open, resolution.breached, resolution.share_breached) == (4, 3, 1, 0.25)
    assert resolution.median_seconds == pytest.approx(27 * HOUR)
    assert resolution.p90_seconds == pytest.approx(44 * HOUR)


def test_nearest_rank_percentiles_are_named_and_differ(session, claims):
    report = _report(session, method="nearest-rank")
    assert report.filters.method == "nearest-rank"
    assert report.first_response.median_seconds == pytest.approx(2.5 * HOUR)
    assert report.first_response.p90_seconds == pytest.approx(44 * HOUR)
    assert report.resolution.median_seconds == pytest.approx(10 * HOUR)


def test_running_clocks_count_up_to_now(session, claims):
    later = sla_report.sla_report(session, sla_report.make_filters(session, today=NOW.date(), **PERIOD),
                                  now=NOW + timedelta(days=3), timezone="UTC")  # Monday 9 June 18:00
    # B and C run on by Monday's nine hours; A is stopped and D paused.
    assert later.resolution.median_seconds == pytest.approx((10 + 53) / 2 * HOUR)
    assert later.resolution.p90_seconds == pytest.approx(53 * HOUR)
    assert later.first_response.p90_seconds == pytest.approx((9 + 0.7 * (53 - 9)) * HOUR)


def test_breakdowns_by_priority_team_stage_and_week(session, claims):
    report = _report(session)
    by_priority = {r["priority"]: r for r in report.priorities}
    assert list(by_priority) == ["P1", "P3"]
    assert by_priority["P1"]["claims"] == 1 and by_priority["P1"]["resolution_share_breached"] == 1.0
    assert by_priority["P3"]["first_response_breached"] == 0
    assert by_priority["P3"]["resolution_open"] == 2
    teams = {r["team"]: r["claims"] for r in report.teams}
    assert teams == {"Returns": 1, None: 3}
    stages = {r["stage"]: r for r in report.stages}
    # Four triage tasks (registered and triage are one stage); A's replacement opened the return stage.
    assert stages["triage"]["count"] == 4 and stages["return"]["count"] == 1
    # A's triage took exactly its 9 h (met); B's runs on (44 h), C's P1 triage is over 2 h, D's paused at 10 h.
    assert (stages["triage"]["breached"], stages["triage"]["open"]) == (3, 3)
    # The period starts on Sunday 1 June: its week (from Monday 26 May) is shown, empty, with no share at all.
    empty, week = report.weeks
    assert (empty["week"], empty["claims"], empty["resolution_share_breached"]) == ("2025-05-26", 0, None)
    assert week["week"] == WEEK.isoformat() and week["claims"] == 4
    assert week["resolution_share_breached"] == 0.25


def test_filters_pick_claims(session, claims):
    assert _report(session, priority="P1").claims == 1
    assert _report(session, team="Returns").resolution.breached == 1
    assert _report(session, channel="phone").claims == 0
    assert _report(session, sku="PR-100").claims == 4
    weeks = _report(session, date_from="2025-05-01", date_to="2025-05-31").weeks
    assert sum(w["claims"] for w in weeks) == 1 and len(weeks) == 5  # every week shown, empty ones too


def test_an_empty_period_has_zero_rows_and_no_nan(session, claims):
    report = _report(session, date_from="2024-01-01", date_to="2024-01-31")
    assert report.claims == 0
    assert (report.stages, report.priorities, report.teams, report.weeks) == ((), (), (), ())
    assert report.first_response == sla_report.Measure()
    assert report.as_dict()["resolution"]["median_seconds"] is None


@pytest.mark.parametrize(("filters", "field"), [
    ({"date_from": "2025-13-01"}, "from"), ({"date_to": "yesterday"}, "to"),
    ({"date_from": "2025-06-07", "date_to": "2025-06-01"}, "from"), ({"team": "Nobody"}, "team"),
    ({"sku": "NOPE"}, "sku"), ({"family": "Nothing"}, "family"), ({"priority": "P9"}, "priority"),
    ({"channel": "fax"}, "channel"), ({"method": "mean"}, "method"),
    ({"date_from": "2020-01-01", "date_to": "2025-01-01"}, "from"),
])
def test_bad_filters_name_their_field(session, filters, field):
    with pytest.raises(ValidationError) as caught:
        sla_report.make_filters(session, today=NOW.date(), **filters)
    assert caught.value.details == {"field": field}


def test_default_period_is_the_last_ninety_days(session):
    chosen = sla_report.make_filters(session, today=date(2025, 6, 6))
    assert (chosen.date_from, chosen.date_to, chosen.method) == (date(2025, 3, 9), date(2025, 6, 6), "linear")


def test_downloads_rows_are_in_business_hours(session, claims):
    rows = sla_report.table_rows(_report(session), "priorities")
    assert list(rows[0]) == list(sla_report.table_columns("priorities"))
    assert rows[0]["resolution_median_hours"] == 44.0 and rows[0]["priority"] == "P1"


def test_business_time_arrays_agree_with_the_clocks_arithmetic():
    rng = random.Random(7)
    calendar = sla.Calendar.build(opens=time(10), closes=time(18), timezone="Europe/Berlin", country="DE",
                                  holidays=[date(2025, 6, 4)], extra_days=[date(2025, 6, 7), date(2025, 12, 25)])
    starts = [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(500)]
    ends = [s + timedelta(seconds=rng.randrange(40 * 86400)) for s in starts]
    # Stored times come back from SQLite without their zone: naive is UTC.
    got = business_time.business_seconds(calendar, [s.replace(tzinfo=None) for s in starts], ends)
    assert got.tolist() == pytest.approx([calendar.business_seconds(s, e) for s, e in zip(starts, ends, strict=True)],
                                         abs=1e-3)
    # The reference table's calendar: Monday-Friday 10:00-18:00, no holidays.
    plain = sla.Calendar.build()
    mon = datetime(2021, 6, 28, 12, 0, tzinfo=UTC)
    assert business_time.business_seconds(plain, [mon], [mon + timedelta(days=3, hours=8)]).tolist() == [108000]
