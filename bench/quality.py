"""Latency of the quality dashboard over HTTP on 1M units in 2,000 batches with 20,000 claims: every GET page
/quality/* and every quality API route the app has (found in its url_map), p50/p95 against the 300 ms target of
DESIGN.md, on SQLite or, with --postgres URL, on a PostgreSQL schema. The database is built once and kept
(--rebuild builds it again); a kept one is migrated to the newest revision first."""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import warranty
from sqlalchemy import text

import _common

DEFAULT_DB = Path("/tmp/serialtrace-bench-quality.sqlite")
PG_SCHEMA = "st_bench_quality"
PAGE_TARGET = 300.0  # ms per quality page, DESIGN.md "Performance targets"
KEY = "bench-quality"
PARTS = ("board", "sensor", "housing")
CHUNK = 50_000
# Claim states and their shares: most claims are finished, drafts and cancelled ones do not count.
STATES = (("draft", 3), ("registered", 6), ("triage", 5), ("waiting_customer", 3), ("awaiting_return", 8),
          ("in_inspection", 7), ("decided", 4), ("fulfilling", 3), ("replacement_shipped", 4),
          ("pending_verification", 3), ("settled", 6), ("billed", 4), ("resolved", 10), ("closed", 30),
          ("cancelled", 4))
TESTED = {"decided", "fulfilling", "replacement_shipped", "pending_verification", "settled", "billed", "resolved",
          "closed"}
MODES = ("no_power", "display_dead", "leak", "drift", "connector_broken", "firmware_hang")


# --------------------------------------------------------------------------- building the database

def _chunks(rows: list[dict], size: int = CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def build(url: str, *, units: int, batches: int, claims: int, seed: int = 3) -> None:
    """Products, customers and users through the services; batches, lots, units, shipments, claims and test records
    by bulk inserts. A few batches and lots have a raised claim rate, so the test has outliers to find."""
    from sqlalchemy import insert, select, update

    from serialtrace.accounts import service as accounts_service
    from serialtrace.trace import service
    from serialtrace.trace.models import Batch, BatchInput, ComponentLot, Shipment, ShipmentItem, Unit, search_key
    from serialtrace.warranty.models import Claim, ClaimEvent, TestRecord

    rng = random.Random(seed)
    rt = _common.runtime_for(url, serial_key=KEY)
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    with rt.transaction() as s:
        for role in ("quality", "supervisor"):
            accounts_service.create_user(s, username=role, role=role, password=warranty.PASSWORD)
        products = [service.add_product(s, sku=f"QP-{p}", name=f"Meter {p}", warranty_months=24).id
                    for p in range(1, 5)]
        customers = [service.get_or_create_customer(s, name=f"Customer {c:03d} LLC", tax_id=f"{7800000000 + c}").id
                     for c in range(1, 201)]
    with rt.transaction() as s:
        per = units // batches
        first = date(2025, 1, 6)
        s.execute(insert(Batch), [
            {"product_id": products[b % len(products)], "number": f"Q{b + 1:05d}", "produced_on": first
             + timedelta(days=b // 8), "line": f"L{b % 3 + 1}", "shift": "AB"[b % 2], "quantity": per,
             "status": "released", "notes": "", "serial_scheme": "", "created_at": now} for b in range(batches)])
        batch_rows = s.execute(select(Batch.id, Batch.product_id).order_by(Batch.id)).all()
        # Three parts per batch; a lot of each part goes into about ten consecutive batches.
        lots_per_part = batches // 10 + 1
        s.execute(insert(ComponentLot), [
            {"supplier": f"Supplier {p}", "part": part, "lot_number": f"{part[:2].upper()}-{n:05d}",
             "received_on": first + timedelta(days=n), "status": "released", "hold_reason": "", "held_at": None,
             "held_by": "", "held_batch_ids": []} for p, part in enumerate(PARTS) for n in range(lots_per_part)])
        lot_ids = {(part, number): lid for lid, part, number in s.execute(
            select(ComponentLot.id, ComponentLot.part, ComponentLot.lot_number))}
        inputs, batch_lots = [], {}
        for i, (bid, _) in enumerate(batch_rows):
            chosen = []
            for p, part in enumerate(PARTS):
                n = min(lots_per_part - 1, (i + 3 * p) // 10)  # parts change lot at different batches
                chosen.append(lot_ids[(part, f"{part[:2].upper()}-{n:05d}")])
            batch_lots[bid] = chosen
            inputs += [{"batch_id": bid, "component_lot_id": lid, "quantity": per} for lid in chosen]
        s.execute(insert(BatchInput), inputs)
        for part_rows in _chunks([
            {"product_id": pid, "batch_id": bid, "serial": f"Q{bid:05d}{n:06d}", "serial_key": search_key(
                f"Q{bid:05d}{n:06d}"), "status": "in_stock", "created_at": now}
                for bid, pid in batch_rows for n in range(per)], 100_000):
            s.execute(insert(Unit), part_rows)
    print(f"  units, batches, lots: {time.perf_counter() - t0:.1f} s", flush=True)

    t1 = time.perf_counter()
    with rt.transaction() as s:
        unit_rows = s.execute(select(Unit.id, Unit.batch_id).order_by(Unit.id)).all()
        # The newest tenth of the batches is partly still in stock; every other unit is shipped.
        newest = batch_rows[-len(batch_rows) // 10][0]
        shipped = [(uid, bid) for uid, bid in unit_rows if bid < newest or rng.random() < 0.4]
        rng.shuffle(shipped)
        owner, items, shipments = {}, [], []
        for start in range(0, len(shipped), 250):
            shipments.append({"customer_id": rng.choice(customers), "shipped_on": date(2025, 2, 3)
                              + timedelta(days=start * 500 // len(shipped)), "reference": f"INV-Q{start}",
                              "carrier": "DHL", "destination": "", "attributes": {}, "created_at": now})
        for part_rows in _chunks(shipments, 1000):
            s.execute(insert(Shipment), part_rows)
        shipment_ids = s.scalars(select(Shipment.id).order_by(Shipment.id)).all()
        for i, (uid, _) in enumerate(shipped):
            sid = shipment_ids[i // 250]
            owner[uid] = shipments[i // 250]["customer_id"]
            items.append({"shipment_id": sid, "unit_id": uid, "batch_id": None, "quantity": 1})
        # Half a percent shipped a second time (returned and sent out again): counted once.
        items += [{"shipment_id": rng.choice(shipment_ids), "unit_id": uid, "batch_id": None, "quantity": 1}
                  for uid, _ in rng.sample(shipped, len(shipped) // 200)]
        for part_rows in _chunks(items):
            s.execute(insert(ShipmentItem), part_rows)
        shipped_ids = [uid for uid, _ in shipped]
        for part in _chunks(shipped_ids, 30_000):
            s.execute(update(Unit).where(Unit.id.in_(part)).values(status="shipped"))
    print(f"  {len(shipped):,} units shipped on {len(shipments):,} shipments: {time.perf_counter() - t1:.1f} s",
          flush=True)

    t2 = time.perf_counter()
    bad_batches = set(rng.sample([b for b, _ in batch_rows[:-len(batch_rows) // 10]], 12))
    bad_lots = {batch_lots[batch_rows[i][0]][1] for i in (300, 900)}
    weights = []
    for _, bid in shipped:
        w = 1.0 + (5.0 if bid in bad_batches else 0.0) + (1.5 if batch_lots[bid][1] in bad_lots else 0.0)
        weights.append(w)
    picked = rng.choices(shipped, weights=weights, k=claims - claims // 50)
    # A fiftieth of the claims name units we never shipped (a grey import, a typo): they count for nothing.
    unshipped = [uid for uid, _ in unit_rows if uid not in owner]
    picked += [(uid, 0) for uid in rng.sample(unshipped, claims // 50)]
    states = [name for name, share in STATES for _ in range(share)]
    claim_rows = []
    for i, (uid, _) in enumerate(picked):
        opened = now - timedelta(days=rng.randrange(1, 500), seconds=rng.randrange(86400))
        state = rng.choice(states)
        claim_rows.append({"number": f"CQ-{i + 1:06d}", "unit_id": uid, "customer_id": owner.get(uid, customers[0]),
                           "state": state, "symptom": rng.choice(MODES), "description": "", "channel": "desk",
                           "priority": f"P{rng.randrange(1, 5)}", "cost": 0, "opened_at": opened,
                           "closed_at": opened + timedelta(days=rng.randrange(3, 40))
                           if state in ("closed", "resolved", "cancelled") else None})
    with rt.transaction() as s:
        s.execute(insert(Claim), claim_rows)
        claims_read = s.execute(select(Claim.id, Claim.unit_id, Claim.state, Claim.opened_at)).all()
        s.execute(insert(ClaimEvent), [
            {"claim_id": cid, "kind": "state_change", "to_state": "registered", "reason": "", "author_id": None,
             "author": "desk", "at": opened} for cid, _, _, opened in claims_read])
        s.execute(insert(TestRecord), [
            {"unit_id": uid, "claim_id": cid, "verdict": "confirmed_defect" if rng.random() < 0.7
             else "no_fault_found", "symptom": rng.choice(MODES), "failure_mode": rng.choice(MODES), "root_cause": "",
             "location": "", "action": "", "notes": "", "tested_at": opened + timedelta(days=5)}
            for cid, uid, state, opened in claims_read if state in TESTED])
    print(f"  {len(claim_rows):,} claims (+ events, test records): {time.perf_counter() - t2:.1f} s", flush=True)
    warranty.analyse(rt)
    rt.engine.dispose()
    print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)


def add_sla(url: str, seed: int = 5) -> None:
    """SLA clocks for the SLA page, added once to a kept database that has none: three teams, a resolution clock
    per claim past draft (a tenth reopened with a second cycle), a triage stage task and clock and one or two later
    ones, the state change out of registered for most claims and a customer comment for a third. Stopped clocks
    store their elapsed business time; open claims' clocks run or are paused."""
    from sqlalchemy import func, insert, select, update

    from serialtrace.warranty import calendars
    from serialtrace.warranty.models import Claim, ClaimEvent, Comment, SlaClock, StageTask, Team

    rng = random.Random(seed)
    rt = _common.runtime_for(url, serial_key=KEY)
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    with rt.transaction() as s:
        if s.scalar(select(func.count()).select_from(SlaClock)):
            rt.engine.dispose()
            return
        calendar = calendars.default_calendar_row(s).id
        s.execute(insert(Team), [{"name": f"SLA team {t}", "active": True, "created_at": now} for t in "ABC"])
        teams = list(s.scalars(select(Team.id).where(Team.name.like("SLA team %"))))
        claims = s.execute(select(Claim.id, Claim.state, Claim.priority, Claim.opened_at)
                           .where(Claim.state != "draft")).all()
        done = {"closed", "resolved", "cancelled"}
        team_of = {cid: rng.choice(teams) for cid, *_ in claims}
        for t in teams:
            ids = [cid for cid, team in team_of.items() if team == t]
            for part in _chunks(ids, 30_000):
                s.execute(update(Claim).where(Claim.id.in_(part)).values(team_id=t))
        tasks, events, comments = [], [], []
        for cid, state, priority, opened in claims:
            stages = ["triage"] + (["inspection", "decision"][:rng.randrange(1, 3)] if state != "registered" else [])
            for stage in stages:
                tasks.append({"claim_id": cid, "stage": stage, "cycle": 1, "team_id": team_of[cid],
                              "priority": priority, "assignee_id": None, "opened_at": opened,
                              "closed_at": None if stage == stages[-1] and state not in done else opened})
            if state != "registered":
                events.append({"claim_id": cid, "kind": "state_change", "from_state": "registered",
                               "to_state": "triage", "reason": "", "author_id": None, "author": "desk",
                               "at": opened + timedelta(hours=rng.uniform(0.5, 60))})
            if rng.random() < 0.33:
                comments.append({"claim_id": cid, "body": "We are on it.", "visibility": "customer",
                                 "author_id": None, "author": "desk",
                                 "at": opened + timedelta(hours=rng.uniform(0.2, 80))})
        for part in _chunks(tasks):
            s.execute(insert(StageTask), part)
        for part in _chunks(events):
            s.execute(insert(ClaimEvent), part)
        for part in _chunks(comments):
            s.execute(insert(Comment), part)
        open_tasks = {(cid, stage): (tid, closed) for tid, cid, stage, closed in s.execute(
            select(StageTask.id, StageTask.claim_id, StageTask.stage, StageTask.closed_at)
            .where(StageTask.claim_id.in_(select(Claim.id).where(Claim.state != "draft"))))}
        state_of = {cid: (state, opened) for cid, state, _, opened in claims}

        def clock(cid: int, kind: str, task: int | None, target: float, cycle: int, stopped: bool) -> dict:
            _, opened = state_of[cid]
            elapsed = rng.uniform(0, target * 1.6)
            paused = not stopped and rng.random() < 0.15
            return {"claim_id": cid, "task_id": task, "kind": kind, "calendar_id": calendar,
                    "target_seconds": target, "cycle": cycle,
                    "state": "stopped" if stopped else "paused" if paused else "running",
                    "elapsed_seconds": elapsed, "breached": elapsed > target and rng.random() < 0.8,
                    "running_since": None if stopped or paused else now - timedelta(hours=rng.uniform(0, 400)),
                    "due_at": None, "escalated": 0, "started_at": opened,
                    "stopped_at": opened + timedelta(days=3) if stopped else None}

        clocks = []
        for cid, state, _, _ in claims:
            closed = state in done
            clocks.append(clock(cid, "resolution", None, 40 * 3600.0, 1, closed or rng.random() < 0.1))
            if rng.random() < 0.1:
                clocks.append(clock(cid, "resolution", None, 40 * 3600.0, 2, closed))
        for (cid, stage), (tid, closed) in open_tasks.items():
            clocks.append(clock(cid, "stage", tid, (4 if stage == "triage" else 16) * 3600.0, 1, closed is not None))
        for part in _chunks(clocks):
            s.execute(insert(SlaClock), part)
    warranty.analyse(rt)
    rt.engine.dispose()
    print(f"  SLA clocks added: {len(clocks):,} clocks, {len(tasks):,} stage tasks, {len(events):,} events, "
          f"{len(comments):,} comments: {time.perf_counter() - t0:.1f} s", flush=True)


def counts(url: str) -> tuple[int, int]:
    """(units, claims) in the database at `url`, (0, 0) when it has no tables yet."""
    engine = _common.make_engine(url)
    try:
        with engine.connect() as conn:
            return (conn.scalar(text("SELECT count(*) FROM unit")), conn.scalar(text("SELECT count(*) FROM claim")))
    except Exception:  # noqa: BLE001 - no tables: build it
        return 0, 0
    finally:
        engine.dispose()


def prepare_sqlite(path: Path, rebuild: bool, size: tuple[int, int]) -> tuple[str, bool]:
    """The URL of the kept SQLite file, migrated to head; True when it has to be (re)built."""
    url = f"sqlite:///{path}"
    if not rebuild and path.exists() and counts(url) == size:
        _common.upgrade(_common.make_engine(url))
        return url, False
    return _common.fresh_sqlite(path), True


def prepare_postgres(server: str, rebuild: bool, size: tuple[int, int]) -> tuple[str, bool]:
    """The URL of the kept schema PG_SCHEMA on `server`, migrated to head; True when it has to be (re)built."""
    sep = "&" if "?" in server else "?"
    url = f"{server}{sep}options=-csearch_path%3D{PG_SCHEMA}"
    admin = _common.make_engine(server)
    with admin.begin() as conn:
        exists = conn.scalar(text("SELECT count(*) FROM pg_namespace WHERE nspname = :n"), {"n": PG_SCHEMA})
    fresh = rebuild or not exists or counts(url) != size
    if fresh:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
    admin.dispose()
    engine = _common.make_engine(url)
    _common.upgrade(engine)
    engine.dispose()
    return url, fresh


# --------------------------------------------------------------------------- the routes and their timing

def routes(url: str) -> list[tuple[str, str, bool]]:
    """(endpoint, path, is_page) of every GET quality page and API route, ids filled in where the rule needs one
    (the batch and the lot with most claims); rules with other parameters (downloads) are left out."""
    from serialtrace.web import create_app

    app = create_app(runtime=_common.runtime_for(url, serial_key=KEY))
    ids = pick_ids(url)
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        name = rule.endpoint
        page = name.startswith("pages.quality_")
        if not (page or (name.startswith("api.") and "quality" in name)) or "GET" not in rule.methods:
            continue
        path = rule.rule
        for arg in rule.arguments:
            value = ids.get(arg) or ids.get("lot_id" if "lot" in arg else "batch_id" if "batch" in arg else "")
            if value is None:
                path = None
                break
            path = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(value), path)
        if path is not None:
            out.append((name, path, page))
            if name.endswith("quality_sla"):  # every claim (500 days) besides the default 90 days
                out.append((name, f"{path}?from={date.today() - timedelta(days=520)}", page))
    return out


def pick_ids(url: str) -> dict[str, int]:
    """The batch and the component lot with most counted claims: the dashboard's usual drill-down."""
    engine = _common.make_engine(url)
    with engine.connect() as conn:
        batch = conn.scalar(text("SELECT u.batch_id FROM claim c JOIN unit u ON u.id = c.unit_id "
                                 "GROUP BY u.batch_id ORDER BY count(*) DESC, u.batch_id LIMIT 1"))
        lot = conn.scalar(text("SELECT bi.component_lot_id FROM batch_input bi WHERE bi.batch_id = :b "
                               "ORDER BY bi.component_lot_id LIMIT 1"), {"b": batch})
    engine.dispose()
    return {"batch_id": batch, "id": batch, "lot_id": lot}


def token(url: str) -> str:
    """A fresh API token of the quality user."""
    from sqlalchemy import select

    from serialtrace.accounts import service as accounts_service
    from serialtrace.accounts.models import User

    rt = _common.runtime_for(url, serial_key=KEY)
    with rt.transaction() as s:
        user = s.scalars(select(User).where(User.username == "quality")).one()
        secret = accounts_service.create_token(s, name=f"bench {time.time():.0f}", user=user)
    rt.engine.dispose()
    return secret


def measure(url: str, *, requests: int, warmup: int, threads: int, only: str | None) -> list[tuple]:
    """Serve the app, then for each route: the first call after start-up, then `warmup` calls and `requests`
    timed calls over one keep-alive connection. Returns the table rows."""
    found = [r for r in routes(url) if only is None or re.search(only, r[1])]
    api_headers = {"Authorization": f"Bearer {token(url)}"}
    proc, port = warranty.start_server(url, threads)
    table = []
    try:
        page_headers = {"Cookie": warranty.login_cookie(port, "quality")}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for _, path, page in found:
            headers = page_headers if page else api_headers
            try:
                first = warranty.timed(conn, "GET", path, headers=headers)
            except RuntimeError as exc:
                print(f"  {path}: {exc}", flush=True)
                table.append((path, str(exc)[:40]))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                continue
            calls = [lambda c=conn, p=path, h=headers: warranty.timed(c, "GET", p, headers=h)] * (warmup + requests)
            times, cpu = warranty.phase(proc.pid, warmup, calls)
            s = sorted(times)
            p50, p95 = _common.percentile(s, 50), _common.percentile(s, 95)
            row = (path, first, p50, p95, cpu / len(s), "met" if p95 <= PAGE_TARGET else "NOT met")
            print(f"  {path:44s} first {first:8.1f}  p50 {p50:7.1f}  p95 {p95:7.1f} ms; server CPU "
                  f"{row[4]:7.1f} ms/request  (p95 <= {PAGE_TARGET:g} ms: {row[5]})", flush=True)
            table.append(row)
        conn.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return table


def print_table(where: str, table: list[tuple]) -> None:
    """The figures as a Markdown table for the README."""
    print(f"\n{where}\n\n| route | first call ms | p50 ms | p95 ms | server CPU ms | p95 <= 300 ms |")
    print("|---|---|---|---|---|---|")
    for row in table:
        if len(row) == 2:
            print(f"| `{row[0]}` | {row[1]} | | | | |")
        else:
            print(f"| `{row[0]}` | {row[1]:.0f} | {row[2]:.0f} | {row[3]:.0f} | {row[4]:.0f} | {row[5]} |")


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the database, serve the app, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--postgres", metavar="URL", help=f"run on schema {PG_SCHEMA} of this PostgreSQL server")
    ap.add_argument("--db", type=Path, default=DEFAULT_DB, help="the SQLite file (kept between runs)")
    ap.add_argument("--rebuild", action="store_true", help="build the database again even when a kept one fits")
    ap.add_argument("--units", type=int, default=1_000_000)
    ap.add_argument("--batches", type=int, default=2_000)
    ap.add_argument("--claims", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4, help="waitress threads")
    ap.add_argument("--only", metavar="REGEX", help="time only the routes whose path matches")
    args = ap.parse_args(argv)

    print("machine:")
    _common.print_machine()
    size = (args.units // args.batches * args.batches, args.claims)
    if args.postgres:
        url, fresh = prepare_postgres(args.postgres, args.rebuild, size)
        where = f"PostgreSQL (schema {PG_SCHEMA})"
    else:
        url, fresh = prepare_sqlite(args.db.resolve(), args.rebuild, size)
        where = f"SQLite {args.db}"
    if fresh:
        print(f"building on {where}", flush=True)
        build(url, units=args.units, batches=args.batches, claims=args.claims)
    add_sla(url)
    print(f"\n{size[0]:,} units in {args.batches:,} batches, {size[1]:,} claims on {where}; one keep-alive "
          f"connection, waitress threads={args.threads}, {args.warmup} warm-up and {args.requests} timed requests "
          f"each, load average {os.getloadavg()[0]:.2f}", flush=True)
    table = measure(url, requests=args.requests, warmup=args.warmup, threads=args.threads, only=args.only)
    print_table(where, table)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
