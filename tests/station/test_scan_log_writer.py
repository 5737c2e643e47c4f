"""The scan log writer keeps acknowledged entries it has queued while the database cannot be reached."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from serialtrace.db import load_models, make_engine
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
