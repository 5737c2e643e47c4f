"""Customer commands: who manages a customer's account (their complaints are registered by a colleague, or
confirmed)."""

from __future__ import annotations

import click

from .common import runtime


@click.group()
def customers() -> None:
    """Manage customers."""


@customers.command("manager")
@click.argument("customer")
@click.argument("username", required=False)
@click.option("--clear", is_flag=True, help="The customer has no account manager from now on.")
def customers_manager(customer: str, username: str | None, clear: bool) -> None:
    """Make USERNAME (an active user) the account manager of CUSTOMER (tax id, id or exact name), or --clear it."""
    from ..accounts import service as accounts_service
    from ..errors import ValidationError
    from ..trace import queries, service

    if clear == bool(username):
        raise ValidationError("give either the account manager's user name or --clear", details={"field": "user"})
    with runtime().transaction() as s:
        found = queries.get_customer(s, customer)
        before, after = service.set_account_manager(s, found, username=None if clear else username)
        if before != after:
            accounts_service.record_admin_event(s, author=None, action="customer.manager", subject=found.name,
                                                details={"before": before, "after": after})
        name = found.name
    click.echo(f"{name}: account manager {after}" if after else f"{name}: no account manager")
