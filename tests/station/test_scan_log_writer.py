"""The scan log writer keeps acknowledged entries it has queued while the database cannot be reached."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from serialtrace.db import load_models, make_engine
from serialtrace.errors import Contention
from serialtrace.station.models import ScanLog
from serialtrace.station.service import ScanLogWriter, scan_log_entry


def test_queued_entries_survive_an_unreachable_database_and_are_written_when_it_is_back(tmp_path):
    good = make_engine(f"sqlite:///{tmp_path / 'log.sqlite'}")
    load_models().create_all(good)
    # A folder where the database file should be: SQLite cannot open it, as when the file's volume is gone.
    down = make_engine(f"sqlite:///{tmp_path}")
    sessions = sessionmaker(bind=down)
    writer = ScanLogWriter(sessions, retry_seconds=0.01)
    entries = [scan_log_entry(raw=f"SN{i}", result="unknown", station="desk-1") for i in range(3)]
    # Nothing written, and nothing given up: the entries stay for the next try.
    assert writer._write_all(entries) == 0
    sessions.configure(bind=good)
    assert writer._write_all(entries) == 3
    with sessionmaker(bind=good)() as session:
        assert session.scalar(select(func.count()).select_from(ScanLog)) == 3
    good.dispose()
    down.dispose()


def test_the_queue_behind_a_held_lock_is_bounded_and_drains_when_the_lock_frees(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'log.sqlite'}")
    load_models().create_all(engine)
    writer = ScanLogWriter(sessionmaker(bind=engine), wait_ms=50, retry_seconds=0.05, pending_max=2)
    entries = [scan_log_entry(raw=f"SN{i}", result="unknown", station="desk-1") for i in range(3)]
    blocker = engine.raw_connection()
    blocker.execute("BEGIN IMMEDIATE")  # a long batch registration holding the write lock
    try:
        assert writer.write(entries[0]) is False and writer.write(entries[1]) is False
        with pytest.raises(Contention, match="2 entries behind"):
            writer.write(entries[2])
        assert [e["raw"] for e in writer.pending()] == ["SN0", "SN1"]
    finally:
        blocker.rollback()
        blocker.close()
    assert writer.flush(timeout=30)
    with sessionmaker(bind=engine)() as session:
        assert sorted(session.scalars(select(ScanLog.raw))) == ["SN0", "SN1"]
    engine.dispose()
