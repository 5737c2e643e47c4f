"""Load on PostgreSQL: 50 scanning stations and 10 claim desks against 1M units, the app served by `serialtrace
serve` (waitress) as users run it, the clients driven by locust; afterwards every acknowledged (2xx) scan and
replacement is looked up in the database (exactly once, nothing doubled). With --outage the PostgreSQL server is
stopped and started again mid-run: requests answer 503 database_unavailable and recover by themselves.

The database is a private PostgreSQL cluster in --cluster (default /tmp/serialtrace-load-pg, run as the postgres
account when started as root), never the shared server: the outage run restarts it. It is built once with 1M units
(bench/quality.py's builder) and kept; each run uses units nobody claimed or handed out before.

    pip install -e '.[bench]'                    # locust, once
    .venv/bin/python bench/locust_desk.py        # build if needed, 60 s of load, verify
    .venv/bin/python bench/locust_desk.py --outage --down 8

This file is also the locustfile the script hands to locust (`locust -f bench/locust_desk.py --headless -u 60 -r 20
-t 60s --csv ...`, with LOAD_PLAN and LOAD_ACKS set, as main() does).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

MESSAGE = "the database is not reachable; nothing was changed; try again in a moment"
STATIONS, DESKS = 50, 10
# GTINs given to bench/quality.py's four products (valid check digits), so stations can scan GS1 labels.
GTINS = ("04601234000017", "04601234000024", "04601234000031", "04601234000048")


if __name__ != "__main__":  # imported by locust as the locustfile
    from locust import HttpUser, between, events, task

    _PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
    _ACKS: dict[str, list] = {"scans": [], "claims": [], "replacements": [], "unavailable": [], "other_errors": []}
    _LOCK = threading.Lock()
    _STATION_NO, _DESK_NO = itertools.count(), itertools.count()

    def _ack(kind: str, item) -> None:
        with _LOCK:
            _ACKS[kind].append(item)

    def _failed(resp, what: str) -> None:
        """A 503 with the outage message is counted as such; anything else is an error to look at."""
        body = resp.text or ""
        if resp.status_code == 503 and MESSAGE in body and resp.headers.get("Retry-After"):
            _ack("unavailable", [what, time.time()])
            resp.failure("503 database_unavailable")
        else:
            _ack("other_errors", [what, resp.status_code, body[:300], time.time()])
            resp.failure(f"{resp.status_code}")

    @events.quit.add_listener
    def _write_acks(**_kw) -> None:
        # At exit, after the users had --stop-timeout to finish what they had sent.
        with _LOCK:
            Path(os.environ["LOAD_ACKS"]).write_text(json.dumps(_ACKS))

    class Station(HttpUser):
        """A packing or receiving station: a scan every 0.5-1.5 s, GS1 labels, bare serials and a few unknowns."""

        fixed_count = STATIONS
        wait_time = between(0.5, 1.5)

        def on_start(self) -> None:
            self.no = next(_STATION_NO)
            self.rng = random.Random(self.no)
            self.count = 0
            self.headers = {"Authorization": f"Bearer {_PLAN['station_token']}"}

        @task
        def scan(self) -> None:
            serial, gtin = self.rng.choice(_PLAN["scan_units"])
            roll = self.rng.random()
            if roll < 0.45:
                code = f"(01){gtin}(21){serial}"
            elif roll < 0.9:
                code = serial
            else:
                code = f"ZX{self.rng.randrange(10**9):09d}"  # a label of someone else's product
            self.count += 1
            # The station name is the request's marker: one scan_log row per acknowledged scan, looked up by it.
            marker = f"load-{_PLAN['run']}-s{self.no:02d}-{self.count:06d}"
            with self.client.post("/api/v1/scans", json={"code": code, "station": marker}, headers=self.headers,
                                  name="scan", catch_response=True) as resp:
                if resp.status_code == 200:
                    _ack("scans", [marker, time.time()])
                else:
                    _failed(resp, "scan")

    class Desk(HttpUser):
        """A claim desk: registers a claim for a shipped unit and hands a replacement from its own stock at once."""

        fixed_count = DESKS
        wait_time = between(1.0, 3.0)

        def on_start(self) -> None:
            self.no = next(_DESK_NO)
            desk = _PLAN["desks"][self.no]
            self.headers = {"Authorization": f"Bearer {desk['token']}"}
            self.returns = iter(desk["returns"])  # [serial, product_id], claimed by this desk only
            self.stock = {int(pid): iter(serials) for pid, serials in desk["stock"].items()}

        @task
        def claim_and_replace(self) -> None:
            serial, product = next(self.returns)
            with self.client.post("/api/v1/claims", json={"serial": serial, "symptom": "no_power",
                                                          "description": f"load {_PLAN['run']}"},
                                  headers=self.headers, name="claim", catch_response=True) as resp:
                if resp.status_code != 201:
                    _failed(resp, "claim")
                    return
                claim_id = resp.json()["id"]
                _ack("claims", claim_id)
            # The replacement is retried through an outage, as a desk would press the button again.
            replacement = next(self.stock[product])
            for _attempt in range(30):
                with self.client.post(f"/api/v1/claims/{claim_id}/replace", json={
                        "replacement_serial": replacement, "on_desk": True}, headers=self.headers,
                        name="replace", catch_response=True) as resp:
                    if resp.status_code == 201:
                        _ack("replacements", [claim_id, replacement])
                        return
                    _failed(resp, "replace")
                    if resp.status_code != 503:
                        return
                time.sleep(1)


# --------------------------------------------------------------------------- the driver (run as a script)

def _driver():
    """The driver's imports: the project, bench helpers and the private cluster; never loaded into locust."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import quality

    import _common

    return _common, quality


class Cluster:
    """The private PostgreSQL cluster in `folder` on `port` (the postgres account runs it when we are root)."""

    BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.data, self.port = folder, folder / "data", port
        self.server = f"postgresql://postgres@127.0.0.1:{port}"

    def _run(self, *argv: str) -> None:
        import subprocess

        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, str(self.BIN / argv[0]), *argv[1:]], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{argv[0]}: {done.stdout}{done.stderr}")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def ensure(self) -> None:
        """Create the cluster once, start it when it is down."""
        import shutil

        if not self.data.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres")
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        if not self.running():
            self.start()

    def start(self) -> None:
        # Defaults but a bigger buffer cache (the unit indexes of 1M units) and enough connections for the pool.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c shared_buffers=512MB "
                   "-c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


def prepare(cluster: Cluster, database: str, run: str, *, units: int, scan_sample: int, claims_per_desk: int):
    """The bench database (built once), the users and tokens of this run and its plan: scan codes, and per desk the
    units it claims and the stock it hands out (disjoint, never used by an earlier run)."""
    from sqlalchemy import text

    from serialtrace.accounts import service as accounts_service

    _common, quality = _driver()
    admin = _common.make_engine(f"{cluster.server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :d"), {"d": database}):
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    url = f"{cluster.server}/{database}"
    _common.upgrade(_common.make_engine(url))
    engine = _common.make_engine(url)
    with engine.connect() as conn:
        have = conn.scalar(text("SELECT count(*) FROM unit"))
    if have != units:
        if have:
            raise SystemExit(f"{database} has {have:,} units, not {units:,}: drop it (or the cluster) first")
        print(f"building {units:,} units in {database} (once; kept for later runs)", flush=True)
        quality.build(url, units=units, batches=units // 500, claims=2_000)
        with engine.begin() as conn:
            for sku, gtin in zip((f"QP-{p}" for p in range(1, 5)), GTINS, strict=True):
                conn.execute(text("UPDATE product SET gtin = :g WHERE sku = :s"), {"g": gtin, "s": sku})
            conn.execute(text("ANALYZE"))

    rng = random.Random(run)
    rt = _common.runtime_for(url, serial_key=quality.KEY)
    with rt.transaction() as s:
        station = accounts_service.create_user(s, username=f"station-{run}", role="warehouse")
        station_token = accounts_service.create_token(s, name=f"load {run}", user=station)
        desk_tokens = []
        for d in range(DESKS):
            desk = accounts_service.create_user(s, username=f"desk{d:02d}-{run}", role="warehouse")
            desk_tokens.append(accounts_service.create_token(s, name=f"load {run}", user=desk))
    rt.engine.dispose()
    with engine.connect() as conn:
        scan_units = [list(r) for r in conn.execute(text(
            "SELECT u.serial, p.gtin FROM unit u JOIN product p ON p.id = u.product_id "
            "WHERE u.id IN (SELECT (random() * (SELECT max(id) FROM unit))::int + 1 FROM generate_series(1, :n))"),
            {"n": scan_sample})]
        # Returns: shipped units with no claim yet; stock: units still in stock, never handed out.
        returns = [list(r) for r in conn.execute(text(
            "SELECT u.serial, u.product_id FROM unit u WHERE u.status = 'shipped' AND NOT EXISTS "
            "(SELECT 1 FROM claim c WHERE c.unit_id = u.id) ORDER BY random() LIMIT :n"),
            {"n": DESKS * claims_per_desk})]
        stock = [list(r) for r in conn.execute(text(
            "SELECT serial, product_id FROM unit WHERE status = 'in_stock' ORDER BY random() LIMIT :n"),
            {"n": DESKS * claims_per_desk * 2})]
    engine.dispose()
    rng.shuffle(returns)
    desks = []
    for d in range(DESKS):
        pool: dict[int, list[str]] = {}
        for serial, pid in stock[d::DESKS]:
            pool.setdefault(pid, []).append(serial)
        # Each desk claims only units of products it holds stock of, at most as many per product as it holds.
        mine, left = [], {pid: len(serials) for pid, serials in pool.items()}
        for serial, pid in returns[d::DESKS]:
            if left.get(pid, 0) > 0:
                left[pid] -= 1
                mine.append([serial, pid])
        desks.append({"token": desk_tokens[d], "returns": mine, "stock": pool})
    return url, {"run": run, "station_token": station_token, "scan_units": scan_units, "desks": desks}


def serve(url: str, port: int, threads: int, log: Path):
    """`serialtrace serve` on `port` with the bench database, as a user starts it; returns the process."""
    import http.client
    import subprocess

    env = {**os.environ, "SERIALTRACE_DATABASE_URL": url, "SERIALTRACE_SECRET_KEY": "bench-load",
           "SERIALTRACE_SERIAL_KEY": "bench-quality", "SERIALTRACE_ESCALATION_INTERVAL": "0"}
    exe = Path(sys.executable).with_name("serialtrace")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--threads", str(threads)], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serialtrace serve exited with {proc.returncode}; see {log}")
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("serialtrace serve did not start")


def verify(url: str, run: str, acks: dict) -> dict:
    """Every acknowledged scan and replacement exactly once in the database, nothing doubled."""
    from sqlalchemy import text

    _common, _ = _driver()
    engine = _common.make_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT station, count(*) FROM scan_log WHERE station LIKE :p GROUP BY station"),
                                 {"p": f"load-{run}-%"}).all())
        claims = [c for c in acks["claims"]]
        replaced = {}
        if claims:
            replaced = {(cid, serial): n for cid, serial, n in conn.execute(text(
                "SELECT r.claim_id, u.serial, count(*) FROM replacement r JOIN unit u ON u.id = r.replacement_unit_id "
                "WHERE r.claim_id = ANY(:ids) GROUP BY r.claim_id, u.serial"), {"ids": claims})}
        doubled_units = conn.scalar(text(
            "SELECT count(*) FROM (SELECT replacement_unit_id FROM replacement GROUP BY replacement_unit_id "
            "HAVING count(*) > 1) d"))
    engine.dispose()
    acked = [marker for marker, _at in acks["scans"]]
    acked_replacements = {(cid, serial) for cid, serial in acks["replacements"]}
    return {
        "scans acknowledged": len(acked),
        "acknowledged scans missing from scan_log": sum(1 for m in acked if rows.get(m, 0) == 0),
        "acknowledged scans logged more than once": sum(1 for m in acked if rows.get(m, 0) > 1),
        "scan_log rows of this run": sum(rows.values()),
        # Sent but never answered to locust: in flight when the run time ran out, or the answer lost in an outage.
        "scan_log rows not acknowledged (in flight at the end)": len(set(rows) - set(acked)),
        "claims acknowledged": len(claims),
        "replacements acknowledged": len(acked_replacements),
        "acknowledged replacements missing": sum(1 for k in acked_replacements if replaced.get(k, 0) == 0),
        "acknowledged replacements doubled": sum(1 for k in acked_replacements if replaced.get(k, 0) > 1),
        "replacement rows not acknowledged (in flight at the end)": len(set(replaced) - acked_replacements),
        "units handed out twice (whole database)": doubled_units,
        "503 database_unavailable answers": len(acks["unavailable"]),
        "other errors": len(acks["other_errors"]),
    }


def _cpu_seconds(pid: int, *, children: bool = False) -> float:
    """CPU seconds (user + system) of a live process, with its reaped children's when asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu(cluster: Cluster) -> float:
    """CPU seconds the private cluster has used so far: the postmaster, its reaped and its live backends."""
    root = int((cluster.data / "postmaster.pid").read_text().split()[0])
    total = _cpu_seconds(root, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == root:
                total += _cpu_seconds(int(stat.parent.name))
        except (OSError, ValueError):
            continue  # ended meanwhile
    return total


def _wait_cpu(proc) -> float:
    """Wait for a child and return the CPU seconds it used (with its own children)."""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def profile(url: str, plan: dict, scans: int) -> None:
    """Scans one after another through the app in this process: wall and CPU ms per scan, the statements one
    scan runs, and the functions that take the time (cProfile)."""
    import cProfile
    import pstats

    from sqlalchemy import event

    from serialtrace.web import create_app

    _common, quality = _driver()
    rt = _common.runtime_for(url, serial_key=quality.KEY)
    client, headers = create_app(runtime=rt).test_client(), {"Authorization": f"Bearer {plan['station_token']}"}
    rng, statements = random.Random(1), []
    event.listen(rt.engine, "after_cursor_execute", lambda *a: statements.append(a[2]))

    def one(i: int) -> float:
        serial, gtin = rng.choice(plan["scan_units"])
        code = f"(01){gtin}(21){serial}" if i % 2 else serial
        t0 = time.perf_counter()
        resp = client.post("/api/v1/scans", json={"code": code, "station": f"prof-{plan['run']}-{i}"},
                           headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return (time.perf_counter() - t0) * 1000

    for i in range(50):
        one(-i - 1)  # warm-up: connections, caches
    statements.clear()
    cpu0 = time.process_time()
    wall = sorted(one(i) for i in range(scans))
    cpu = (time.process_time() - cpu0) * 1000 / scans
    print(f"  {scans} scans one at a time: p50 {_common.percentile(wall, 50):.1f} ms, p95 "
          f"{_common.percentile(wall, 95):.1f} ms, p99 {_common.percentile(wall, 99):.1f} ms, CPU {cpu:.1f} ms per "
          f"scan in the app, {len(statements) / scans:.1f} SQL statements per scan")
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [one(scans + i) for i in range(scans // 2)])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def percentiles(csv_prefix: Path) -> dict[str, dict[str, str]]:
    """Count, failures and p50/p95/p99 (ms) per request name from locust's stats CSV."""
    import csv

    out = {}
    with open(f"{csv_prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            out[row["Name"]] = {"requests": row["Request Count"], "failures": row["Failure Count"],
                                "p50": row["50%"], "p95": row["95%"], "p99": row["99%"],
                                "rps": f"{float(row['Requests/s']):.1f}"}
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cluster", type=Path, default=Path("/tmp/serialtrace-load-pg"))
    ap.add_argument("--pg-port", type=int, default=55433)
    ap.add_argument("--database", default="bench_load")
    ap.add_argument("--units", type=int, default=1_000_000)
    ap.add_argument("--time", default="60s", help="locust run time")
    ap.add_argument("--threads", type=int, default=8, help="waitress threads")
    ap.add_argument("--outage", action="store_true", help="stop PostgreSQL (fast) at --at s, start it --down s later")
    ap.add_argument("--at", type=float, default=20.0)
    ap.add_argument("--down", type=float, default=8.0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/serialtrace-load"))
    ap.add_argument("--profile", type=int, metavar="N", help="no load: time and profile N scans in this process")
    args = ap.parse_args(argv)
    _common, _ = _driver()
    _common.print_machine()
    print(f"  load avg  {os.getloadavg()}", flush=True)
    cluster = Cluster(args.cluster, args.pg_port)
    cluster.ensure()
    run = time.strftime("%H%M%S")
    url, plan = prepare(cluster, args.database, run, units=args.units, scan_sample=20_000, claims_per_desk=200)
    args.out.mkdir(parents=True, exist_ok=True)
    plan_path, acks_path, csv_prefix = args.out / f"plan-{run}.json", args.out / f"acks-{run}.json", args.out / run
    plan_path.write_text(json.dumps(plan))
    if args.profile:
        profile(url, plan, args.profile)
        return 0
    port = _common.free_port()
    pg_cpu0 = postgres_cpu(cluster)
    app = serve(url, port, args.threads, args.out / f"serve-{run}.log")
    try:
        env = {**os.environ, "LOAD_PLAN": str(plan_path), "LOAD_ACKS": str(acks_path)}
        locust = subprocess.Popen([str(Path(sys.executable).with_name("locust")), "-f", __file__, "--headless",
                                   "-u", str(STATIONS + DESKS), "-r", "20", "-t", args.time, "--host",
                                   f"http://127.0.0.1:{port}", "--csv", str(csv_prefix), "--only-summary",
                                   "--stop-timeout", "30"],
                                  env=env)
        if args.outage:
            time.sleep(args.at)
            t0 = time.time()
            cluster.stop("fast")
            print(f"PostgreSQL stopped at {time.strftime('%H:%M:%S')}", flush=True)
            time.sleep(args.down)
            cluster.start()
            t1 = time.time()
            print(f"PostgreSQL started again after {t1 - t0:.1f} s", flush=True)
        locust_cpu = _wait_cpu(locust)
        # A restarted server is a new postmaster: its CPU before the restart is not counted then.
        pg_cpu = float("nan") if args.outage else postgres_cpu(cluster) - pg_cpu0
    finally:
        app.terminate()
        app_cpu = _wait_cpu(app)
        if not cluster.running():
            cluster.start()
    acks = json.loads(acks_path.read_text())
    print(f"\nrun {run}, load avg {os.getloadavg()}; CPU seconds: app {app_cpu:.1f}, PostgreSQL {pg_cpu:.1f}, "
          f"locust {locust_cpu:.1f}")
    for name, figures in percentiles(csv_prefix).items():
        print(f"  {name:10s} {figures}")
    for key, value in verify(url, run, acks).items():
        print(f"  {key}: {value}")
    if args.outage:
        failed = [at for _what, at in acks["unavailable"]]
        back = min((at for _m, at in acks["scans"] if at > t1), default=float("nan"))
        clock = lambda at: time.strftime("%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 10)}"  # noqa: E731
        print(f"  PostgreSQL stopping {clock(t0)}, up again {clock(t1)} ({t1 - t0:.1f} s); 503 answers from "
              f"{clock(min(failed, default=t0))} to {clock(max(failed, default=t0))}; first scan acknowledged after "
              f"the start {back - t1:.2f} s later")
    for item in acks["other_errors"][:10]:
        print("  error:", item)
    return 0


if __name__ == "__main__":
    sys.exit(main())
