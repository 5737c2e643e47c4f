"""`serialtrace escalate`: one escalation pass for cron; prints each notification it wrote and whether it was mailed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from ..columns import utcnow
from ..errors import ValidationError
from .common import echo_json, runtime


def parse_now(value: str | None, timezone: str) -> datetime:
    """The moment --now names (ISO 8601; without an offset, in SERIALTRACE_TIMEZONE), or the current time."""
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"--now: {value!r} is not an ISO 8601 time such as 2026-03-02T17:30 or "
                              "2026-03-02T17:30+03:00", details={"field": "now"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


@click.command("escalate")
@click.option("--now", "now", help="The moment to judge the clocks at, ISO 8601 (default: now; without an offset "
                                   "it is SERIALTRACE_TIMEZONE's local time).")
@click.option("--json", "as_json", is_flag=True, help="Print the pass's summary as JSON.")
def escalate(now: str | None, as_json: bool) -> None:
    """One escalation pass (for cron): clocks past 75 / 100 / 150 % of their SLA target notify the assignee, the
    supervisor, the next level, in the app and by mail; a mail that fails is retried on the next pass."""
    from ..warranty import escalation

    rt = runtime()
    moment = parse_now(now, rt.settings.timezone)
    summary = escalation.run_pass(rt.sessions, rt.settings, moment)
    if as_json:
        echo_json(summary.as_dict())
        return
    for line in escalation.describe(summary.notifications):
        click.echo(line)
    for line in escalation.describe(summary.retried):
        click.echo(f"retried: {line}")
    click.echo(f"{summary.clocks} clocks due, {summary.escalated} escalated, {len(summary.notifications)} "
               f"notifications, {summary.mailed} mailed")
