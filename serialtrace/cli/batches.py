"""Batch commands: create (with its serials), hold, release, history."""

from __future__ import annotations

import json
import sys

import click

from ..config import business_today
from ..errors import ValidationError
from ..trace.policy import MAX_BATCH_QUANTITY, parse_date
from .common import runtime


@click.group()
def batch() -> None:
    """Manage production batches."""


@batch.command("create")
@click.option("--product", "product", required=True, help="SKU or GTIN.")
@click.option("--quantity", type=click.IntRange(0, MAX_BATCH_QUANTITY), required=True)
@click.option("--number", help="Batch number (generated when omitted).")
@click.option("--produced-on", help="Production date, YYYY-MM-DD (default today).")
@click.option("--line", default="")
@click.option("--shift", default="")
@click.option("--lot", "lots", multiple=True, help="Component lot SUPPLIER:PART:LOT (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def batch_create(product, quantity, number, produced_on, line, shift, lots, as_json) -> None:
    """Register a batch and allocate its serials in one transaction."""
    from ..trace import service

    inputs = []
    for lot in lots:
        parts = lot.split(":")
        if len(parts) != 3:
            raise ValidationError(f"--lot {lot!r} must be SUPPLIER:PART:LOT")
        inputs.append(service.LotInput(*parts))
    rt = runtime()
    # A progress bar only for batches big enough to take a noticeable time; it goes to stderr so --json stays clean.
    with rt.transaction() as s, click.progressbar(length=quantity, label="allocating serials", file=sys.stderr,
                                                   hidden=quantity < 50_000) as bar:
        b, serials = service.register_batch(
            s, product=product, quantity=quantity, number=number,
            produced_on=parse_date(produced_on, field="produced_on") if produced_on else business_today(rt.settings),
            line=line, shift=shift,
            inputs=inputs, scheme=rt.serial_scheme(), progress=bar.update, today=business_today(rt.settings))
        out = {"batch": b.number, "quantity": quantity, "first_serial": serials[0] if serials else None,
               "last_serial": serials[-1] if serials else None}
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"batch {out['batch']}: {quantity} units, serials {out['first_serial']} .. {out['last_serial']}")


def _set_batch_status(number: str, product: str | None, status: str, reason: str) -> None:
    from ..trace import queries, service

    with runtime().transaction() as s:
        event = service.set_batch_status(s, batch=queries.get_batch(s, number, sku=product), status=status,
                                         reason=reason)
        out = f"batch {number}: {event.from_status} -> {event.to_status} ({event.reason})"
    click.echo(out)


@batch.command("hold")
@click.argument("number")
@click.option("--reason", required=True, help="Why the batch is held (kept in its history).")
@click.option("--product", help="SKU when several products share the batch number.")
def batch_hold(number: str, reason: str, product: str | None) -> None:
    """Put a batch on hold: none of its units can be shipped until it is released."""
    _set_batch_status(number, product, "on_hold", reason)


@batch.command("release")
@click.argument("number")
@click.option("--reason", required=True, help="Why the batch is released (kept in its history).")
@click.option("--product", help="SKU when several products share the batch number.")
def batch_release(number: str, reason: str, product: str | None) -> None:
    """Release a batch on hold, so its units can be shipped again."""
    _set_batch_status(number, product, "released", reason)


@batch.command("history")
@click.argument("number")
@click.option("--product", help="SKU when several products share the batch number.")
def batch_history(number: str, product: str | None) -> None:
    """A batch's holds, releases and recalls: when, who, from which status to which, and why."""
    from ..trace import queries

    with runtime().read() as s:
        events = queries.list_batch_events(s, queries.get_batch(s, number, sku=product))
        lines = [f"{e.at:%Y-%m-%d %H:%M}\t{e.author}\t{e.from_status} -> {e.to_status}\t{e.reason}" for e in events]
    click.echo("\n".join(lines) if lines else f"batch {number}: no status changes")
