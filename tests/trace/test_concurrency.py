"""Several writer processes allocating serials at once never produce a duplicate (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing as mp
from datetime import date

from sqlalchemy import func, select

from serialtrace.runtime import Runtime
from serialtrace.trace import service
from serialtrace.trace.models import Unit

WRITERS = 4
BATCHES_PER_WRITER = 3
UNITS_PER_BATCH = 200


def _writer(url: str, worker: int, scheme_kind: str) -> list[str]:
    """Register batches in separate transactions, as a production line station would."""
    rt = Runtime.from_env({"database_url": url, "serial_scheme": scheme_kind, "serial_prefix": "SN"})
    serials = []
    for n in range(BATCHES_PER_WRITER):
        with rt.transaction() as s:
            _, got = service.register_batch(s, product="PR-CC", quantity=UNITS_PER_BATCH, number=f"W{worker}-{n}",
                                            produced_on=date(2026, 5, 4), scheme=rt.serial_scheme())
            serials.extend(got)
    rt.engine.dispose()
    return serials


def _run_writers(url: str, scheme_kind: str) -> list[str]:
    rt = Runtime.from_env({"database_url": url})
    with rt.transaction() as s:
        service.add_product(s, sku="PR-CC", name="Concurrency probe")
    rt.engine.dispose()
    ctx = mp.get_context("spawn")
    with ctx.Pool(WRITERS) as pool:
        results = pool.starmap(_writer, [(url, w, scheme_kind) for w in range(WRITERS)])
    return [s for part in results for s in part]


def _count_units(url: str) -> int:
    rt = Runtime.from_env({"database_url": url})
    with rt.transaction() as s:
        count = s.scalar(select(func.count()).select_from(Unit))
    rt.engine.dispose()
    return count


def test_parallel_writers_never_duplicate_opaque_serials(fresh_db_url):
    serials = _run_writers(fresh_db_url, "opaque")
    expected = WRITERS * BATCHES_PER_WRITER * UNITS_PER_BATCH
    assert len(serials) == expected
    assert len(set(serials)) == expected
    assert _count_units(fresh_db_url) == expected


def test_parallel_writers_never_duplicate_pattern_serials(fresh_db_url):
    serials = _run_writers(fresh_db_url, "pattern")
    expected = WRITERS * BATCHES_PER_WRITER * UNITS_PER_BATCH
    assert len(set(serials)) == expected
    # The sequence is gap-free across writers: every number from 1 to the total was handed out once.
    assert sorted(int(s[-6:]) for s in serials) == list(range(1, expected + 1))
