"""Component lot commands: hold and release (with every batch the lot went into)."""

from __future__ import annotations

import click

from .common import runtime


def _change(action: str, lot_number: str, supplier: str | None, part: str | None, reason: str) -> None:
    from ..trace import lots

    with runtime().transaction() as s:
        lot = lots.find_lot(s, lot_number, supplier=supplier, part=part)
        change = lots.hold_lot if action == "hold" else lots.release_lot
        batches = [b.number for b in change(s, lot, reason=reason)]
        out = (f"component lot {lot.lot_number} ({lot.part}, {lot.supplier}): {lot.status}; "
               f"batches {'held' if action == 'hold' else 'released'}: {', '.join(batches) or 'none'}")
    click.echo(out)


_supplier = click.option("--supplier", help="Supplier, when several suppliers' lots share the number.")
_part = click.option("--part", help="Part, when several parts' lots share the number.")


@click.group()
def lot() -> None:
    """Hold or release component lots."""


@lot.command("hold")
@click.argument("lot_number")
@click.option("--reason", required=True, help="Why the lot is held (kept in its batches' history).")
@_supplier
@_part
def lot_hold(lot_number: str, reason: str, supplier: str | None, part: str | None) -> None:
    """Put a component lot on hold, and every released batch it went into."""
    _change("hold", lot_number, supplier, part, reason)


@lot.command("release")
@click.argument("lot_number")
@click.option("--reason", required=True, help="Why the lot is released (kept in its batches' history).")
@_supplier
@_part
def lot_release(lot_number: str, reason: str, supplier: str | None, part: str | None) -> None:
    """Release a held component lot and the batches its hold held (not those held for another reason)."""
    _change("release", lot_number, supplier, part, reason)
