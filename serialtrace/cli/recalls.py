"""Recall campaign commands: start one (from a batch, a component lot or a filter), list them, show one."""

from __future__ import annotations

import click

from .common import runtime


@click.group()
def recalls() -> None:
    """Start, list and show recall campaigns."""


@recalls.command("create")
@click.option("--reason", required=True, help="Why the units are recalled.")
@click.option("--title", default="", help="A short title (made from the scope when left out).")
@click.option("--batch", "batch", help="Recall one batch by its number.")
@click.option("--product", help="With --batch: the product's SKU when the batch number is shared.")
@click.option("--lot", "lot_number", help="Recall every batch a component lot went into.")
@click.option("--supplier", default="", help="With --lot: the supplier, when lot numbers are shared.")
@click.option("--part", default="", help="With --lot: the part, when lot numbers are shared.")
@click.option("--sku", default="", help="Filter: the product's SKU.")
@click.option("--produced-from", type=click.DateTime(["%Y-%m-%d"]), help="Filter: first production day.")
@click.option("--produced-to", type=click.DateTime(["%Y-%m-%d"]), help="Filter: last production day.")
@click.option("--batches", "batch_list", multiple=True, help="Filter: a batch number (repeat for several).")
def recalls_create(reason: str, title: str, batch: str | None, product: str | None, lot_number: str | None,
                   supplier: str, part: str, sku: str, produced_from, produced_to, batch_list: tuple[str, ...]) -> None:
    """Start a campaign: the units out with customers are recalled and their batches become recalled."""
    from ..quality import recall_queries
    from ..quality import recalls as service

    with runtime().transaction() as s:
        if batch:
            campaign = service.create_from_batch(s, number=batch, sku=product, title=title, reason=reason)
        elif lot_number:
            lot = service.find_component_lot(s, lot_number=lot_number, supplier=supplier, part=part)
            campaign = service.create_from_lot(s, lot=lot, title=title, reason=reason)
        else:
            first, last = (d.date() if d else None for d in (produced_from, produced_to))
            campaign = service.create_from_filter(s, sku=sku, produced_from=first, produced_to=last,
                                                  batch_numbers=list(batch_list), title=title, reason=reason)
        p = recall_queries.progress(s, campaign)
        out = (f"{campaign.number}: batches {', '.join(campaign.scope['batches'])}; {p['units_affected']} units, "
               f"{p['customers_total']} customers to contact")
    click.echo(out)


def _line(c: dict) -> str:
    p = c["progress"]
    return (f"{c['number']}  {c['state']:6}  {p['units_returned']}/{p['units_affected']} returned  "
            f"{c['title']}")


@recalls.command("list")
@click.option("--state", type=click.Choice(["open", "closed"]), help="Only open or only closed campaigns.")
def recalls_list(state: str | None) -> None:
    """Campaigns, open first, with units returned of affected."""
    from ..quality import recall_queries

    with runtime().transaction() as s:
        lines = [_line(c) for c in recall_queries.list_campaigns(s, state=state)]
    click.echo("\n".join(lines) if lines else "no recall campaigns")


@recalls.command("show")
@click.argument("number")
def recalls_show(number: str) -> None:
    """A campaign's progress and its customers with their status and units."""
    from ..quality import recall_queries
    from ..quality import recalls as service

    with runtime().transaction() as s:
        campaign = service.get_campaign(s, number)
        lines = [_line(recall_queries.campaign_dict(s, campaign))]
        lines += [f"  {r['customer']}: {r['status']}, {r['returned']}/{r['units']} returned"
                  f"{', ' + r['phone'] if r['phone'] else ''}" for r in recall_queries.customer_rows(s, campaign)]
    click.echo("\n".join(lines))

