"""One demo database (2,000 units, seed 7) shared by the quality tests that read the demo's numbers."""

from __future__ import annotations

import pytest

from serialtrace.demo import load_demo
from serialtrace.migrate import upgrade
from serialtrace.runtime import Runtime


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo data set loaded once per test process; tests only read it."""
    runtime = Runtime.from_env({"database_url": f"sqlite:///{tmp_path_factory.mktemp('quality') / 'q.sqlite'}"})
    upgrade(runtime.engine)
    load_demo(runtime, units=2000, seed=7)
    yield runtime
    runtime.engine.dispose()
