"""Before a server takes requests: open its database connections and run the scan path once, rolled back."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import text

from ..accounts import queries as accounts_queries
from ..station import service as station_service

log = logging.getLogger(__name__)
# Codes of each shape a station sends (GS1 with and without a symbology identifier, a bare serial, free text):
# each runs the lookups of its kind once, so the statements are compiled before the first station scans.
SAMPLE_CODES = ("]C1010000000000000021WARMUP01", "(01)00000000000000(21)WARMUP02", "WARMUP03", "warm up")


def warm_up(app: Flask, *, connections: int) -> None:
    """Open up to `connections` pooled connections at once and run the token check and the scan path in a
    transaction that is rolled back, so the first requests after a start pay neither for the driver's first
    connect nor for building statements; a database that is down only delays that work to the first request."""
    rt = app.extensions["serialtrace"]
    try:
        if rt.engine.dialect.name != "sqlite":
            # Held side by side until all are open (a worker that let go early would only reuse its own). Not on
            # SQLite: opening a file is cheap there, and its transactions take the one write lock in turn.
            together = threading.Barrier(connections)
            with ThreadPoolExecutor(max_workers=connections) as pool:
                list(pool.map(lambda _: _ping(rt.engine, together), range(connections)))
        with app.app_context(), rt.sessions() as session:
            try:
                accounts_queries.user_for_token(session, "warm-up: no such token")
                for code in SAMPLE_CODES:
                    station_service.scan_payload(session, code, scheme=rt.serial_scheme())
            finally:
                session.rollback()
    except Exception as exc:  # never keep the server from starting: the first request meets the same error
        log.warning("warm-up skipped: %s", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)


def _ping(engine, together: threading.Barrier) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        together.wait(timeout=30)
