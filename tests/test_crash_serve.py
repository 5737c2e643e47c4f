"""Crash safety of a serving process: `serialtrace serve` (waitress, as users run it) takes scans and claim
replacements over HTTP from a client thread and is SIGKILLed at a seeded random point. Afterwards every answer the
client got with a 2xx is in the database exactly once, no replacement is partial and no foreign key dangles,
`serialtrace init` succeeds, and the restarted server answers."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from serialtrace.accounts import service as accounts_service
from serialtrace.db import make_engine
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service

from tests.crashkit import database_sound

pytestmark = pytest.mark.slow  # a server started and killed a few times per database

KILLS = 3
# Claims prepared per kill: more than a desk gets through before the latest kill point.
CLAIMS_PER_KILL = 60
# The kill falls this many seconds into the client's work (seeded): early, in the middle of a run, later.
KILL_WINDOW = (0.2, 1.8)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, folder: Path) -> tuple[subprocess.Popen, int]:
    """The console script `serialtrace serve` on a free port; returns once the port takes connections."""
    port = _free_port()
    env = {**os.environ, "SERIALTRACE_DATABASE_URL": url, "SERIALTRACE_SECRET_KEY": "crash-serve",
           "SERIALTRACE_INSTANCE": str(folder), "SERIALTRACE_ESCALATION_INTERVAL": "0"}
    exe = Path(sys.executable).with_name("serialtrace")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise AssertionError("serve did not open its port within 30 s")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    proc.wait(timeout=15)
    proc.stderr.close()


class Desk(threading.Thread):
    """A desk and a station in one client: a scan (its station name a unique marker), then a claim for a shipped
    unit and its replacement from stock, over and over until the server goes away. Keeps what was acknowledged."""

    def __init__(self, port: int, token: str, tag: str, returns: list[str], stock: list[str]) -> None:
        super().__init__(daemon=True)
        self.port, self.tag, self.returns, self.stock = port, tag, returns, stock
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.scans: list[str] = []
        self.claims: list[int] = []
        self.replacements: list[tuple[int, str]] = []
        self.refused: list[tuple[str, int, str]] = []  # non-2xx answers of a live server: none expected

    def _post(self, conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, dict]:
        conn.request("POST", path, body=json.dumps(body), headers=self.headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status >= 300:
            self.refused.append((path, resp.status, data.decode(errors="replace")[:300]))
        return resp.status, (json.loads(data) if resp.status < 300 else {})

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            for i, (serial, replacement) in enumerate(zip(self.returns, self.stock, strict=True)):
                marker = f"{self.tag}-{i:04d}"
                if self._post(conn, "/api/v1/scans", {"code": replacement, "station": marker})[0] == 200:
                    self.scans.append(marker)
                status, claim = self._post(conn, "/api/v1/claims", {"serial": serial, "symptom": "no_power"})
                if status != 201:
                    return
                self.claims.append(claim["id"])
                if self._post(conn, f"/api/v1/claims/{claim['id']}/replace",
                              {"replacement_serial": replacement, "on_desk": True})[0] == 201:
                    self.replacements.append((claim["id"], replacement))
        except (OSError, http.client.HTTPException):
            return  # the server was killed: a request without an answer is not acknowledged
        finally:
            conn.close()


def _seed(url: str, claims: int) -> tuple[str, list[str], list[str]]:
    """A shipped batch to claim, a stock batch to hand out, a warehouse user's API token."""
    rt = Runtime.from_env({"database_url": url})
    try:
        with rt.transaction() as s:
            scheme = rt.serial_scheme()
            trace_service.add_product(s, sku="PR-SRV", name="Serve probe")
            out = trace_service.register_batch(s, product="PR-SRV", quantity=claims, number="OUT", scheme=scheme,
                                               produced_on=date(2026, 1, 5))[1]
            stock = trace_service.register_batch(s, product="PR-SRV", quantity=claims, number="STOCK",
                                                 scheme=scheme, produced_on=date(2026, 1, 6))[1]
            customer = trace_service.get_or_create_customer(s, name="Vodokanal", tax_id="7701234567")
            trace_service.create_shipment(s, customer=customer, shipped_on=date(2026, 2, 2), serials=out,
                                          today=date(2026, 12, 1))
            desk = accounts_service.create_user(s, username="desk", role="warehouse", password="crash-pass-1")
            token = accounts_service.create_token(s, name="desk", user=desk)
    finally:
        rt.engine.dispose()
    return token, sorted(out), sorted(stock)


def _acknowledged_problems(url: str, desk: Desk) -> list[str]:
    """Acknowledged scans, claims and replacements not in the database exactly once; replacements not whole."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = lambda sql, **p: [tuple(r) for r in conn.execute(text(sql), p)]  # noqa: E731
            logged = dict(rows("SELECT station, count(*) FROM scan_log WHERE station LIKE :p GROUP BY station",
                               p=f"{desk.tag}-%"))
            claims = {cid for (cid,) in rows("SELECT id FROM claim")}
            replaced = {}
            for cid, serial, n in rows("SELECT r.claim_id, u.serial, count(*) FROM replacement r "
                                       "JOIN unit u ON u.id = r.replacement_unit_id GROUP BY r.claim_id, u.serial"):
                replaced[(cid, serial)] = n
            problems = [f"scan {m} logged {logged.get(m, 0)} times" for m in desk.scans if logged.get(m, 0) != 1]
            problems += [f"scan {m} logged twice" for m, n in logged.items() if n > 1]
            problems += [f"claim {c} missing" for c in desk.claims if c not in claims]
            problems += [f"replacement {k} stored {replaced.get(k, 0)} times" for k in desk.replacements
                         if replaced.get(k, 0) != 1]
            problems += [f"claim replaced twice {r}" for r in rows(
                "SELECT claim_id, count(*) FROM replacement GROUP BY claim_id HAVING count(*) > 1")]
            problems += [f"unit given out twice {r}" for r in rows(
                "SELECT replacement_unit_id, count(*) FROM replacement GROUP BY replacement_unit_id "
                "HAVING count(*) > 1")]
            # A replacement is its row, the returned unit's `replaced` event, a shipment named after the claim
            # with the new unit on it and the claim moved on; a claim without one was not touched.
            counts = rows("SELECT (SELECT count(*) FROM replacement), (SELECT count(*) FROM unit_event "
                          "WHERE kind = 'replaced'), (SELECT count(*) FROM shipment WHERE reference LIKE 'CL-%')")[0]
            if len(set(counts)) != 1:
                problems.append(f"replacements, replaced events, replacement shipments: {counts}")
            problems += [f"replacement without its shipment line {r}" for r in rows(
                "SELECT r.claim_id FROM replacement r JOIN claim c ON c.id = r.claim_id WHERE NOT EXISTS "
                "(SELECT 1 FROM shipment_item i JOIN shipment s ON s.id = i.shipment_id "
                " WHERE i.unit_id = r.replacement_unit_id AND s.reference = c.number) "
                "OR c.state IN ('registered')")]
            problems += [f"claim touched without a replacement {r}" for r in rows(
                "SELECT c.number, c.state FROM claim c WHERE NOT EXISTS (SELECT 1 FROM replacement r "
                "WHERE r.claim_id = c.id) AND (c.state <> 'registered' "
                "OR EXISTS (SELECT 1 FROM shipment s WHERE s.reference = c.number))")]
            return problems
    finally:
        engine.dispose()


def _answers(port: int, token: str, serial: str) -> None:
    """The server serves a unit's dossier over the API and the sign-in page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", f"/api/v1/units/{serial}", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, body[:500]
        assert json.loads(body)["unit"]["serial"] == serial
        conn.request("GET", "/login")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()


def test_a_killed_server_keeps_every_acknowledged_scan_and_replacement_once(fresh_db_url, tmp_path):
    url = fresh_db_url
    token, returns, stock = _seed(url, KILLS * CLAIMS_PER_KILL)
    rng = random.Random(71)
    acknowledged = {"scans": 0, "replacements": 0}
    for k in range(KILLS):
        proc, port = _serve(url, tmp_path)
        try:
            _answers(port, token, returns[0])  # after the previous kill too: a restarted server answers
            part = slice(k * CLAIMS_PER_KILL, (k + 1) * CLAIMS_PER_KILL)
            desk = Desk(port, token, f"k{k}", returns[part], stock[part])
            desk.start()
            time.sleep(rng.uniform(*KILL_WINDOW))
        finally:
            _stop(proc, signal.SIGKILL)
        desk.join(timeout=30)
        assert not desk.is_alive()
        assert desk.refused == []
        # The kill fell inside the desk's work, not after it.
        assert len(desk.claims) < CLAIMS_PER_KILL, "raise CLAIMS_PER_KILL: the desk ran out before the kill"
        database_sound(url)
        assert _acknowledged_problems(url, desk) == []
        acknowledged["scans"] += len(desk.scans)
        acknowledged["replacements"] += len(desk.replacements)
    proc, port = _serve(url, tmp_path)
    try:
        _answers(port, token, stock[0])
    finally:
        _stop(proc)
    assert acknowledged["scans"] >= KILLS and acknowledged["replacements"] >= 1, acknowledged


@pytest.mark.parametrize("fresh_db_url", ["sqlite"], indirect=True)
def test_the_check_sees_a_lost_or_doubled_acknowledgement(fresh_db_url):
    """The check above passes because every acknowledgement is stored once, not because it cannot see one lost."""
    url = fresh_db_url
    token, returns, stock = _seed(url, 2)
    desk = Desk(0, token, "chk", returns, stock)
    assert _acknowledged_problems(url, desk) == []
    desk.scans, desk.claims, desk.replacements = ["chk-0000"], [999], [(999, stock[0])]
    engine = make_engine(url)
    with engine.begin() as conn:
        for _ in range(2):
            conn.execute(text("INSERT INTO scan_log (raw, station, source, result, scanned_at) "
                              "VALUES ('x', 'chk-0001', 'api', 'unknown', CURRENT_TIMESTAMP)"))
    engine.dispose()
    assert _acknowledged_problems(url, desk) == [
        "scan chk-0000 logged 0 times", "scan chk-0001 logged twice", "claim 999 missing",
        f"replacement (999, '{stock[0]}') stored 0 times"]
