"""Product commands: add, list, substitutes and the replacement warranty rule."""

from __future__ import annotations

from collections.abc import Callable

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


@products.group("substitute")
def substitute() -> None:
    """Products the desk may hand out as a replacement in place of another."""


def _sku_pair(command: Callable) -> Callable:
    """The SKU and SUBSTITUTE_SKU arguments of a substitute command."""
    return click.argument("sku")(click.argument("substitute_sku")(command))


def _change_substitute(sku: str, substitute_sku: str, *, add: bool) -> None:
    """Add or remove SUBSTITUTE_SKU as a substitute of SKU in one transaction, then say what was done."""
    from ..trace import queries, service

    with runtime().transaction() as s:
        product, other = queries.get_product(s, sku), queries.get_product(s, substitute_sku)
        if add:
            added = service.add_substitute(s, product=product, substitute=other)
            said = "may now replace" if added else "already may replace"
        else:
            service.remove_substitute(s, product=product, substitute=other)
            said = "no longer replaces"
    click.echo(f"{other.sku} {said} {product.sku}")


@substitute.command("add")
@_sku_pair
def substitute_add(sku, substitute_sku) -> None:
    """Let units of SUBSTITUTE_SKU replace returned units of SKU."""
    _change_substitute(sku, substitute_sku, add=True)


@substitute.command("remove")
@_sku_pair
def substitute_remove(sku, substitute_sku) -> None:
    """Stop units of SUBSTITUTE_SKU replacing returned units of SKU."""
    _change_substitute(sku, substitute_sku, add=False)


@substitute.command("list")
@click.argument("sku")
@click.option("--json", "as_json", is_flag=True)
def substitute_list(sku, as_json) -> None:
    """The products whose units may replace returned units of SKU."""
    from ..trace import queries

    with runtime().read() as s:
        rows = [{"sku": p.sku, "name": p.name} for p in queries.list_substitutes(s, queries.get_product(s, sku))]
    if as_json:
        echo_json(rows)
    for row in [] if as_json else rows:
        click.echo(f"{row['sku']}\t{row['name']}")


@products.command("replacement-warranty")
@click.argument("sku")
@click.argument("rule", type=click.Choice(["continue", "restart"]))
def products_replacement_warranty(sku, rule) -> None:
    """Whether a replacement for a unit of SKU continues the returned unit's warranty or restarts it."""
    from ..trace import queries, service

    with runtime().transaction() as s:
        product = queries.get_product(s, sku)
        before, after = service.set_replacement_warranty(s, product, rule=rule)
    click.echo(f"{sku}: replacement warranty {before} -> {after}")
