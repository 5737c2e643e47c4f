"""Importing ERP CSV exports (products, batches, shipments), all rows or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..config import business_today
from .common import runtime


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(["products", "batches", "shipments"]),
              help="Detected from headers when omitted.")
def import_cmd(path: str, kind: str | None) -> None:
    """Import products, batches or shipments from an ERP CSV export (all rows or nothing)."""
    from ..trace.importer import import_file

    rt = runtime()
    data = Path(path).read_bytes()
    with rt.transaction() as s:
        with click.progressbar(length=1, label=f"importing {Path(path).name}", file=sys.stderr) as bar:
            report = import_file(s, data=data, kind=kind, scheme=rt.serial_scheme(), today=business_today(rt.settings),
                                 progress=lambda done, total: (setattr(bar, "length", total),
                                                               bar.update(done - bar.pos)))
    click.echo(report.summary())
