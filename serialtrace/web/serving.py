"""The production HTTP server settings: enough connections for a site, idle ones closed, no server banner."""

from __future__ import annotations

import resource
from typing import Any

from ..config import ConfigError, Settings

# File descriptors the process needs besides its client connections (database, logs, listening socket, imports).
SPARE_FILES = 64


def ensure_serving_settings(settings: Settings) -> None:
    """ConfigError naming the variable when a server setting cannot work."""
    for name, low in (("connection_limit", 1), ("idle_timeout", 1), ("proxy_fix", 0), ("hsts_max_age", 0)):
        if getattr(settings, name) < low:
            raise ConfigError(f"SERIALTRACE_{name.upper()} must be at least {low}, not {getattr(settings, name)}")


def waitress_options(settings: Settings, *, host: str, port: int, threads: int) -> dict[str, Any]:
    """Keyword arguments for waitress.serve: connection limit and idle timeout from the settings."""
    ensure_serving_settings(settings)
    return {
        "host": host, "port": port, "threads": threads,
        # Waitress stops accepting anyone once connection_limit sockets are open (its default, 100, is reached
        # by a handful of idle clients); idle ones are closed after channel_timeout, checked every cleanup_interval.
        "connection_limit": settings.connection_limit,
        "channel_timeout": settings.idle_timeout,
        "cleanup_interval": max(1, min(10, settings.idle_timeout // 2)),
        # select() cannot watch descriptors above 1024, which a thousand connections reach; poll() can.
        "asyncore_use_poll": True,
        "backlog": max(1024, settings.connection_limit),
        # No Server header: the product and its version are nobody's business.
        "ident": "",
    }


def ensure_open_files(connections: int) -> int:
    """Raise this process's open-file limit so `connections` sockets fit; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return soft


def serve_http(app, settings: Settings, *, host: str, port: int, threads: int) -> None:
    """Run the app on waitress (plain http, or behind a reverse proxy that holds the certificate)."""
    import waitress

    options = waitress_options(settings, host=host, port=port, threads=threads)
    limit = ensure_open_files(settings.connection_limit)
    if limit < settings.connection_limit + SPARE_FILES:
        app.logger.warning("open-file limit %s is below SERIALTRACE_CONNECTION_LIMIT %s; raise it (ulimit -n)",
                           limit, settings.connection_limit)
    print(f"serving on http://{host}:{port}", flush=True)
    waitress.serve(app, **options)
