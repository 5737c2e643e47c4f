"""Shipping units to a customer by serial or by batch and quantity."""

from __future__ import annotations

import click

from ..config import business_today
from ..errors import ValidationError
from ..trace.policy import MAX_INT, parse_date
from .common import echo_json, runtime


@click.command()
@click.option("--customer", required=True, help="Customer name.")
@click.option("--tax-id", help="Customer tax id (INN).")
@click.option("--date", "shipped_on", help="Ship date YYYY-MM-DD (default today).")
@click.option("--reference", default="")
@click.option("--carrier", default="")
@click.option("--serial", "serials", multiple=True, help="Serial to ship (repeatable).")
@click.option("--batch", "batches", multiple=True, help="BATCH:QUANTITY to ship from a batch (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def ship(customer, tax_id, shipped_on, reference, carrier, serials, batches, as_json) -> None:
    """Ship units to a customer by serial or by batch and quantity."""
    from ..trace import service

    lines = []
    for item in batches:
        number, _, qty = item.rpartition(":")
        if not number or not qty.isdigit():
            raise ValidationError(f"--batch {item!r} must be BATCH:QUANTITY")
        if not 1 <= int(qty) <= MAX_INT:
            raise ValidationError(f"--batch {item!r}: the quantity must be from 1 to {MAX_INT}")
        lines.append(service.BatchLine(batch=number, quantity=int(qty)))
    with runtime().transaction() as s:
        cust = service.get_or_create_customer(s, name=customer, tax_id=tax_id)
        day = parse_date(shipped_on, field="shipped_on") if shipped_on else business_today(runtime().settings)
        sh = service.create_shipment(s, customer=cust, shipped_on=day,
                                     serials=serials, batch_lines=lines, reference=reference, carrier=carrier,
                                     today=business_today(runtime().settings))
        out = {"shipment": sh.id, "customer": cust.name, "shipped_on": sh.shipped_on.isoformat()}
    echo_json(out) if as_json else click.echo(f"shipment {out['shipment']} to {out['customer']} recorded")
