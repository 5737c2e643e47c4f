"""The shared clock: the wall clock, or the moment a block stands at, in that context only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from serialtrace.columns import at_moment, utcnow


def test_utcnow_is_the_wall_clock_in_utc():
    before = datetime.now(UTC)
    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)


def test_a_block_stands_at_its_moment_and_the_clock_returns_after_it():
    moment = datetime(2025, 3, 14, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    with at_moment(moment):
        assert utcnow() == datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
        assert utcnow().tzinfo == UTC
    assert utcnow().year >= 2026


def test_another_thread_keeps_the_wall_clock():
    seen = []
    with at_moment(datetime(2025, 1, 1, tzinfo=UTC)):
        worker = threading.Thread(target=lambda: seen.append(utcnow()))
        worker.start()
        worker.join()
    assert seen[0].year >= 2026


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        with at_moment(datetime(2025, 1, 1)):
            pass
