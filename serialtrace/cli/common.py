"""What the command modules share: the runtime of the invocation, JSON output, file-writing errors."""

from __future__ import annotations

import json
from contextlib import contextmanager

import click

from ..runtime import Runtime


def runtime() -> Runtime:
    """The runtime of this invocation (made by `main` from the settings, or given to it)."""
    ctx = click.get_current_context()
    return ctx.find_root().obj


def echo_json(data) -> None:
    """Print `data` as indented JSON, non-ASCII text as it is."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@contextmanager
def writing(path: str):
    """An OSError while writing `path` becomes `error: cannot write <path>: <reason>` and exit code 1."""
    try:
        yield
    except OSError as exc:
        click.echo(f"error: cannot write {path}: {exc.strerror or exc}", err=True)
        click.get_current_context().exit(1)
