"""Control reports for cron: `serialtrace report registrations` prints the daily registration report."""

from __future__ import annotations

import click

from .common import echo_json, runtime


@click.group()
def report() -> None:
    """Control reports."""


@report.command("registrations")
@click.option("--day", default=None, help="YYYY-MM-DD in the business calendar's time zone (default: today there).")
@click.option("--json", "as_json", is_flag=True)
def report_registrations(day: str | None, as_json: bool) -> None:
    """Complaints registered on a day per person and channel, own-customer confirmations, stale drafts."""
    from ..warranty import reports

    rt = runtime()
    with rt.read() as s:
        data = reports.daily_registration_report(s, day, fallback_timezone=rt.settings.timezone,
                                                 stale_hours=rt.settings.stale_registration_hours)
    if as_json:
        echo_json(data)
        return
    click.echo(f"registrations on {data['day']} ({data['timezone']}): {data['total']}")
    for r in data["registered"]:
        click.echo(f"  {r['user']}\t{r['channel']}\t{r['count']}")
    click.echo(f"registered by the customer's own account manager (confirmed): {len(data['own_customer'])}")
    for r in data["own_customer"]:
        click.echo(f"  {r['number']}\t{r['customer'] or '-'}\t{r['user']}\t{r['channel']}")
    click.echo(f"still in draft or registered after {data['stale_hours']} hours: {len(data['stale'])}")
    for r in data["stale"]:
        click.echo(f"  {r['number']}\t{r['state']}\t{r['customer'] or '-'}\t{r['user']}\t{r['hours_open']} h")
