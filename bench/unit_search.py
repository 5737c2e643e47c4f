"""Unit search (/units?q=) on a database of millions of units: the index range on serial_key against the old
upper(serial) LIKE upper(prefix) scan, the query plan, and what migration 0003 costs to fill the keys (run by hand)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from serialtrace.trace import queries, service
from serialtrace.trace.models import Batch, Product, Unit

import _common

PER_BATCH = service.SQLITE_MAX_UNITS
MIGRATION = (Path(__file__).resolve().parents[1] / "serialtrace" / "migrations" / "versions"
             / "2026_12_02_0003_unit_search.py")


def build(url: str, units: int) -> None:
    """`units` units of one product through register_batch, in batches of at most PER_BATCH."""
    rt = _common.runtime_for(url)
    with rt.transaction() as s:
        service.add_product(s, sku="SEARCH-1", name="Search bench")
    scheme = rt.serial_scheme()
    t0 = time.perf_counter()
    holds = []
    for n, start in enumerate(range(0, units, PER_BATCH)):
        t1 = time.perf_counter()
        with rt.transaction() as s:
            service.register_batch(s, product="SEARCH-1", quantity=min(PER_BATCH, units - start), scheme=scheme,
                                   number=f"S{n:04d}", produced_on=date(2026, 11, 27))
        # From the first statement to the commit: on SQLite the time the write lock is held.
        holds.append(time.perf_counter() - t1)
    print(f"  one registration per batch of up to {PER_BATCH:,} (transaction seconds, in order): "
          + ", ".join(f"{h:.2f}" for h in holds), flush=True)
    with rt.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"  built {units:,} units in {time.perf_counter() - t0:.1f} s", flush=True)
    rt.engine.dispose()


def _old_statement(prefix: str, limit: int = 200):
    """The search as it was before revision 0003: upper() on both sides, OR over serial and external code."""
    from sqlalchemy import select

    return (select(Unit, Product.sku, Batch.number).join(Product, Product.id == Unit.product_id)
            .join(Batch, Batch.id == Unit.batch_id)
            .where(queries._starts_with(Unit.serial, prefix) | queries._starts_with(Unit.external_code, prefix))
            .order_by(Unit.serial).limit(limit))


def _time(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _plan(session, stmt) -> str:
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    if session.get_bind().dialect.name == "sqlite":
        return "; ".join(str(r[-1]) for r in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    rows = [r[0] for r in session.execute(text("EXPLAIN " + sql))]
    return "; ".join(r.strip() for r in rows if "Scan" in r or "Sort" in r or "Limit" in r)


def measure(url: str, *, runs: int, old_runs: int, seed: int = 11) -> None:
    """Time list_units for prefix classes, old and new, and print the plans."""
    rt = _common.runtime_for(url)
    rng = random.Random(seed)
    with rt.read_sessions() as s:
        total = s.scalar(text("SELECT max(id) FROM unit"))
        serials = [s.scalar(text("SELECT serial FROM unit WHERE id = :i"), {"i": rng.randint(1, total)})
                   for _ in range(20)]
        classes = {
            "2 chars (about 1% of units)": [x[:2] for x in serials],
            "5 chars": [x[:5] for x in serials],
            "whole serial": serials,
            "lower case, 4 chars": [x[:4].lower() for x in serials],
            "no match": [f"ZZ{i}" for i in range(20)],
        }
        print(f"\n  {'prefix':30s} {'new p50 ms':>10s} {'new max ms':>10s} {'rows':>5s}   {'old p50 ms':>10s}")
        for name, prefixes in classes.items():
            new = []
            for p in prefixes:
                new += _time(lambda p=p: queries.list_units(s, prefix=p), runs)
            rows = len(queries.list_units(s, prefix=prefixes[0]))
            old = []
            for p in prefixes[:old_runs]:
                old += _time(lambda p=p: s.execute(_old_statement(p)).all(), 1)
            print(f"  {name:30s} {statistics.median(new):10.2f} {max(new):10.2f} {rows:5d}   "
                  f"{statistics.median(old) if old else float('nan'):10.1f}", flush=True)
        by_serial, by_external = queries.unit_search_statements(serials[0][:2], 200)
        print(f"\n  plan, serial prefix    : {_plan(s, by_serial)}")
        print(f"  plan, external prefix  : {_plan(s, by_external)}")
        print(f"  plan, before (old)     : {_plan(s, _old_statement(serials[0][:2]))}")
    rt.engine.dispose()


def measure_fill(url: str) -> None:
    """Empty the keys, then time what revision 0003 does to existing rows: fill them and build the index."""
    spec = importlib.util.spec_from_file_location("rev0003", MIGRATION)
    rev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rev)
    rt = _common.runtime_for(url)
    with rt.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_unit_serial_key")
        conn.exec_driver_sql("UPDATE unit SET serial_key = NULL")
    t0 = time.perf_counter()
    with rt.engine.begin() as conn:
        rev._fill_keys(conn, "serial", "serial_key")
        rev._fill_keys(conn, "external_code", "external_key")
        t_fill = time.perf_counter() - t0
        conn.exec_driver_sql("CREATE INDEX ix_unit_serial_key ON unit (serial_key)")
    print(f"\n  migration 0003 on these units: keys filled in {t_fill:.1f} s, index built in "
          f"{time.perf_counter() - t0 - t_fill:.1f} s", flush=True)
    rt.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Build, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=5_000_000, help="units on SQLite (default 5,000,000)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per prefix of the new search")
    ap.add_argument("--old-runs", type=int, default=2, help="prefixes per class timed with the old search (slow)")
    ap.add_argument("--dir", type=Path, default=None, help="folder for the SQLite file (default: a temp folder)")
    ap.add_argument("--postgres", metavar="URL", default=None, help="also run on a throwaway PostgreSQL schema")
    ap.add_argument("--pg-units", type=int, default=2_000_000)
    args = ap.parse_args(argv)

    print("machine:")
    _common.print_machine()
    with tempfile.TemporaryDirectory(prefix="st-search-", dir=args.dir) as tmp:
        url = _common.fresh_sqlite(Path(tmp) / "search.sqlite")
        print(f"\nSQLite, load average {os.getloadavg()[0]:.2f}")
        build(url, args.units)
        measure(url, runs=args.runs, old_runs=args.old_runs)
        measure_fill(url)
    if args.postgres:
        url, drop = _common.fresh_postgres_schema(args.postgres)
        try:
            print(f"\nPostgreSQL, load average {os.getloadavg()[0]:.2f}")
            build(url, args.pg_units)
            measure(url, runs=args.runs, old_runs=args.old_runs)
            measure_fill(url)
        finally:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
