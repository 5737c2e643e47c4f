"""Commands that only read the trace: a unit's dossier, a batch's genealogy, recall lists."""

from __future__ import annotations

import click

from ..config import business_today
from .common import echo_json, runtime, writing


@click.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
def lookup(code: str, as_json: bool) -> None:
    """Show the dossier of a unit by serial or scanned code."""
    from ..errors import NotFound
    from ..serials import MISTYPED, is_mistyped
    from ..trace import queries
    from ..warranty.dossier import unit_dossier

    rt = runtime()
    serial, gtin = queries.read_scan(code)
    with rt.read() as s:
        try:
            unit = queries.get_unit(s, serial, gtin=gtin)
        except NotFound as exc:
            # A plain serial typed in the configured shape whose check character fails is a typo: say so.
            if serial == code.strip() and is_mistyped(rt.serial_scheme(), serial):
                raise NotFound(f"{exc.message}: {MISTYPED}", details=exc.details) from None
            raise
        dossier = unit_dossier(s, unit, today=business_today(rt.settings), grace_days=rt.settings.warranty_grace_days)
    if as_json:
        echo_json(dossier)
        return
    u, p, b = dossier["unit"], dossier["product"], dossier["batch"]
    click.echo(f"{p['name']} ({p['sku']}) serial {u['serial']}  status {u['status']}")
    click.echo(f"batch {b['number']} produced {b['produced_on']} line {b['line'] or '-'}; "
               f"inputs: {', '.join(i['lot'] for i in b['inputs']) or '-'}")
    for sh in dossier["shipments"]:
        click.echo(f"shipped {sh['shipped_on']} to {sh['customer']['name']} ({sh['reference'] or '-'})")
    click.echo(dossier["warranty"]["reason"])
    for c in dossier["claims"]:
        click.echo(f"claim {c['number']} {c['state']} {c['symptom']}")


@click.command("trace")
@click.argument("batch_number")
@click.option("--forward", "direction", flag_value="forward", help="Where its units went.")
@click.option("--backward", "direction", flag_value="backward", help="What went into it.")
@click.option("--product", help="SKU when several products share the batch number.")
@click.option("--lot", is_flag=True, help="BATCH_NUMBER is a component lot number: the batches it went into.")
def trace_cmd(batch_number: str, direction: str | None, product: str | None, lot: bool) -> None:
    """Batch genealogy backward and/or forward (for a component lot: forward), as JSON."""
    from ..trace import genealogy, queries

    with runtime().read() as s:
        out = {}
        if lot:
            out["forward"] = genealogy.lot_forward(s, queries.get_component_lot(s, batch_number))
        else:
            b = queries.get_batch(s, batch_number, sku=product)
            if direction in (None, "backward"):
                out["backward"] = genealogy.backward(s, b)
            if direction in (None, "forward"):
                out["forward"] = genealogy.forward(s, b)
    echo_json(out)


@click.command()
@click.argument("batch_number")
@click.option("--lot", is_flag=True, help="BATCH_NUMBER is a component lot number.")
@click.option("--product", help="SKU when several products share the batch number.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Write the recall list here.")
@click.option("--exclude-returned", is_flag=True, help="Leave out units already back (returned, in test, scrapped...).")
@click.option("--group", type=click.Choice(["customer"]), help="customer: one row per customer with its serials.")
@click.option("--delimiter", type=click.Choice(["comma", "semicolon"]), default="comma", show_default=True,
              help="Field delimiter; semicolon is what Excel expects in Russian and other comma-decimal regions.")
@click.option("--excel", is_flag=True, help='Write codes made of digits as ="..." so Excel keeps leading zeros.')
def recall(batch_number: str, lot: bool, product: str | None, csv_path: str | None, exclude_returned: bool,
           group: str | None, delimiter: str, excel: bool) -> None:
    """Recall list of a batch or component lot: customers, contacts, serials, unit status, ship dates (CSV).

    The file written with --csv starts with the byte order mark Excel needs to read UTF-8; standard output does not.
    """
    from ..trace import genealogy, queries

    options = genealogy.recall_options(exclude_returned=exclude_returned, group=group, delimiter=delimiter,
                                       excel=excel)
    with runtime().read() as s:
        if lot:
            ids = genealogy.lot_batch_ids(s, queries.get_component_lot(s, batch_number))
        else:
            ids = [queries.get_batch(s, batch_number, sku=product).id]
        if csv_path:
            chunks = genealogy.recall_file(s, batch_ids=ids, options=options)
            with writing(csv_path), open(csv_path, "w", newline="", encoding="utf-8") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            click.echo(f"recall list written to {csv_path}")
        else:
            for chunk in genealogy.recall_file(s, batch_ids=ids, options=options, bom=False):
                click.echo(chunk, nl=False)
