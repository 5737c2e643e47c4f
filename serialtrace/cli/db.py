"""Database and server commands: init, demo, serve."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..config import ConfigError
from .common import runtime

if TYPE_CHECKING:
    from ..demo import DemoProgress


@click.command()
def init() -> None:
    """Create or upgrade the database schema."""
    from ..migrate import upgrade

    rt = runtime()
    upgrade(rt.engine)
    click.echo(f"database ready: {rt.engine.url.render_as_string(hide_password=True)}")


@click.command()
@click.option("--units", type=click.IntRange(0, 5_000_000), default=20_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has products.")
def demo(units: int, seed: int, if_empty: bool) -> None:
    """Load realistic demo data (deterministic by seed) and print the demo logins."""
    from ..demo import DEMO_PASSWORD, database_is_empty, load_demo
    from ..migrate import upgrade

    rt = runtime()
    upgrade(rt.engine)
    if if_empty and not database_is_empty(rt):
        click.echo("demo data already loaded")
    else:
        summary = load_demo(rt, units=units, seed=seed, progress=DemoLines())
        click.echo(summary)
    click.echo(f"demo logins (password {DEMO_PASSWORD}): warehouse, coordinator, engineer, quality, supervisor, "
               "production, admin")


class DemoLines:
    """Progress of `demo` as plain lines on stderr (they read the same in a terminal, a log and `make run`): the
    reference data, the batches at every tenth of the units and at the last, then the claims."""

    def __init__(self) -> None:
        self.next_tenth = 1

    def __call__(self, p: DemoProgress) -> None:
        """Print the line this step deserves, if any."""
        if p.step == "reference":
            line = (f"demo: {p.products} products, {p.customers} customers; {p.units_total:,} units in "
                    f"{p.batches_total:,} batches to go")
        elif p.step == "batch":
            if p.batches < p.batches_total and p.units * 10 < self.next_tenth * p.units_total:
                return
            self.next_tenth = p.units * 10 // max(p.units_total, 1) + 1
            line = (f"demo: batches {p.batches:,}/{p.batches_total:,}, units {p.units:,}/{p.units_total:,}, "
                    f"{p.shipments:,} shipments")
        else:
            line = (f"demo: {p.claims:,} claims with their returns, tests and replacements; "
                    f"{p.shipments:,} shipments in all")
        click.echo(line, err=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM).")
@click.option("--tls", is_flag=True, help="Serve https with a generated self-signed certificate.")
def serve(host: str, port: int, threads: int, cert: str | None, key: str | None, tls: bool) -> None:
    """Serve the web app on a production WSGI server (waitress; cheroot when serving https).

    SERIALTRACE_CONNECTION_LIMIT and SERIALTRACE_IDLE_TIMEOUT bound the open connections; behind a reverse
    proxy set SERIALTRACE_PROXY_FIX to the number of proxies. An escalation pass runs every
    SERIALTRACE_ESCALATION_INTERVAL seconds (0: none).
    """
    from ..web import create_app
    from ..web.serving import serve_http

    settings = runtime().settings
    try:
        app = create_app(runtime=runtime())
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    from ..warranty import escalation

    # Escalation passes every SERIALTRACE_ESCALATION_INTERVAL seconds beside the requests (0: cron does it).
    escalation.start_background(runtime())
    from ..web.warmup import warm_up

    # One connection per request thread, open before the first station scans.
    warm_up(app, connections=threads)
    if cert or key or tls:
        from ..web.tls import serve_tls

        serve_tls(app, settings, host=host, port=port, cert=cert, key=key, threads=threads)
        return
    serve_http(app, settings, host=host, port=port, threads=threads)
