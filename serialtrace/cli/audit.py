"""The security log on the server's console: `serialtrace audit list`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from .common import runtime


@click.group()
def audit() -> None:
    """Read the security log."""


@audit.command("list")
@click.option("--kind", default="", help="Only events of this kind (login_failed, token_used, ...).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="From this UTC day (YYYY-MM-DD).")
@click.option("--user", default="", help="Only events of this user name (as typed, or who acted).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit_list(kind: str, since: datetime | None, user: str, limit: int, as_json: bool) -> None:
    """The latest security events, newest first."""
    from ..accounts import security_log

    where = security_log.SecurityFilter(kind=kind, user=user,
                                        since=since.replace(tzinfo=UTC) if since else None)
    with runtime().read() as s:
        rows = [security_log.event_row(e) for e in security_log.list_security_events(s, where, limit=limit)]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
        else:
            details = " ".join(f"{k}={v}" for k, v in row["details"].items())
            click.echo(f"{row['at']}\t{row['kind']}\t{row['username'] or '-'}\t{row['actor'] or '-'}"
                       f"\t{row['address'] or '-'}\t{row['token_prefix'] or '-'}\t{details}")
