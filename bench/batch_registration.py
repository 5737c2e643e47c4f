"""Time service.register_batch for N units against raw sqlite3 executemany of the same rows (run by hand)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from serialtrace.columns import utcnow
from serialtrace.trace import service
from serialtrace.trace.enums import EventKind, UnitStatus

import _common

TARGET = 100_000  # units/s, DESIGN.md "Performance targets"
PRODUCED_ON = date(2026, 11, 27)


def _product(rt) -> None:
    """The product every batch of the run belongs to (outside the timed part)."""
    with rt.transaction() as s:
        service.add_product(s, sku="BENCH-1", name="Bench product", warranty_months=24)


def time_service(url: str, units: int) -> tuple[float, float, dict]:
    """Wall and CPU seconds for one register_batch of `units` with the runtime's scheme, commit included."""
    rt = _common.runtime_for(url)
    _product(rt)
    scheme = rt.serial_scheme()
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    with rt.transaction() as s:
        batch, serials = service.register_batch(s, product="BENCH-1", quantity=units, scheme=scheme,
                                                number="BENCH-0001", produced_on=PRODUCED_ON, line="L1")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    with rt.engine.connect() as conn:
        counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one() for t in ("unit", "unit_event")}
    rt.engine.dispose()
    return elapsed, cpu, counts


def time_raw(path: Path, units: int) -> tuple[float, float, float, dict]:
    """Seconds for serial formatting, then wall and CPU seconds of raw executemany of units plus produced events."""
    url = _common.fresh_sqlite(path)
    rt = _common.runtime_for(url)
    _product(rt)
    scheme = rt.serial_scheme()
    rt.engine.dispose()
    conn = _common.sqlite_connect(path)
    # Batch row and counter outside the timing: the service does them too, but they are a handful of statements.
    conn.execute("BEGIN IMMEDIATE")
    batch_id = conn.execute(
        "INSERT INTO batch (product_id, number, produced_on, line, shift, quantity, status, notes, serial_scheme,"
        " created_at) VALUES (1, 'BENCH-0001', ?, 'L1', '', ?, 'released', '', ?, ?)",
        (PRODUCED_ON.isoformat(), units, scheme.name, utcnow().strftime("%Y-%m-%d %H:%M:%S.%f"))).lastrowid
    conn.execute("COMMIT")
    gc.collect()
    t0 = time.perf_counter()
    serials = scheme.format(0, units, PRODUCED_ON)
    t_format = time.perf_counter() - t0
    # Same text SQLAlchemy writes for a DateTime on SQLite, and the same JSON payload as the service.
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    payload = json.dumps({"batch": "BENCH-0001", "line": "L1", "produced_on": PRODUCED_ON.isoformat()})
    c0, t0 = time.process_time(), time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO unit (product_id, batch_id, serial, status, created_at) VALUES (?, ?, ?, ?, ?)",
                     ((1, batch_id, s, UnitStatus.IN_STOCK.value, now) for s in serials))
    conn.execute("INSERT INTO unit_event (unit_id, kind, at, author_id, author, payload)"
                 " SELECT id, ?, ?, NULL, 'system', ? FROM unit WHERE batch_id = ?",
                 (EventKind.PRODUCED.value, now, payload, batch_id))
    conn.execute("COMMIT")
    t_insert, cpu = time.perf_counter() - t0, time.process_time() - c0
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("unit", "unit_event")}
    conn.close()
    return t_format, t_insert, cpu, counts


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print units/s."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=500_000)
    ap.add_argument("--dir", type=Path, default=None, help="folder for the SQLite files (default: a temp folder)")
    ap.add_argument("--postgres", metavar="URL", default=None, help="also time the service on a throwaway schema")
    args = ap.parse_args(argv)
    n = args.units

    print("machine:")
    _common.print_machine()
    with tempfile.TemporaryDirectory(prefix="st-bench-", dir=args.dir) as tmp:
        svc_path, raw_path = Path(tmp) / "service.sqlite", Path(tmp) / "raw.sqlite"
        t_svc, cpu_svc, c_svc = time_service(_common.fresh_sqlite(svc_path), n)
        t_fmt, t_raw, cpu_raw, c_raw = time_raw(raw_path, n)
    assert c_svc == c_raw == {"unit": n, "unit_event": n}, (c_svc, c_raw)

    svc_rate, raw_rate, raw_all = n / t_svc, n / t_raw, n / (t_raw + t_fmt)
    print(f"\nunits: {n:,} in one batch, one transaction, opaque scheme, SQLite file; load average "
          f"{os.getloadavg()[0]:.2f} (CPU seconds are less disturbed by other processes than wall seconds)")
    print(f"  service.register_batch + commit : {t_svc:7.2f} s  {svc_rate:>10,.0f} units/s  (CPU {cpu_svc:6.2f} s)")
    print(f"  raw sqlite3 executemany + commit: {t_raw:7.2f} s  {raw_rate:>10,.0f} units/s  (CPU {cpu_raw:6.2f} s)")
    print(f"  serial formatting (scheme.format): {t_fmt:6.2f} s  (raw + formatting: {raw_all:,.0f} units/s)")
    print(f"  ratio service / raw (time)      : {t_svc / t_raw:7.2f}x  "
          f"(vs raw + formatting: {t_svc / (t_raw + t_fmt):.2f}x)")
    print(f"  target >= {TARGET:,} units/s    : {'met' if svc_rate >= TARGET else 'NOT met'}")

    if args.postgres:
        url, drop = _common.fresh_postgres_schema(args.postgres)
        try:
            t_pg, _cpu, c_pg = time_service(url, n)
        finally:
            drop()
        assert c_pg == {"unit": n, "unit_event": n}, c_pg
        print(f"  PostgreSQL service + commit     : {t_pg:7.2f} s  {n / t_pg:>10,.0f} units/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
