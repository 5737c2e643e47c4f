"""Backups: `backup PATH` while the app serves, `restore PATH` into an empty database."""

from __future__ import annotations

from pathlib import Path

import click

from .common import runtime


def _size(size: int) -> str:
    """A byte count as people read it."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _contents(summary) -> str:
    rows = "" if summary.rows is None else f", {summary.rows:,} rows"
    return f"{summary.tables} tables{rows}, schema revision {summary.revision}"


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def backup_cmd(path: Path, force: bool) -> None:
    """Write an online backup of the database to PATH while the app keeps serving.

    SQLite: a copy of the database file (its backup API); PostgreSQL: pg_dump's custom format (-Fc) of the URL's
    schema. The file appears under PATH only once it is complete.
    """
    from .. import backup

    summary = backup.backup(runtime().engine, path, force=force)
    click.echo(f"backup written: {summary.path} ({_size(summary.size)}; {_contents(summary)})")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
def restore_cmd(path: Path) -> None:
    """Restore the backup at PATH into the database, which must be empty (a new SQLite file or schema).

    The file is checked whole before anything is written; a refused or failed restore changes nothing.
    """
    from .. import backup

    rt = runtime()
    summary = backup.restore(rt.engine, path)
    click.echo(f"restored {path} into {rt.engine.url.render_as_string(hide_password=True)} ({_contents(summary)})")
    advice = backup.schema_advice(summary.revision)
    if advice:
        click.echo(advice)
