"""SLA compliance of the complaint process: time to first response and to resolution in business time, the share
breached, median and p90, by stage, priority, team and week, for the claims registered in a period.

Which claims: those registered (`Claim.opened_at`) from the first to the last day of the period, counted in the
default business calendar's time zone, past draft and not cancelled (a draft has no clocks yet; a cancelled claim was
withdrawn or registered in error, as on the claim-rate tables).

Time to first response: business time from registration (the moment the claim's first-cycle clocks started) to the
first of
  - the claim's first step out of `registered` (a `state_change` timeline row leaving draft or registered for any
    other state: someone took the claim into triage, asked the customer, shipped a replacement, ...), or
  - the first comment written for the customer (`Comment.visibility == "customer"`).
Assignments are not a response: routing assigns a team at registration and a reassignment is a hand-off the
customer never sees. Its target is the first triage stage's target (the stage whose work the first response is),
as that stage's clock stores it, so a priority change is honoured as the clocks honour it. The business time is
counted on that clock's calendar, exactly as warranty.sla counts it.

Time to resolution: each resolution clock of the claims (a reopened claim has one per cycle: every cycle is a
promise to the customer), its business time elapsed against its target as the clock stores them; a clock still
running counts up to now as warranty.stages.elapsed_at does, a paused one what it had counted. Breached is the
clock's own flag (a breach stays for the cycle even after a priority change raised the target) or elapsed over
target (equal is met).

Still open (no first response yet, or a resolution clock not stopped) counts with its business time so far and is
counted in `open`: it is never dropped, and an old open claim already over its target is breached. Median and p90
use analytics.sla_metrics with the named percentile method ("linear" interpolation by default, or "nearest-rank").
"""

from __future__ import annotations

import gc
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..i18n import _l
from ..trace import analytics
from ..trace.models import Product, Unit
from ..trace.policy import parse_date
from ..warranty import calendars, reports
from ..warranty import service as warranty_service
from ..warranty.enums import ClaimState, ClockKind, Priority, Stage
from ..warranty.models import Claim, ClaimEvent, Comment, SlaClock, StageTask, Team
from . import business_time
from .queries import NOT_COUNTED

DEFAULT_DAYS = 90
# The longest period one report covers: the weekly trend stays a readable chart and table.
MAX_DAYS = 3 * 366
METHODS = tuple(analytics.PERCENTILE_METHODS)
# Leaving one of these states is the first response (see the module's docstring).
NOT_YET = (ClaimState.DRAFT.value, ClaimState.REGISTERED.value)
TABLES = ("stages", "priorities", "teams", "weeks")
MEASURE_FIELDS = ("count", "open", "breached", "share_breached", "median_seconds", "p90_seconds")


@dataclass(frozen=True)
class SlaFilters:
    """Which claims: registered from `date_from` to `date_to` (both included), optionally of one team, product
    family, SKU, priority and channel; `method` names the percentile method."""

    date_from: date
    date_to: date
    team: str | None = None
    family: str | None = None
    sku: str | None = None
    priority: str | None = None
    channel: str | None = None
    method: str = "linear"

    def as_args(self) -> dict[str, str]:
        """The filters as the query string the page and the downloads take (empty ones left out)."""
        args = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "team": self.team,
                "family": self.family, "sku": self.sku, "priority": self.priority, "channel": self.channel,
                "method": self.method}
        return {k: v for k, v in args.items() if v}


def _text(value: str | None, name: str = "") -> str | None:
    """Blank is no filter; a NUL character (which PostgreSQL refuses) is a 422 naming the field."""
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError(_l("%(field)s contains a NUL character", field=name), details={"field": name})
    return value or None


def local_today(session: Session, now: datetime, timezone: str) -> date:
    """Today in the time zone registration days are counted in (the default business calendar's, else `timezone`)."""
    return business_time.as_utc(now).astimezone(ZoneInfo(reports.report_timezone(session, timezone))).date()


def make_filters(session: Session, *, today: date, date_from: str | None = None, date_to: str | None = None,
                 team: str | None = None, family: str | None = None, sku: str | None = None,
                 priority: str | None = None, channel: str | None = None, method: str | None = None) -> SlaFilters:
    """Checked filters (defaults: the last 90 days up to `today`, linear percentiles); a bad one is a 422 naming
    the field: a date that is not one, from after to, an unknown team, family, SKU, priority, channel or method."""
    end = parse_date(date_to or "", field="to", what="to date") if _text(date_to, "to") else today
    start = (parse_date(date_from or "", field="from", what="from date") if _text(date_from, "from")
             else end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise ValidationError(_l("the from date %(start)s is after the to date %(end)s", start=start, end=end),
                              details={"field": "from"})
    if (end - start).days >= MAX_DAYS:
        raise ValidationError(_l("from %(start)s to %(end)s is more than %(days)s days: choose a shorter period",
                                 start=start, end=end, days=MAX_DAYS), details={"field": "from"})
    team, family, sku = _text(team, "team"), _text(family, "family"), _text(sku, "sku")
    priority, channel = _text(priority, "priority"), _text(channel, "channel")
    method = _text(method, "method") or "linear"
    if team is not None and session.scalar(select(Team.id).where(Team.name == team)) is None:
        raise ValidationError(_l("no team %(name)r", name=team), details={"field": "team"})
    if family is not None and session.scalar(select(Product.id).where(Product.family == family).limit(1)) is None:
        raise ValidationError(_l("no product family %(name)r", name=family), details={"field": "family"})
    if sku is not None and session.scalar(select(Product.id).where(Product.sku == sku)) is None:
        raise ValidationError(_l("no product with SKU %(sku)r", sku=sku), details={"field": "sku"})
    if priority is not None and priority not in {p.value for p in Priority}:
        raise ValidationError(_l("unknown priority %(priority)r; use P1, P2, P3 or P4", priority=priority),
                              details={"field": "priority"})
    if channel is not None and channel not in warranty_service.CHANNELS:
        raise ValidationError(_l("unknown channel %(channel)r; use one of %(allowed)s", channel=channel,
                                 allowed=", ".join(warranty_service.CHANNELS)), details={"field": "channel"})
    if method not in METHODS:
        raise ValidationError(_l("unknown percentile method %(method)r; use linear or nearest-rank", method=method),
                              details={"field": "method"})
    return SlaFilters(date_from=start, date_to=end, team=team, family=family, sku=sku, priority=priority,
                      channel=channel, method=method)


# ---------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Measure:
    """One measure over a group: how many, how many still open, how many breached and their share, median and p90
    in business seconds (None, never NaN, when the group has none)."""

    count: int = 0
    open: int = 0
    breached: int = 0
    share_breached: float | None = None
    median_seconds: float | None = None
    p90_seconds: float | None = None


def measure(elapsed: np.ndarray, targets: np.ndarray, breached: np.ndarray, running: np.ndarray,
            method: str) -> Measure:
    """The figures of one group's times (business seconds) with their targets, breach and open flags."""
    if elapsed.size == 0:
        return Measure()
    if (method not in analytics.PERCENTILE_METHODS or np.isnan(elapsed).any() or (elapsed < 0).any()
            or (targets < 0).any()):
        analytics.sla_metrics(elapsed.tolist(), targets.tolist(), method=method)  # raises its ValueError
    # analytics.sla_metrics' percentiles, on the arrays as they are: its per-element checks took most of a report.
    how = analytics.PERCENTILE_METHODS[method]
    median, p90 = float(np.percentile(elapsed, 50, method=how)), float(np.percentile(elapsed, 90, method=how))
    # The clocks' own flag counts: a breach stays for the cycle even when a later target is higher.
    hits = int(np.count_nonzero(breached | (elapsed > targets)))
    return Measure(count=int(elapsed.size), open=int(np.count_nonzero(running)), breached=hits,
                   share_breached=hits / elapsed.size, median_seconds=median, p90_seconds=p90)


@dataclass(frozen=True)
class _Times:
    """One measure's rows as arrays: the claim (index into the report's claims) each belongs to, business seconds,
    target, breached flag, still open, and a label (the stage of a stage clock)."""

    claim: np.ndarray
    elapsed: np.ndarray
    target: np.ndarray
    breached: np.ndarray
    running: np.ndarray
    label: tuple[str, ...] = ()

    def figures(self, mask: np.ndarray | None, method: str) -> Measure:
        """The figures of the rows `mask` picks (all without one)."""
        if mask is None:
            return measure(self.elapsed, self.target, self.breached, self.running, method)
        return measure(self.elapsed[mask], self.target[mask], self.breached[mask], self.running[mask], method)


@dataclass(frozen=True)
class SlaReport:
    """The figures of the claims the filters pick, at `now`."""

    filters: SlaFilters
    now: datetime
    timezone: str
    claims: int
    first_response: Measure
    resolution: Measure
    stages: tuple[dict[str, Any], ...]
    priorities: tuple[dict[str, Any], ...]
    teams: tuple[dict[str, Any], ...]
    weeks: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        """The report as the API answers it."""
        return {"from": self.filters.date_from.isoformat(), "to": self.filters.date_to.isoformat(),
                "team": self.filters.team, "family": self.filters.family, "sku": self.filters.sku,
                "priority": self.filters.priority, "channel": self.filters.channel, "method": self.filters.method,
                "now": self.now.isoformat(), "timezone": self.timezone, "claims": self.claims,
                "first_response": asdict(self.first_response), "resolution": asdict(self.resolution),
                "stages": list(self.stages), "priorities": list(self.priorities), "teams": list(self.teams),
                "weeks": list(self.weeks)}


# ---------------------------------------------------------------------------------------------- reading


def _claims(session: Session, filters: SlaFilters, timezone: str) -> Any:
    """The select of the claims the filters pick: id, priority, team, registration time."""
    start, _ = reports.day_bounds(filters.date_from, timezone)
    _, end = reports.day_bounds(filters.date_to, timezone)
    opened = business_time.epoch_seconds(Claim.opened_at).label("opened")
    stmt = (select(Claim.id, Claim.priority, Claim.team_id, opened)
            .where(Claim.state.not_in(NOT_COUNTED), Claim.opened_at >= start, Claim.opened_at < end))
    if filters.team is not None:
        stmt = stmt.where(Claim.team_id == select(Team.id).where(Team.name == filters.team).scalar_subquery())
    if filters.priority is not None:
        stmt = stmt.where(Claim.priority == filters.priority)
    if filters.channel is not None:
        stmt = stmt.where(Claim.channel == filters.channel)
    if filters.family is not None or filters.sku is not None:
        stmt = stmt.join(Unit, Unit.id == Claim.unit_id).join(Product, Product.id == Unit.product_id)
        if filters.family is not None:
            stmt = stmt.where(Product.family == filters.family)
        if filters.sku is not None:
            stmt = stmt.where(Product.sku == filters.sku)
    return stmt


class _Calendars:
    """Pure calendars by clock calendar id, read once per report."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int | None, Any] = {}

    def __call__(self, calendar_id: int | None) -> Any:
        if calendar_id not in self.known:
            self.known[calendar_id] = calendars.calendar_by_id(self.session, calendar_id)
        return self.known[calendar_id]


def _spans(calendar_of: _Calendars, calendar_ids: Any, starts: Any, ends: Any) -> np.ndarray:
    """Business seconds of each (calendar id, start, end) span (seconds since 1970 UTC), computed together per
    calendar."""
    out = np.zeros(len(starts))
    begin, finish = np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)
    by_calendar: dict[int | None, list[int]] = defaultdict(list)
    for i, calendar_id in enumerate(calendar_ids):
        by_calendar[None if calendar_id is None else int(calendar_id)].append(i)
    for calendar_id, where in by_calendar.items():
        out[where] = business_time.business_seconds(calendar_of(calendar_id), begin[where], finish[where])
    return out


# Columns of the clock rows read: (claim, calendar, target, cycle, state, elapsed, running since, breached).
CLAIM, CALENDAR, TARGET, CYCLE, STATE, ELAPSED, SINCE, BREACHED = range(8)


def _columns(session: Session, stmt: Any, width: int) -> list[tuple[Any, ...]]:
    """The statement's rows as columns, read as the database driver hands them: building SQLAlchemy rows for a
    hundred thousand clocks took as long as the queries themselves."""
    # The rows are tuples of plain values (no reference cycles): collecting while a hundred thousand of them are
    # made took a quarter of the report, so the collector waits (it is switched back on only if it was on).
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = session.connection().execute(stmt)
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
        return list(zip(*rows, strict=True)) if rows else [()] * width
    finally:
        if collecting:
            gc.enable()


def _earliest(claims: np.ndarray, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Among the rows `mask` picks, each claim's row with the lowest id: (claims, rows)."""
    rows = np.flatnonzero(mask)
    rows = rows[np.argsort(ids[rows], kind="stable")]
    found, first = np.unique(claims[rows], return_index=True)
    return found, rows[first]


def _clock_times(calendar_of: _Calendars, columns: list[tuple[Any, ...]], index: dict[int, int], now: float,
                 labels: tuple[str, ...] = ()) -> _Times:
    """Elapsed business seconds of clock rows (as columns) at `now`: stored (a stopped or paused clock's whole
    time), plus the running stretch up to now, counted together per calendar."""
    count = len(columns[CLAIM])
    state = np.asarray(columns[STATE], dtype=object)
    since = np.asarray(columns[SINCE], dtype=float)  # None (never ran) is NaN
    running = np.flatnonzero((state == "running") & ~np.isnan(since))
    calendar_ids = np.asarray(columns[CALENDAR], dtype=object)
    extra = _spans(calendar_of, calendar_ids[running], since[running], np.maximum(since[running], now))
    elapsed = np.asarray(columns[ELAPSED], dtype=float)
    elapsed[running] += extra
    return _Times(claim=np.fromiter((index[c] for c in columns[CLAIM]), dtype=np.int64, count=count),
                  elapsed=elapsed, target=np.asarray(columns[TARGET], dtype=float),
                  breached=np.asarray(columns[BREACHED], dtype=bool), running=state != "stopped", label=labels)


def _first_responses(session: Session, calendar_of: _Calendars, ids: Any, index: dict[int, int],
                     registered: tuple[np.ndarray, np.ndarray, np.ndarray], triage: tuple[np.ndarray, np.ndarray],
                     now: float) -> _Times:
    """Time to first response of every picked claim that has its first-cycle clocks (see the module docstring):
    `registered` is (claims, calendar ids, start), `triage` (claims, target), claims as indexes into the report's."""
    count = len(index)

    def by_claim(columns: list[tuple[Any, ...]]) -> np.ndarray:
        out = np.full(count, np.nan)
        out[np.fromiter((index[c] for c in columns[0]), dtype=np.int64, count=len(columns[0]))] = columns[1]
        return out

    answered = by_claim(_columns(session, select(
        ClaimEvent.claim_id, func.min(business_time.epoch_seconds(ClaimEvent.at)))
        .where(ClaimEvent.claim_id.in_(ids), ClaimEvent.kind == "state_change", ClaimEvent.from_state.in_(NOT_YET),
               ClaimEvent.to_state.not_in(NOT_YET))
        .group_by(ClaimEvent.claim_id), 2))
    commented = by_claim(_columns(session, select(
        Comment.claim_id, func.min(business_time.epoch_seconds(Comment.at)))
        .where(Comment.claim_id.in_(ids), Comment.visibility == "customer").group_by(Comment.claim_id), 2))
    start, target = np.full(count, np.nan), np.full(count, np.nan)
    calendar_ids = np.full(count, None, dtype=object)
    start[registered[0]], calendar_ids[registered[0]] = registered[2], registered[1]
    target[triage[0]] = triage[1]
    # Registered straight past triage: no first-response target to hold it to.
    claims = np.flatnonzero(~np.isnan(start) & ~np.isnan(target))
    start, target, calendar_ids = start[claims], target[claims], calendar_ids[claims]
    moment = np.fmin(answered[claims], commented[claims])  # the earlier of the two; NaN when neither yet
    still = np.isnan(moment)
    ends = np.where(still, np.maximum(now, start), np.maximum(moment, start))
    return _Times(claim=claims.astype(np.int64), elapsed=_spans(calendar_of, calendar_ids, start, ends),
                  target=target, breached=np.zeros(len(claims), dtype=bool), running=still)


def _weeks(moments: list[float], timezone: str) -> np.ndarray:
    """The Monday (as days since 1970) of the week of each moment's (seconds since 1970 UTC) local date."""
    local = business_time.local_seconds(timezone, np.asarray(moments, dtype=float))
    days = np.floor(local / 86400.0).astype(np.int64)
    return days - (days + 3) % 7  # 1 January 1970 was a Thursday (weekday 3)


def _flat(prefix: str, figures: Measure) -> dict[str, Any]:
    return {f"{prefix}_{name}": value for name, value in asdict(figures).items()}


def sla_report(session: Session, filters: SlaFilters, *, now: datetime, timezone: str) -> SlaReport:
    """The SLA figures of the claims `filters` pick at `now`; registration days counted in the default business
    calendar's time zone (else `timezone`)."""
    now = business_time.as_utc(now)
    now_seconds = now.timestamp()
    zone_name = reports.report_timezone(session, timezone)
    picked = _claims(session, filters, zone_name).subquery()
    claim_ids, claim_priorities, claim_team_ids, claim_opened = _columns(session, select(picked), 4)
    index = dict(zip(claim_ids, range(len(claim_ids)), strict=True))
    ids = select(picked.c.id)
    columns = (SlaClock.claim_id, SlaClock.calendar_id, SlaClock.target_seconds, SlaClock.cycle, SlaClock.state,
               SlaClock.elapsed_seconds, business_time.epoch_seconds(SlaClock.running_since), SlaClock.breached)
    resolution_rows = _columns(session, select(*columns, business_time.epoch_seconds(SlaClock.started_at), SlaClock.id)
                               .where(SlaClock.claim_id.in_(ids), SlaClock.kind == ClockKind.RESOLUTION.value), 10)
    stage_rows = _columns(session, select(*columns, StageTask.stage, SlaClock.id)
                          .join(StageTask, StageTask.id == SlaClock.task_id)
                          .where(SlaClock.claim_id.in_(ids), SlaClock.kind == ClockKind.STAGE.value), 10)
    calendar_of = _Calendars(session)
    resolution = _clock_times(calendar_of, resolution_rows, index, now_seconds)
    stage = _clock_times(calendar_of, stage_rows, index, now_seconds, labels=stage_rows[8])
    # Registration: the first-cycle resolution clock's start; the target: the first-cycle triage stage clock's
    # (the lowest clock id of each claim when there are several).
    first_cycle = np.asarray(resolution_rows[CYCLE], dtype=np.int64) == 1
    found, rows = _earliest(resolution.claim, np.asarray(resolution_rows[9], dtype=np.int64), first_cycle)
    registered = (found, np.asarray(resolution_rows[CALENDAR], dtype=object)[rows],
                  np.asarray(resolution_rows[8], dtype=float)[rows])
    triage_rows = ((np.asarray(stage_rows[CYCLE], dtype=np.int64) == 1)
                   & (np.asarray(stage_rows[8], dtype=object) == Stage.TRIAGE.value))
    found, rows = _earliest(stage.claim, np.asarray(stage_rows[9], dtype=np.int64), triage_rows)
    first = _first_responses(session, calendar_of, ids, index, registered, (found, stage.target[rows]),
                             now_seconds)
    method = filters.method

    def breakdown(codes: np.ndarray, keys: list[Any], key_name: str) -> tuple[dict[str, Any], ...]:
        counts = np.bincount(codes, minlength=len(keys))
        first_codes, resolution_codes = codes[first.claim], codes[resolution.claim]
        return tuple({key_name: key, "claims": int(counts[k]),
                      **_flat("first_response", first.figures(first_codes == k, method)),
                      **_flat("resolution", resolution.figures(resolution_codes == k, method))}
                     for k, key in enumerate(keys))

    def coded(values: list[Any], keys: list[Any]) -> np.ndarray:
        position = {key: k for k, key in enumerate(keys)}
        return np.fromiter((position[v] for v in values), dtype=np.int64, count=len(values))

    present = set(claim_priorities)
    priority_keys = [p.value for p in Priority if p.value in present] + sorted(present - {p.value for p in Priority})
    priorities = breakdown(coded(list(claim_priorities), priority_keys), priority_keys, "priority")
    team_names = dict(session.execute(select(Team.id, Team.name)).all())
    claim_teams = [team_names.get(t) for t in claim_team_ids]
    team_keys = sorted(set(claim_teams), key=lambda t: (t is None, t or ""))
    teams = breakdown(coded(claim_teams, team_keys), team_keys, "team")
    weeks: tuple[dict[str, Any], ...] = ()
    if claim_ids:
        epoch = date(1970, 1, 1)
        first_week = (filters.date_from - timedelta(days=filters.date_from.weekday()) - epoch).days
        count = ((filters.date_to - epoch).days - first_week) // 7 + 1
        codes = (_weeks(list(claim_opened), zone_name) - first_week) // 7
        week_keys = [(epoch + timedelta(days=first_week + 7 * n)).isoformat() for n in range(count)]
        weeks = breakdown(codes, week_keys, "week")
    stage_codes = np.asarray(stage.label, dtype=object)
    stages = tuple({"stage": s.value, **asdict(stage.figures(stage_codes == s.value, method))}
                   for s in Stage if s.value in set(stage.label))
    return SlaReport(filters=filters, now=now, timezone=zone_name, claims=len(claim_ids),
                     first_response=first.figures(None, method), resolution=resolution.figures(None, method),
                     stages=stages, priorities=priorities, teams=teams, weeks=weeks)


# ---------------------------------------------------------------------------------------------- downloads

_HOUR = 3600.0
GROUP_COLUMNS = tuple(f"{prefix}_{name}" for prefix in ("first_response", "resolution") for name in MEASURE_FIELDS)
COLUMNS: dict[str, tuple[str, ...]] = {
    "stages": ("stage", *MEASURE_FIELDS),
    "priorities": ("priority", "claims", *GROUP_COLUMNS),
    "teams": ("team", "claims", *GROUP_COLUMNS),
    "weeks": ("week", "claims", *GROUP_COLUMNS),
}


def _hours_name(column: str) -> str:
    return column.replace("_seconds", "_hours")


def table_columns(table: str) -> tuple[str, ...]:
    """The download's columns of `table`: times in business hours."""
    return tuple(_hours_name(c) for c in COLUMNS[table])


def table_rows(report: SlaReport, table: str) -> list[dict[str, Any]]:
    """A table's rows for CSV and XLSX: business hours to two decimals, shares as fractions, no team as blank."""
    out = []
    for row in getattr(report, table):
        line: dict[str, Any] = {}
        for column in COLUMNS[table]:
            value = row[column]
            if column.endswith("_seconds") and value is not None:
                value = round(value / _HOUR, 2)
            line[_hours_name(column)] = "" if value is None else value
        out.append(line)
    return out

