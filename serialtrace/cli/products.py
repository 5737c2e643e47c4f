"""Product commands: add, list."""

from __future__ import annotations

import click

from .common import echo_json, runtime


@click.group()
def products() -> None:
    """Manage products."""


@products.command("add")
@click.option("--sku", required=True)
@click.option("--name", required=True)
@click.option("--gtin")
@click.option("--warranty-months", type=int, default=24, show_default=True)
@click.option("--family", default="")
@click.option("--warranty-start", type=click.Choice(["shipment", "sale"]), default="shipment", show_default=True)
@click.option("--shelf-life-months", type=int, help="Months from production to the expiry date (17) on its labels.")
@click.option("--json", "as_json", is_flag=True)
def products_add(sku, name, gtin, warranty_months, family, warranty_start, shelf_life_months, as_json) -> None:
    """Register a product; with a shelf life its labels carry the expiry date (17)."""
    from ..trace import service
    from ..trace.dossier import product_dict

    with runtime().transaction() as s:
        p = service.add_product(s, sku=sku, name=name, gtin=gtin, warranty_months=warranty_months, family=family,
                                warranty_start=warranty_start, shelf_life_months=shelf_life_months)
        out = product_dict(p)
    echo_json(out) if as_json else click.echo(f"product {out['sku']} added (GTIN {out['gtin'] or '-'})")


@products.command("list")
def products_list() -> None:
    """List products."""
    from ..trace import queries

    with runtime().read() as s:
        for p in queries.list_products(s):
            shelf = f"{p.shelf_life_months} months shelf life" if p.shelf_life_months else "-"
            click.echo(f"{p.sku}\t{p.gtin or '-'}\t{p.warranty_months} months\t{shelf}\t{p.name}")
