"""Latency of the warranty desk and bench over HTTP with 20,000 open unit cases: the instant replacement
(POST /api/v1/claims/<id>/replace), the engineers' test queue (GET /api/v1/test-queue and the /test-queue page) and
the worklist of 20,000 open stage tasks with their clocks (GET /api/v1/worklist, /worklist, /teams/<name>/board),
and one escalation pass over their 20,000 SLA clocks (`serialtrace escalate` as cron runs it, and the pass alone),
on SQLite or, with --postgres URL, on a throwaway PostgreSQL schema."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import _common

DEFAULT_DB = Path("/tmp/serialtrace-bench-warranty.sqlite")
REPLACE_P95_TARGET, QUEUE_P95_TARGET = 50.0, 200.0  # ms, DESIGN.md "Performance targets"
WORKLIST_P95_TARGET = 200.0  # ms: the worklist for 20,000 open claims
ESCALATION_TARGET = 2.0  # s for one pass over 20,000 clocks (the escalation issue)
DUE_SHARE = 0.05  # clocks due at a typical pass: the ones that crossed a threshold since the last
PASSWORD = "bench-warranty-pass-1"
SHIP_LOT = 250
WORK_TEAM = "Returns"


# --------------------------------------------------------------------------- building the database

def build(url: str, *, cases: int, replacements: int, seed: int = 7) -> dict[str, str]:
    """Users and tokens, units through register_batch, then shipments, claims, unit cases, replacement links and
    timelines by bulk inserts (the set-up only); returns the two API tokens."""
    from sqlalchemy import insert, select, text, update

    from serialtrace.accounts import service as accounts_service
    from serialtrace.trace import service
    from serialtrace.trace.models import Shipment, ShipmentItem, Unit, UnitEvent
    from serialtrace.warranty.models import Claim, ClaimEvent, Replacement, UnitCase

    rng = random.Random(seed)
    rt = _common.runtime_for(url, serial_key="bench-warranty")
    scheme = rt.serial_scheme()
    t0 = time.perf_counter()
    swapped = int(cases * 0.3)  # the advance-replaced share of the open cases, ranked first in the queue
    with rt.transaction() as s:
        desk = accounts_service.create_user(s, username="desk", role="warehouse", password=PASSWORD)
        engineer = accounts_service.create_user(s, username="engineer", role="engineer", password=PASSWORD)
        tokens = {"desk": accounts_service.create_token(s, name="desk", user=desk),
                  "engineer": accounts_service.create_token(s, name="engineer", user=engineer)}
        service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016", warranty_months=24)
        _, claimed = service.register_batch(s, product="PR-100", quantity=cases + replacements, number="B-CLAIM",
                                            produced_on=date(2025, 1, 13), scheme=scheme)
        _, handed = service.register_batch(s, product="PR-100", quantity=max(swapped, 1), number="B-SWAP",
                                           produced_on=date(2025, 1, 14), scheme=scheme)
        service.register_batch(s, product="PR-100", quantity=replacements + 100, number="B-STOCK",
                               produced_on=date(2025, 1, 15), scheme=scheme)
        customers = [service.get_or_create_customer(s, name=f"Customer {c:03d} LLC", tax_id=f"{7700000000 + c}").id
                     for c in range(1, 101)]
    t_services = time.perf_counter() - t0

    t1 = time.perf_counter()
    now = datetime.now(UTC)
    with rt.transaction() as s:
        ids = dict(s.execute(select(Unit.serial, Unit.id)).all())
        claimed_ids, handed_ids = [ids[x] for x in claimed], [ids[x] for x in handed[:swapped]]
        shipped = claimed_ids + handed_ids
        owner: dict[int, int] = {}
        items, events = [], []
        for start in range(0, len(shipped), SHIP_LOT):
            customer = rng.choice(customers)
            day = date(2025, 2, 3) + timedelta(days=rng.randrange(300))
            sid = s.execute(insert(Shipment).values(customer_id=customer, shipped_on=day, reference=f"INV-{start}",
                                                    carrier="DHL", destination="", attributes={}, created_at=now)
                            .returning(Shipment.id)).scalar_one()
            for unit_id in shipped[start:start + SHIP_LOT]:
                owner[unit_id] = customer
                items.append({"shipment_id": sid, "unit_id": unit_id, "batch_id": None, "quantity": 1})
                events.append({"unit_id": unit_id, "kind": "shipped", "at": now, "author_id": None,
                               "author": "system", "payload": {"shipment_id": sid, "customer_id": customer}})
        s.execute(insert(ShipmentItem), items)
        s.execute(insert(UnitEvent), events)
        s.execute(update(Unit).where(Unit.id.in_(select(ShipmentItem.unit_id))).values(status="shipped"))
        # The open cases: 40% still expected, 40% received, 20% in test; then the claims the desk will replace.
        claims, cases_rows = [], []
        for i, unit_id in enumerate(claimed_ids):
            replaced = i < swapped
            if i >= cases:
                state, case_state = "triage", "expected"
            elif i % 5 < 2:
                state, case_state = ("replacement_shipped" if replaced else "awaiting_return"), "expected"
            else:
                state = "pending_verification" if replaced else "in_inspection"
                case_state = "in_test" if i % 5 == 4 else "received"
            opened = now - timedelta(days=rng.randrange(1, 60), seconds=rng.randrange(86400))
            claims.append({"number": f"CL-{i + 1:06d}", "unit_id": unit_id, "customer_id": owner[unit_id],
                           "state": state, "symptom": "no_power", "description": "", "channel": "desk",
                           "priority": f"P{rng.randrange(1, 5)}", "cost": 0, "opened_at": opened})
            cases_rows.append({"unit_id": unit_id, "state": case_state, "opened": opened, "replaced": replaced})
        s.execute(insert(Claim), claims)
        claim_ids = dict(s.execute(select(Claim.unit_id, Claim.id)).all())
        s.execute(insert(UnitCase), [
            {"claim_id": claim_ids[c["unit_id"]], "unit_id": c["unit_id"], "state": c["state"],
             "expected_serial": "", "created_at": c["opened"], "return_due": (c["opened"] + timedelta(days=14)).date(),
             "received_at": None if c["state"] == "expected" else c["opened"] + timedelta(days=3)}
            for c in cases_rows])
        s.execute(text("UPDATE unit_case SET expected_serial = (SELECT serial FROM unit WHERE unit.id = "
                       "unit_case.unit_id)"))
        s.execute(insert(Replacement), [
            {"claim_id": claim_ids[c["unit_id"]], "returned_unit_id": c["unit_id"], "replacement_unit_id": h,
             "created_at": c["opened"]} for c, h in zip(cases_rows, handed_ids, strict=False)])
        s.execute(insert(ClaimEvent), [
            {"claim_id": claim_ids[c["unit_id"]], "kind": "state_change", "to_state": "registered", "reason": "",
             "author_id": None, "author": "desk", "at": c["opened"]} for c in cases_rows])
    with rt.transaction() as s:
        tokens.update(stage_work(s, rng, now))
    analyse(rt)
    rt.engine.dispose()
    print(f"  built in {t_services:.1f} s (services) + {time.perf_counter() - t1:.1f} s (bulk inserts): "
          f"{cases:,} open cases ({swapped:,} advance-replaced), {replacements:,} claims in triage")
    return tokens


def stage_work(s, rng: random.Random, now: datetime) -> dict[str, str]:
    """An open stage task and its running or paused clock for every open claim, on a team of 20 people plus the
    engineer (a tenth unassigned); about a third breached. Returns the supervisor's token."""
    from sqlalchemy import insert, select

    from serialtrace.accounts import service as accounts_service
    from serialtrace.warranty import calendars
    from serialtrace.warranty.models import Claim, SlaClock, StageTask, Team, TeamMember

    boss = accounts_service.create_user(s, username="boss", role="supervisor", password=PASSWORD)
    people = [accounts_service.create_user(s, username=f"agent{i:02d}", role="coordinator").id for i in range(20)]
    people.append(_user_id(s, "engineer"))
    team = Team(name=WORK_TEAM, supervisor_id=boss.id)
    s.add(team)
    s.flush()
    s.execute(insert(TeamMember), [{"team_id": team.id, "user_id": u} for u in people])
    calendar = calendars.default_calendar_row(s)
    stage_of = {"awaiting_return": "return", "replacement_shipped": "return", "in_inspection": "inspection",
                "pending_verification": "verification", "triage": "triage"}
    claims = s.execute(select(Claim.id, Claim.state, Claim.priority, Claim.opened_at)).all()
    s.execute(insert(StageTask), [
        {"claim_id": cid, "stage": stage_of[state], "cycle": 1, "team_id": team.id, "priority": priority,
         "assignee_id": None if rng.random() < 0.1 else rng.choice(people), "opened_at": opened}
        for cid, state, priority, opened in claims])
    tasks = s.execute(select(StageTask.id, StageTask.claim_id, StageTask.opened_at)).all()
    clocks = []
    for task_id, claim_id, opened in tasks:
        target = 9 * 3600.0
        roll = rng.random()
        if roll < 0.15:  # waiting on someone outside: paused, some of it spent
            state, since, due, elapsed = "paused", None, None, rng.uniform(0, target * 1.2)
        else:
            elapsed = rng.uniform(0, target)
            state, since = "running", now - timedelta(hours=rng.uniform(0, 4))
            # About a third past the deadline (some flagged at a change), the rest due within two weeks.
            late = roll < 0.45
            due = now - timedelta(hours=rng.uniform(0, 48)) if late else now + timedelta(hours=rng.uniform(0, 300))
        clocks.append({"claim_id": claim_id, "task_id": task_id, "kind": "stage", "calendar_id": calendar.id,
                       "target_seconds": target, "cycle": 1, "state": state, "elapsed_seconds": elapsed,
                       "running_since": since, "due_at": due, "breached": elapsed > target,
                       "escalated": 0, "started_at": opened})
    s.execute(insert(SlaClock), clocks)
    return {"boss": accounts_service.create_token(s, name="boss", user=boss)}


def _user_id(s, username: str) -> int:
    from sqlalchemy import select

    from serialtrace.accounts.models import User

    return s.scalars(select(User.id).where(User.username == username)).one()


def analyse(rt) -> None:
    """Fresh planner statistics, as a database in service has."""
    from sqlalchemy import text

    with rt.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def explain(url: str, run, *, title: str, keep=lambda statement: True) -> None:
    """Print the database's plan (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) of each statement
    `run(session)` sends that `keep` accepts, captured as the app sends it."""
    from sqlalchemy import event

    rt = _common.runtime_for(url, serial_key="bench-warranty")
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    with rt.read() as s:
        conn = s.connection()
        event.listen(conn, "before_cursor_execute", capture)
        run(s)
        event.remove(conn, "before_cursor_execute", capture)
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        for statement, parameters in seen:
            if not keep(statement):
                continue
            print(f"\nplan of {title}:")
            for row in conn.exec_driver_sql(prefix + statement, parameters).all():
                print("  " + " ".join(str(v) for v in row))
    rt.engine.dispose()


def explain_queue(url: str) -> None:
    """Print the plan of the test queue's query."""
    from serialtrace.warranty import queries

    explain(url, queries.test_queue, title="the test queue's query")


# --------------------------------------------------------------------------- the escalation pass

def build_clocks(url: str) -> int:
    """A team (supervisor, and above them a manager) and 20 assignees; every open claim gets one of them, the team
    and a running resolution clock started when it opened; all by bulk inserts. Returns the clock count."""
    from sqlalchemy import insert, select, update

    from serialtrace.accounts import service as accounts_service
    from serialtrace.warranty import calendars, policy
    from serialtrace.warranty.models import Claim, SlaClock, Team

    rt = _common.runtime_for(url, serial_key="bench-warranty")
    with rt.transaction() as s:
        chief = accounts_service.create_user(s, username="esc-chief", role="supervisor")
        boss = accounts_service.create_user(s, username="esc-boss", role="supervisor")
        boss.supervisor_id, boss.email, chief.email = chief.id, "boss@example.com", "chief@example.com"
        agents = [accounts_service.create_user(s, username=f"esc-agent{i:02d}", role="coordinator")
                  for i in range(20)]
        for agent in agents:
            agent.email, agent.supervisor_id = f"{agent.username}@example.com", boss.id
        team = Team(name="Escalations", supervisor_id=boss.id)
        s.add(team)
        s.flush()
        calendar = calendars.default_calendar_row(s)
        rows = s.execute(select(Claim.id, Claim.priority, Claim.opened_at).where(Claim.state != "triage")).all()
        s.execute(update(Claim).where(Claim.state != "triage").values(team_id=team.id))
        for i, agent in enumerate(agents):
            s.execute(update(Claim).where(Claim.id % len(agents) == i).values(assignee_id=agent.id))
        s.execute(insert(SlaClock), [
            {"claim_id": cid, "task_id": None, "kind": "resolution", "calendar_id": calendar.id if calendar else None,
             "target_seconds": policy.resolution_target(priority), "cycle": 1, "state": "running",
             "elapsed_seconds": 0.0, "running_since": opened, "due_at": None, "breached": False, "escalated": 0,
             "next_escalation_at": None, "started_at": opened, "stopped_at": None} for cid, priority, opened in rows])
    analyse(rt)
    rt.engine.dispose()
    return len(rows)


def arm_clocks(url: str, share: float, now: datetime, *, seed: int = 5) -> int:
    """Forget earlier passes (no notifications, nothing escalated) and make `share` of the resolution clocks due at
    `now` (their next escalation moment in the last hour), every other clock later; returns how many are due."""
    from sqlalchemy import delete, select, update

    from serialtrace.warranty.models import Notification, SlaClock

    rng = random.Random(seed)
    rt = _common.runtime_for(url, serial_key="bench-warranty")
    with rt.transaction() as s:
        s.execute(delete(Notification))
        ids = s.scalars(select(SlaClock.id).where(SlaClock.kind == "resolution").order_by(SlaClock.id)).all()
        due = set(rng.sample(ids, round(len(ids) * share)))
        s.execute(update(SlaClock).values(escalated=0, breached=False,
                                          next_escalation_at=now + timedelta(days=3)))
        chosen = sorted(due)
        for start in range(0, len(chosen), 900):
            s.execute(update(SlaClock).where(SlaClock.id.in_(chosen[start:start + 900]))
                      .values(next_escalation_at=now - timedelta(minutes=rng.randrange(1, 60))))
    rt.engine.dispose()
    return len(due)


def measure_escalation(url: str, clocks: int) -> None:
    """For a typical pass (DUE_SHARE of the clocks due) and the worst case (all due): `serialtrace escalate` as
    cron runs it (a new process: start-up, migrations check, the pass, output), then the pass alone in-process."""
    from sqlalchemy import func, select

    from serialtrace.warranty import escalation
    from serialtrace.warranty.models import Notification

    cli = Path(_common.python()).parent / "serialtrace"
    command = [str(cli)] if cli.exists() else [_common.python(), "-c", "from serialtrace.cli import main; main()"]
    env = {**os.environ, "SERIALTRACE_DATABASE_URL": url, "SERIALTRACE_SECRET_KEY": "bench-secret",
           "SERIALTRACE_SERIAL_KEY": "bench-warranty"}
    print(f"\nescalation pass over {clocks:,} running clocks (mail off: the pass writes the notifications; sending "
          f"is one SMTP exchange per message, after the commit), load average {os.getloadavg()[0]:.2f}")
    for label, share in ((f"{DUE_SHARE:.0%} due", DUE_SHARE), ("all due", 1.0)):
        now = datetime.now(UTC)
        due = arm_clocks(url, share, now)
        t0, cpu0 = time.perf_counter(), _children_cpu()
        done = subprocess.run([*command, "escalate", "--json"], env=env, capture_output=True, text=True)
        wall, cli_cpu = time.perf_counter() - t0, _children_cpu() - cpu0
        if done.returncode != 0:
            raise RuntimeError(f"serialtrace escalate: {done.stderr[-500:]}")
        written = len(json.loads(done.stdout)["notifications"])
        arm_clocks(url, share, now)
        rt = _common.runtime_for(url, serial_key="bench-warranty")
        t1, cpu1 = time.perf_counter(), time.process_time()
        summary = escalation.run_pass(rt.sessions, rt.settings, now)
        alone, alone_cpu = time.perf_counter() - t1, time.process_time() - cpu1
        with rt.read() as s:
            stored = s.scalar(select(func.count()).select_from(Notification))
        rt.engine.dispose()
        met = "met" if wall <= ESCALATION_TARGET else "NOT met"
        print(f"  {label:8s} {due:6,} clocks due, {summary.escalated:6,} escalated, {written:6,} notifications "
              f"(stored {stored:,}): `serialtrace escalate` {wall:5.2f} s wall / {cli_cpu:5.2f} s CPU (with "
              f"start-up), pass alone {alone:5.2f} s wall / {alone_cpu:5.2f} s CPU  (<= {ESCALATION_TARGET:g} s: "
              f"{met})")


def _children_cpu() -> float:
    """CPU seconds (user + system) the finished child processes have used so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

# --------------------------------------------------------------------------- serving and measuring

def serve(url: str, port: int, threads: int) -> None:
    """Serve the real app with waitress until killed (runs in the child process)."""
    import waitress

    from serialtrace.web import create_app

    app = create_app(runtime=_common.runtime_for(url, serial_key="bench-warranty"))
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def start_server(url: str, threads: int) -> tuple[subprocess.Popen, int]:
    """Start the app in a child process and wait until it accepts connections."""
    return _common.start_child([_common.python(), __file__, "--serve", url, "--threads", str(threads)],
                               Path(__file__).parent, "server")


def timed(conn: http.client.HTTPConnection, method: str, path: str, *, headers: dict[str, str],
          body: dict | None = None, expect: int = 200) -> float:
    """Milliseconds for one request and its whole answer; an unexpected status stops the run."""
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers = {**headers, "Content-Type": "application/json"}
    t0 = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    answer = resp.read()
    elapsed = (time.perf_counter() - t0) * 1000
    if resp.status != expect:
        raise RuntimeError(f"{method} {path}: {resp.status} {answer[:300]!r}")
    return elapsed


def login_cookie(port: int, username: str = "engineer") -> str:
    """The session cookie of `username` after the login form (with its CSRF token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    page = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";")[0]
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    form = urllib.parse.urlencode({"csrf_token": page[start:page.index('"', start)], "username": username,
                                   "password": PASSWORD})
    conn.request("POST", "/login", body=form, headers={"Cookie": cookie,
                                                       "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    if resp.status != 302:
        raise RuntimeError(f"login: {resp.status}")
    conn.close()
    return resp.getheader("Set-Cookie", "").split(";")[0]


def replacement_plan(url: str) -> list[tuple[int, str]]:
    """(claim id, stock serial) for every claim in triage, each with its own unit from stock."""
    from sqlalchemy import select

    from serialtrace.trace.models import Batch, Unit
    from serialtrace.warranty.models import Claim

    rt = _common.runtime_for(url, serial_key="bench-warranty")
    with rt.read() as s:
        claims = s.scalars(select(Claim.id).where(Claim.state == "triage").order_by(Claim.id)).all()
        stock = s.scalars(select(Unit.serial).join(Batch, Batch.id == Unit.batch_id)
                          .where(Batch.number == "B-STOCK", Unit.status == "in_stock").order_by(Unit.id)).all()
    rt.engine.dispose()
    return list(zip(claims, stock, strict=False))


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) the process `pid` has used so far, in milliseconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def report(name: str, times: list[float], cpu: float, target: float) -> dict[str, float]:
    """Print and return p50/p95/p99 of `times`, the server's CPU ms per request and whether the p95 meets
    `target`; CPU time tells more than wall time on a machine shared with other work."""
    s = sorted(times)
    out = {p: _common.percentile(s, p) for p in (50, 95, 99)}
    met = "met" if out[95] <= target else "NOT met"
    print(f"  {name:34s} n={len(s):4d}  p50 {out[50]:6.2f}  p95 {out[95]:6.2f}  p99 {out[99]:6.2f}"
          f"  max {s[-1]:6.1f} ms; server CPU {cpu / len(s):6.2f} ms/request  (p95 <= {target:g} ms: {met})")
    return out


def phase(pid: int, warmup: int, requests: list) -> tuple[list[float], float]:
    """Run the `requests` (callables timing one request each): the times after `warmup`, and the server's CPU
    milliseconds spent on those."""
    times = [request() for request in requests[:warmup]]
    before = cpu_ms(pid)
    times = [request() for request in requests[warmup:]]
    return times, cpu_ms(pid) - before


def measure_worklist(conn: http.client.HTTPConnection, pid: int, port: int, tokens: dict[str, str], *,
                     requests: int, warmup: int, page: bool) -> None:
    """The worklist: a team's board of every open task with its counts, a person's list, one's own list, the
    change marker (API), then my worklist and the team board pages."""
    boss = {"Authorization": f"Bearer {tokens['boss']}"}
    engineer = {"Authorization": f"Bearer {tokens['engineer']}"}
    runs = [("GET /api/v1/worklist?team= (board)", f"/api/v1/worklist?team={WORK_TEAM}", boss),
            ("GET /api/v1/worklist?user=agent00", "/api/v1/worklist?user=agent00", boss),
            ("GET /api/v1/worklist?breached=true", f"/api/v1/worklist?team={WORK_TEAM}&breached=true", boss),
            ("GET /api/v1/worklist?q=Customer 007", f"/api/v1/worklist?team={WORK_TEAM}&q=Customer%20007", boss),
            ("GET /api/v1/worklist (own)", "/api/v1/worklist", engineer),
            ("GET /api/v1/worklist/version", "/api/v1/worklist/version", engineer)]
    if page:
        mine, boss_page = {"Cookie": login_cookie(port)}, {"Cookie": login_cookie(port, "boss")}
        runs += [("GET /worklist (page)", "/worklist", mine),
                 ("GET /teams/<name>/board (page)", f"/teams/{WORK_TEAM}/board", boss_page),
                 ("GET /worklist?fragment=1 (live)", "/worklist?fragment=1", mine)]
    for name, path, headers in runs:
        calls = [lambda p=path, h=headers: timed(conn, "GET", p, headers=h)] * (warmup + requests)
        report(name, *phase(pid, warmup, calls), WORKLIST_P95_TARGET)


def explain_worklist(url: str) -> None:
    """Print the plans of the team board's and a person's ranking queries."""
    from serialtrace.accounts.models import User
    from serialtrace.columns import utcnow
    from serialtrace.warranty import worklist

    def run(s) -> None:
        agent = s.query(User).filter_by(username="agent00").one()
        worklist.worklist(s, worklist.Scope(team_id=worklist.team_by_name(s, WORK_TEAM).id), now=utcnow())
        worklist.worklist(s, worklist.person_scope(s, agent), now=utcnow())

    explain(url, run, title="a worklist query", keep=lambda statement: "ORDER BY" in statement)


def measure(url: str, tokens: dict[str, str], *, threads: int, queue_requests: int, warmup: int,
            page: bool, worklist_only: bool = False) -> None:
    """The worklist, the queue (API and page) then the replacements, each over one keep-alive connection to the
    served app."""
    proc, port = start_server(url, threads)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        measure_worklist(conn, proc.pid, port, tokens, requests=queue_requests, warmup=warmup, page=page)
        if worklist_only:
            conn.close()
            return
        engineer = {"Authorization": f"Bearer {tokens['engineer']}"}
        calls = [lambda: timed(conn, "GET", "/api/v1/test-queue", headers=engineer)] * (warmup + queue_requests)
        report("GET /api/v1/test-queue", *phase(proc.pid, warmup, calls), QUEUE_P95_TARGET)
        if page:
            cookie = {"Cookie": login_cookie(port)}
            calls = [lambda: timed(conn, "GET", "/test-queue", headers=cookie)] * (warmup + queue_requests)
            report("GET /test-queue (page)", *phase(proc.pid, warmup, calls), QUEUE_P95_TARGET)
        desk = {"Authorization": f"Bearer {tokens['desk']}"}
        calls = [lambda c=claim_id, b={"replacement_serial": serial, "on_desk": i % 2 == 0}:
                 timed(conn, "POST", f"/api/v1/claims/{c}/replace", headers=desk, expect=201, body=b)
                 for i, (claim_id, serial) in enumerate(replacement_plan(url))]
        report("POST /api/v1/claims/<id>/replace", *phase(proc.pid, warmup, calls), REPLACE_P95_TARGET)
        conn.close()
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    """Build the database, serve the app, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--postgres", metavar="URL", help="run on a throwaway schema of this PostgreSQL server")
    ap.add_argument("--db", type=Path, default=DEFAULT_DB, help="the SQLite file to build (rebuilt every run)")
    ap.add_argument("--cases", type=int, default=20_000, help="open unit cases")
    ap.add_argument("--replacements", type=int, default=400, help="replacements timed (one claim in triage each)")
    ap.add_argument("--queue-requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=4, help="waitress threads")
    ap.add_argument("--no-page", action="store_true", help="time the API only, not the /test-queue page")
    ap.add_argument("--explain", action="store_true", help="print the plans of the test queue's and the worklist's "
                                                           "queries too")
    ap.add_argument("--worklist-only", action="store_true", help="time the worklist only (no queue, no replacements)")
    ap.add_argument("--escalation-only", action="store_true", help="time the escalation pass only, not HTTP")
    ap.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.threads)
        return 0

    print("machine:")
    _common.print_machine()
    drop = None
    if args.postgres:
        url, drop = _common.fresh_postgres_schema(args.postgres)
        where = "PostgreSQL (throwaway schema)"
    else:
        url, where = _common.fresh_sqlite(args.db.resolve()), f"SQLite {args.db}"
    try:
        print(f"building on {where}")
        tokens = build(url, cases=args.cases, replacements=args.replacements + args.warmup)
        print(f"\n{args.cases:,} open unit cases; one keep-alive connection, waitress threads={args.threads}, "
              f"{args.warmup} warm-up requests each, load average {os.getloadavg()[0]:.2f}")
        if args.explain:
            explain_queue(url)
            explain_worklist(url)
        if not args.escalation_only:
            measure(url, tokens, threads=args.threads, queue_requests=args.queue_requests, warmup=args.warmup,
                    page=not args.no_page, worklist_only=args.worklist_only)
        if not args.worklist_only:
            measure_escalation(url, build_clocks(url))
    finally:
        if drop is not None:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
