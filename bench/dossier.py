"""Latency of GET /api/v1/units/<serial> over HTTP on a 1M-unit SQLite database, beside a minimal Flask app."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import _common

DEFAULT_DB = Path("/tmp/serialtrace-bench-1m.sqlite")
TOKEN_FILE_SUFFIX = ".token"
P50_TARGET, P99_TARGET = 3.0, 15.0  # ms, DESIGN.md "Performance targets"


# --------------------------------------------------------------------------- building the database

def build(path: Path, *, units: int, batches: int, seed: int = 7) -> None:
    """Fresh database: batches through register_batch, shipments, statuses, events and claims through bulk SQL."""
    from serialtrace.trace import service

    rng = random.Random(seed)
    url = _common.fresh_sqlite(path)
    rt = _common.runtime_for(url)
    scheme = rt.serial_scheme()
    per_batch = units // batches
    t0 = time.perf_counter()
    with rt.transaction() as s:
        for i in range(5):
            service.add_product(s, sku=f"SKU-{i:02d}", name=f"Controller model {i}", gtin=None,
                                warranty_months=12 + 12 * (i % 3), family=f"family-{i % 2}")
    first = date(2025, 1, 6)
    for b in range(batches):
        lots = [service.LotInput(supplier=f"Supplier {k}", part=part,
                                 lot_number=f"{part[:3].upper()}-{rng.randrange(400):04d}", quantity=per_batch)
                for k, part in enumerate(("board", "sensor", "housing"))]
        with rt.transaction() as s:
            service.register_batch(s, product=f"SKU-{b % 5:02d}", quantity=per_batch, scheme=scheme,
                                   number=f"B{b:05d}", produced_on=first + timedelta(days=b), line=f"L{b % 3 + 1}",
                                   shift="A", inputs=lots)
        if (b + 1) % 20 == 0:
            done = (b + 1) * per_batch
            print(f"  registered {done:,} units in {time.perf_counter() - t0:.1f} s", flush=True)
    t_reg = time.perf_counter() - t0
    rt.engine.dispose()

    t1 = time.perf_counter()
    conn = _common.sqlite_connect(path)
    conn.execute("PRAGMA cache_size=-262144")  # the build only; serving uses the product's own settings
    conn.execute("BEGIN IMMEDIATE")
    now = "2026-11-01 08:00:00.000000"
    conn.executemany(
        "INSERT INTO customer (name, tax_id, contact_name, email, phone, address, created_at) VALUES (?,?,?,?,?,?,?)",
        [(f"Customer {c:04d} LLC", f"{7700000000 + c}", f"Contact {c}", f"buyer{c}@example.com", f"+7 900 {c:07d}",
          f"{c} Main street", now) for c in range(1, 501)])
    # Each batch ships in lots of 250 units; 90% of the units leave, the rest stay in stock.
    lot = 250
    ranges = conn.execute("SELECT batch_id, min(id), max(id) FROM unit GROUP BY batch_id ORDER BY batch_id").fetchall()
    conn.execute("CREATE TEMP TABLE plan (shipment_id INTEGER, lo INTEGER, hi INTEGER)")
    plan = []
    for batch_id, lo, hi in ranges:
        produced = first + timedelta(days=batch_id - 1)
        shipped_upto = lo + int((hi - lo + 1) * 0.9)
        for start in range(lo, shipped_upto, lot):
            cust = rng.randrange(1, 501)
            shipped_on = produced + timedelta(days=rng.randrange(3, 60))
            sid = conn.execute(
                "INSERT INTO shipment"
                " (customer_id, shipped_on, reference, carrier, destination, attributes, created_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (cust, shipped_on.isoformat(), f"INV-{batch_id:04d}-{start}", "DHL", f"City {cust % 40}",
                 json.dumps({"route": f"R{cust % 7}"}), now)).lastrowid
            plan.append((sid, start, min(start + lot, shipped_upto) - 1))
    conn.executemany("INSERT INTO plan VALUES (?,?,?)", plan)
    conn.execute("INSERT INTO shipment_item (shipment_id, unit_id, batch_id, quantity)"
                 " SELECT p.shipment_id, u.id, u.batch_id, 1 FROM plan p JOIN unit u ON u.id BETWEEN p.lo AND p.hi")
    conn.execute("UPDATE unit SET status = 'shipped' WHERE id IN (SELECT unit_id FROM shipment_item)")
    # Same payload keys as service.ship_unit writes.
    conn.execute(
        "INSERT INTO unit_event (unit_id, kind, at, author_id, author, payload)"
        " SELECT si.unit_id, 'shipped', sh.shipped_on || ' 12:00:00.000000', NULL, 'system',"
        " json_object('shipment_id', sh.id, 'reference', sh.reference, 'shipped_on', sh.shipped_on,"
        "             'customer_id', sh.customer_id)"
        " FROM shipment_item si JOIN shipment sh ON sh.id = si.shipment_id ORDER BY si.unit_id")
    # About 1% of shipped units get a claim, half of those a test record.
    conn.execute(
        "INSERT INTO claim (number, unit_id, customer_id, state, symptom, description, priority, cost, opened_at)"
        " SELECT printf('C%07d', row_number() OVER (ORDER BY si.unit_id)), si.unit_id, sh.customer_id,"
        " 'registered', 'no_power', 'Does not power on', 'P3', 0.0,"
        " date(sh.shipped_on, '+90 days') || ' 09:00:00.000000'"
        " FROM shipment_item si JOIN shipment sh ON sh.id = si.shipment_id WHERE si.unit_id % 97 = 0")
    conn.execute(
        "INSERT INTO test_record (unit_id, claim_id, verdict, failure_mode, root_cause, notes, tested_at)"
        " SELECT unit_id, id, 'confirmed', 'no_power', 'psu', '', opened_at FROM claim WHERE id % 2 = 0")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("unit", "unit_event", "shipment", "shipment_item", "claim", "test_record", "batch_input")}
    conn.close()
    print(f"  built in {t_reg:.1f} s (register_batch) + {time.perf_counter() - t1:.1f} s (bulk SQL): {counts}")


def ensure_token(path: Path) -> str:
    """An API token of a warehouse user, created once per database and kept next to it."""
    from serialtrace.accounts import service as accounts_service

    token_file = Path(f"{path}{TOKEN_FILE_SUFFIX}")
    if token_file.exists():
        return token_file.read_text().strip()
    rt = _common.runtime_for(f"sqlite:///{path}")
    with rt.transaction() as s:
        user = accounts_service.create_user(s, username="bench", role="warehouse")
        token = accounts_service.create_token(s, name="bench", user=user)
    rt.engine.dispose()
    token_file.write_text(token)
    return token


# --------------------------------------------------------------------------- the two apps

def real_app(path: Path):
    """The product's app on the database."""
    from serialtrace.web import create_app

    return create_app(runtime=_common.runtime_for(f"sqlite:///{path}"))


def minimal_app(path: Path):
    """Flask, no auth, raw sqlite3: six indexed queries for one serial, the floor the real app is compared to."""
    from flask import Flask, abort, jsonify

    app = Flask("minimal")
    local = threading.local()

    def conn() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = _common.sqlite_connect(path)
            local.conn.row_factory = sqlite3.Row
        return local.conn

    @app.get("/api/v1/units/<path:serial>")
    def unit(serial: str):
        c = conn()
        u = c.execute("SELECT id, product_id, batch_id, serial, status, sold_on, external_code, created_at"
                      " FROM unit WHERE serial = ?", (serial,)).fetchone()
        if u is None:
            abort(404)
        pb = c.execute("SELECT p.sku, p.name, p.gtin, p.family, p.warranty_months, p.warranty_start,"
                       " b.number, b.produced_on, b.line, b.shift, b.quantity, b.status"
                       " FROM batch b JOIN product p ON p.id = b.product_id WHERE b.id = ?",
                       (u["batch_id"],)).fetchone()
        inputs = c.execute("SELECT l.supplier, l.part, l.lot_number, i.quantity FROM batch_input i"
                           " JOIN component_lot l ON l.id = i.component_lot_id WHERE i.batch_id = ?"
                           " ORDER BY l.part, l.lot_number", (u["batch_id"],)).fetchall()
        ships = c.execute("SELECT s.id, s.shipped_on, s.reference, s.carrier, s.destination, s.attributes,"
                          " c.id AS customer_id, c.name, c.tax_id, c.contact_name, c.email, c.phone"
                          " FROM shipment_item si JOIN shipment s ON s.id = si.shipment_id"
                          " JOIN customer c ON c.id = s.customer_id WHERE si.unit_id = ?"
                          " ORDER BY s.shipped_on, s.id", (u["id"],)).fetchall()
        events = c.execute("SELECT id, kind, at, author, payload FROM unit_event WHERE unit_id = ? ORDER BY at, id",
                           (u["id"],)).fetchall()
        claims = c.execute("SELECT id, number, state, symptom, description, priority, opened_at, closed_at"
                           " FROM claim WHERE unit_id = ? ORDER BY opened_at DESC", (u["id"],)).fetchall()
        return jsonify({
            "unit": dict(u), "product_batch": dict(pb), "inputs": [dict(r) for r in inputs],
            "shipments": [{**dict(r), "attributes": json.loads(r["attributes"])} for r in ships],
            "events": [{**dict(r), "payload": json.loads(r["payload"])} for r in events],
            "claims": [dict(r) for r in claims],
        })

    return app


def serve(kind: str, path: Path, port: int, threads: int) -> None:
    """Serve one of the apps with waitress until killed (runs in the child process)."""
    import waitress

    app = real_app(path) if kind == "app" else minimal_app(path)
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


# --------------------------------------------------------------------------- measuring

def sample_serials(path: Path, count: int, seed: int) -> list[str]:
    """`count` serials of random units (shipped and in stock alike)."""
    conn = sqlite3.connect(str(path))
    top = conn.execute("SELECT max(id) FROM unit").fetchone()[0]
    rng = random.Random(seed)
    ids = [rng.randrange(1, top + 1) for _ in range(count)]
    by_id = dict(conn.execute(f"SELECT id, serial FROM unit WHERE id IN ({','.join(map(str, set(ids)))})").fetchall())
    conn.close()
    return [by_id[i] for i in ids]


def start_server(kind: str, path: Path, threads: int) -> tuple[subprocess.Popen, int]:
    """Start the app in a child process and wait until it accepts connections."""
    return _common.start_child([_common.python(), __file__, "--serve", kind, "--db", str(path),
                                "--threads", str(threads)], Path(__file__).parent, f"{kind} server")


def measure(port: int, serials: list[str], warmup: int, headers: dict[str, str]) -> list[float]:
    """Milliseconds per GET over one keep-alive connection, after `warmup` unmeasured requests."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i, serial in enumerate(serials):
        t0 = time.perf_counter()
        conn.request("GET", f"/api/v1/units/{serial}", headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        elapsed = (time.perf_counter() - t0) * 1000
        if resp.status != 200:
            raise RuntimeError(f"GET {serial}: {resp.status} {body[:200]!r}")
        if i >= warmup:
            times.append(elapsed)
    conn.close()
    return times


def report(name: str, times: list[float]) -> dict[str, float]:
    """Print and return p50/p90/p99 of `times`."""
    s = sorted(times)
    out = {p: _common.percentile(s, p) for p in (50, 90, 99)}
    print(f"  {name:34s} n={len(s):5d}  p50 {out[50]:6.2f} ms  p90 {out[90]:6.2f} ms  p99 {out[99]:6.2f} ms"
          f"  max {s[-1]:6.1f} ms  mean {sum(s) / len(s):6.2f} ms")
    return out


def profile(path: Path, serials: list[str], token: str) -> None:
    """In-process pyinstrument profile of the real app's dossier view (Flask test client, no HTTP)."""
    from pyinstrument import Profiler

    app = real_app(path)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for s in serials[:100]:
        client.get(f"/api/v1/units/{s}", headers=headers)
    profiler = Profiler(interval=0.0005)
    t0 = time.perf_counter()
    with profiler:
        for s in serials:
            assert client.get(f"/api/v1/units/{s}", headers=headers).status_code == 200
    per = (time.perf_counter() - t0) / len(serials) * 1000
    print(f"\nprofile: {len(serials)} dossiers in-process, {per:.2f} ms each (profiler on)")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the database, serve both apps, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", type=Path, default=None, help=f"reuse this database (default: build {DEFAULT_DB})")
    ap.add_argument("--rebuild", action="store_true", help="build even if --db exists")
    ap.add_argument("--units", type=int, default=1_000_000)
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4, help="waitress threads")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="also profile N dossiers with pyinstrument")
    ap.add_argument("--serve", choices=("app", "minimal"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    path = (args.db or DEFAULT_DB).resolve()
    if args.serve:
        serve(args.serve, path, args.port, args.threads)
        return 0

    print("machine:")
    _common.print_machine()
    if args.rebuild or not path.exists():
        Path(f"{path}{TOKEN_FILE_SUFFIX}").unlink(missing_ok=True)
        print(f"building {args.units:,} units in {args.batches} batches at {path}")
        build(path, units=args.units, batches=args.batches)
    token = ensure_token(path)
    serials = sample_serials(path, args.warmup + args.requests, seed=11)
    print(f"\nGET /api/v1/units/<serial>, {args.requests} random serials after {args.warmup} warm-up, "
          f"one keep-alive connection, waitress threads={args.threads}, load average {os.getloadavg()[0]:.2f}")
    results = {}
    for kind, headers in (("app", {"Authorization": f"Bearer {token}"}), ("minimal", {})):
        proc, port = start_server(kind, path, args.threads)
        try:
            times = measure(port, serials, args.warmup, headers)
        finally:
            proc.terminate()
            proc.wait(10)
        label = "serialtrace app (token auth)" if kind == "app" else "minimal Flask, 6 queries, no auth"
        results[kind] = report(label, times)
    app, floor = results["app"], results["minimal"]
    print(f"  app / minimal: p50 {app[50] / floor[50]:.2f}x, p99 {app[99] / floor[99]:.2f}x")
    ok = app[50] <= P50_TARGET and app[99] <= P99_TARGET
    print(f"  target p50 <= {P50_TARGET} ms, p99 <= {P99_TARGET} ms: {'met' if ok else 'NOT met'}")
    if args.profile:
        profile(path, sample_serials(path, args.profile, seed=23), token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
