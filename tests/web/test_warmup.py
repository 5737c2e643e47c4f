"""The warm-up before serving: connections opened and the scan path run once, nothing kept, never a failed start."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from serialtrace.runtime import Runtime
from serialtrace.station.models import ScanLog
from serialtrace.web import create_app
from serialtrace.web.warmup import warm_up


@pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_warm_up_opens_connections_runs_the_scans_and_keeps_nothing(fresh_db_url, caplog):
    rt = Runtime.from_env({"database_url": fresh_db_url, "secret_key": "test-secret", "testing": True})
    app = create_app(runtime=rt)
    with caplog.at_level(logging.WARNING, logger="serialtrace.web.warmup"):
        warm_up(app, connections=3)
    assert "warm-up skipped" not in caplog.text
    # The connections stay in the pool for the first requests, and the sample scans left no row behind.
    assert rt.engine.pool.checkedin() >= (1 if rt.engine.dialect.name == "sqlite" else 3), rt.engine.pool.status()
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ScanLog)).scalar_one() == 0
    rt.engine.dispose()


def test_a_database_that_cannot_be_reached_only_logs_a_warning(tmp_path, caplog):
    # A folder where the SQLite file should be: no connection can open it.
    rt = Runtime.from_env({"database_url": f"sqlite:///{tmp_path}", "secret_key": "test-secret", "testing": True})
    app = create_app(runtime=rt)
    with caplog.at_level(logging.WARNING, logger="serialtrace.web.warmup"):
        warm_up(app, connections=2)
    assert "warm-up skipped" in caplog.text
    rt.engine.dispose()
