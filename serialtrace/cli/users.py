"""User and API token commands."""

from __future__ import annotations

import sys

import click

from .common import runtime

# The actor the security log names for changes made on the server's command line (there is no client address).
CONSOLE = "console"


@click.group()
def users() -> None:
    """Manage users."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--email", default="")
@click.option("--language", default="", help="Language of the user's pages: en or ru (default: the browser's).")
def users_add(name: str, role: str, password_stdin: bool, email: str, language: str) -> None:
    """Add a user with a role; the password (at least 10 characters, not common) comes from stdin or a prompt."""
    from ..accounts import service as accounts_service

    password = _read_password(password_stdin)
    with runtime().transaction() as s:
        accounts_service.create_user(s, username=name, role=role, password=password, email=email,
                                     language=language or None, actor=CONSOLE)
    click.echo(f"user {name} added with role {role}")


def _read_password(from_stdin: bool) -> str:
    """One line of standard input, or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def users_passwd(name: str, password_stdin: bool) -> None:
    """Set a user's password; every session of theirs ends (API tokens stay valid)."""
    from ..accounts import queries as accounts_queries
    from ..accounts import service as accounts_service

    password = _read_password(password_stdin)
    with runtime().transaction() as s:
        accounts_service.set_password(s, accounts_queries.get_user(s, name), password=password, actor=CONSOLE)
    click.echo(f"password of {name} changed; their open sessions have ended")


@users.command("language")
@click.argument("name")
@click.argument("language", default="")
def users_language(name: str, language: str) -> None:
    """Set the language of a user's pages (en or ru); without one, their pages follow the browser's language."""
    from ..accounts import queries as accounts_queries
    from ..accounts import service as accounts_service

    with runtime().transaction() as s:
        user = accounts_service.set_language(s, accounts_queries.get_user(s, name), language=language)
    click.echo(f"pages of {name} are shown in {user.language}" if user.language
               else f"pages of {name} follow the browser's language")


@users.command("unlock")
@click.argument("name")
def users_unlock(name: str) -> None:
    """Forget the failed log-ins counted against a user name, ending its lockout (address lockouts stay)."""
    from ..accounts import service as accounts_service

    with runtime().transaction() as s:
        count = accounts_service.clear_failures(s, name, actor=CONSOLE)
    click.echo(f"user name {name}: {count} failed log-ins forgotten")


@users.command("deactivate")
@click.argument("name")
def users_deactivate(name: str) -> None:
    """Stop a user from logging in; their API tokens stop working too."""
    from ..accounts import service as accounts_service

    with runtime().transaction() as s:
        accounts_service.deactivate_user(s, name, actor=CONSOLE)
    click.echo(f"user {name} deactivated; logins and API tokens are refused")


@click.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("name")
@click.option("--user", "username", help="The user the token acts as (default: a user named NAME, created "
                                         "with --role when missing).")
@click.option("--role", default="admin", show_default=True, help="Role of the integration user created for NAME.")
def tokens_create(name: str, username: str | None, role: str) -> None:
    """Create an API token and print it once on stdout (only its hash is stored)."""
    from ..accounts import queries as accounts_queries
    from ..accounts import service as accounts_service
    from ..errors import NotFound

    with runtime().transaction() as s:
        try:
            user = accounts_queries.get_user(s, username or name)
        except NotFound:
            if username:
                raise
            user = accounts_service.create_user(s, username=name, role=role, display_name=f"{name} (API)",
                                                actor=CONSOLE)
            click.echo(f"created integration user {name} with role {role}", err=True)
            if role == "admin":
                click.echo(f"warning: this token has full rights (role admin); for less, revoke it and run "
                           f"serialtrace tokens create {name} --role ROLE (e.g. warehouse) or --user USER",
                           err=True)
        secret = accounts_service.create_token(s, name=name, user=user, actor=CONSOLE)
    click.echo(secret)


@tokens.command("list")
def tokens_list() -> None:
    """Every token: name, user, prefix, created, last used, revoked (never the secret)."""
    from ..accounts import queries as accounts_queries

    def when(moment) -> str:
        return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"

    with runtime().read() as s:
        for token, user in accounts_queries.list_tokens(s):
            state = "revoked" if token.revoked else ("user inactive" if not user.active else "active")
            click.echo(f"{token.name}\t{user.username}\t{token.prefix}\t{when(token.created_at)}"
                       f"\t{when(token.last_used_at)}\t{state}")


@tokens.command("revoke")
@click.argument("name_or_prefix")
def tokens_revoke(name_or_prefix: str) -> None:
    """Revoke the tokens with this name or prefix (as `tokens list` shows them); they get 401 from then on."""
    from ..accounts import service as accounts_service

    with runtime().transaction() as s:
        revoked = [(t.name, t.prefix) for t in accounts_service.revoke_tokens(s, name_or_prefix, actor=CONSOLE)]
    for name, prefix in revoked:
        click.echo(f"token {name} ({prefix}...) revoked")
