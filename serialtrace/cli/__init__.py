"""The `serialtrace` console script: as thin as a view, one transaction per command, one module per command group."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, NoSuchModuleError, OperationalError

from ..config import ConfigError
from ..errors import DomainError
from ..runtime import Runtime
from . import batches, claims, db, escalation, imports, labels, lookup, products, scanning, shipping, users
from . import teams as setup


class _Group(click.Group):
    """Turns domain errors into one clear line on stderr and exit code 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            click.echo(f"error: {exc.message}", err=True)
            if exc.details and isinstance(exc.details, dict) and exc.details.get("errors"):
                for row in exc.details["errors"]:
                    click.echo(f"  line {row.get('line')}: {row.get('reason')}", err=True)
            ctx.exit(1)
        except DataError:
            click.echo("error: a value is too long or out of range", err=True)
            ctx.exit(1)
        except click.UsageError as exc:
            # A bad option of a subcommand (a number out of range) is bad input too: one line, exit code 1.
            click.echo(f"error: {exc.format_message()}", err=True)
            ctx.exit(1)
        except UnicodeError:
            # Arguments that are not UTF-8 arrive as lone surrogates, which no database can store.
            click.echo("error: an argument is not valid UTF-8 text", err=True)
            ctx.exit(1)
        except (OperationalError, ArgumentError, NoSuchModuleError) as exc:
            url = ctx.obj.settings.database_url if isinstance(ctx.obj, Runtime) else "?"
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            click.echo(f"error: cannot use the database {make_url(url).render_as_string(hide_password=True)}: "
                       f"{reason}", err=True)
            ctx.exit(1)


@click.group(cls=_Group)
@click.pass_context
def main(ctx: click.Context) -> None:
    """serialtrace: serial-number traceability and warranty service."""
    if isinstance(ctx.obj, Runtime):
        # A caller that built its own runtime (its engine and sessions) passes it as click's obj.
        return
    try:
        ctx.obj = Runtime.from_env()
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)


for command in (db.init, db.demo, db.serve, products.products, batches.batch, shipping.ship, lookup.lookup,
                lookup.trace_cmd, lookup.recall, imports.import_cmd, labels.labels, users.users, users.tokens,
                scanning.scan, scanning.station, claims.claims, escalation.escalate, setup.calendars,
                setup.teams):
    main.add_command(command)

# The registration control's commands: account managers, the daily report.
from . import customers, reports  # noqa: E402

main.add_command(customers.customers)
main.add_command(reports.report)

from . import lots  # noqa: E402

main.add_command(lots.lot)

from . import recalls  # noqa: E402

main.add_command(recalls.recalls)

from . import audit  # noqa: E402

main.add_command(audit.audit)

from . import backup  # noqa: E402

main.add_command(backup.backup_cmd)
main.add_command(backup.restore_cmd)
