"""Concurrent requests on a real database: overlapping shipments and scans under a held write lock never answer 500."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, make_url, select

from serialtrace.accounts import service as accounts_service
from serialtrace.db import make_session_factory
from serialtrace.runtime import Runtime
from serialtrace.station.models import ScanLog
from serialtrace.trace import service
from serialtrace.trace.models import Customer, Shipment, ShipmentItem, Unit
from serialtrace.web import create_app

pytestmark = pytest.mark.slow  # threads racing on a held lock; `make check` leaves them out

PAIRS = 20
UNITS_PER_PAIR = 6


def _setup(url: str, units: int) -> tuple[Runtime, str, list[str]]:
    """A committed database with one warehouse user, its token and a batch of `units` units."""
    rt = Runtime.from_env({"database_url": url, "secret_key": "contention", "serial_key": "k"})
    with rt.transaction() as s:
        user = accounts_service.create_user(s, username="desk", role="warehouse", password="desk-pass-1")
        token = accounts_service.create_token(s, name="desk-token", user=user)
        service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")
        _, serials = service.register_batch(s, product="PR-100", quantity=units, number="2501A00",
                                            produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
    return rt, token, serials


def _post_together(app, token: str, bodies: list[dict]) -> list[tuple[int, dict]]:
    """POST each body to /api/v1/shipments from its own thread, all released at once."""
    start = threading.Barrier(len(bodies))
    out: list = [None] * len(bodies)

    def run(i: int) -> None:
        client = app.test_client()
        start.wait()
        resp = client.post("/api/v1/shipments", json=bodies[i], headers={"Authorization": f"Bearer {token}"})
        out[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_overlapping_shipments_succeed_or_conflict_never_fail(fresh_db_url):
    """Each pair ships the same units in opposite orders: the old per-unit locking deadlocked on PostgreSQL."""
    rt, token, serials = _setup(fresh_db_url, PAIRS * UNITS_PER_PAIR)
    app = create_app(runtime=rt)
    outcomes = []
    for pair in range(PAIRS):
        mine = serials[pair * UNITS_PER_PAIR:(pair + 1) * UNITS_PER_PAIR]
        bodies = [{"customer": {"name": "ACME", "tax_id": "5401234567"}, "shipped_on": "2025-03-14",
                   "serials": order, "reference": f"P{pair}-{side}"}
                  for side, order in (("a", mine), ("b", mine[::-1]))]
        outcomes.extend(_post_together(app, token, bodies))
    statuses = [status for status, _body in outcomes]
    assert set(statuses) <= {201, 409}, [o for o in outcomes if o[0] not in (201, 409)]
    # Exactly one side of each pair wins; the loser is told which unit was taken, and nothing of it stays.
    assert statuses.count(201) == PAIRS
    for status, body in outcomes:
        if status == 409:
            assert body["error"] == "conflict" and "not in stock; it cannot be shipped" in body["message"], body
    with rt.transaction() as s:
        shipped = s.scalars(select(ShipmentItem.unit_id)).all()
        assert len(shipped) == len(set(shipped)) == PAIRS * UNITS_PER_PAIR
        assert s.scalar(select(func.count()).select_from(Shipment)) == PAIRS
        assert s.scalar(select(func.count()).select_from(Unit).where(Unit.status != "shipped")) == 0
    rt.engine.dispose()


def test_first_shipments_to_a_new_customer_without_tax_id_make_one_customer(fresh_db_url):
    rt, token, serials = _setup(fresh_db_url, 2 * PAIRS)
    app = create_app(runtime=rt)
    for pair in range(PAIRS // 4):
        bodies = [{"customer": {"name": f"Склад №{pair}"}, "shipped_on": "2025-03-14",
                   "serials": [serials[2 * pair + side]]} for side in (0, 1)]
        assert [status for status, _ in _post_together(app, token, bodies)] == [201, 201]
    with rt.transaction() as s:
        names = s.scalars(select(Customer.name).order_by(Customer.name)).all()
    assert names == [f"Склад №{pair}" for pair in range(PAIRS // 4)]
    rt.engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh migrated SQLite file."""
    from serialtrace.db import make_engine
    from serialtrace.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'lock.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_a_scan_during_a_held_write_lock_is_answered_and_logged_afterwards(sqlite_url):
    """A long batch registration holds SQLite's write lock; the scan answers at once and its log entry follows."""
    rt, token, serials = _setup(sqlite_url, 3)
    app = create_app(runtime=rt)
    holder = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE serial_counter SET next_value = next_value")
    answered: dict = {}

    def scan() -> None:
        client = app.test_client()
        t0 = time.monotonic()
        resp = client.post("/api/v1/scans", json={"code": serials[0], "station": "desk-1"},
                           headers={"Authorization": f"Bearer {token}"})
        answered.update(status=resp.status_code, body=resp.get_json(), seconds=time.monotonic() - t0)
        # A double trigger pull while the first entry still waits in the queue is still counted once.
        again = client.post("/api/v1/scans", json={"code": serials[0], "station": "desk-1"},
                            headers={"Authorization": f"Bearer {token}"})
        answered["again"] = again.get_json()["result"]

    thread = threading.Thread(target=scan)
    thread.start()
    thread.join(8)
    try:
        assert answered, "the scan waited for the write lock"
        assert answered["status"] == 200, answered
        assert answered["body"]["result"] == "unit" and answered["body"]["matches"][0]["serial"] == serials[0]
        assert answered["seconds"] < 5
        assert answered["again"] == "repeat"
        with rt.read_sessions() as s:
            assert s.scalars(select(ScanLog)).all() == []
    finally:
        holder.execute("COMMIT")
        holder.close()
        thread.join(40)
    deadline = time.monotonic() + 15
    logged: list = []
    while time.monotonic() < deadline and not logged:
        with rt.read_sessions() as s:
            logged = s.scalars(select(ScanLog)).all()
        time.sleep(0.1)
    assert [(row.raw, row.station, row.result) for row in logged] == [(serials[0], "desk-1", "unit")]
    rt.engine.dispose()


def test_a_write_that_meets_a_held_lock_is_409_and_changes_nothing(sqlite_url):
    """SQLite's "database is locked" after the lock wait is a 409 telling the client to try again, not a 500."""
    rt, token, serials = _setup(sqlite_url, 1)
    rt = Runtime(rt.settings, engine=rt.engine, sessions=make_session_factory(rt.engine, lock_wait_ms=200))
    app = create_app(runtime=rt)
    holder = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        resp = app.test_client().post("/api/v1/shipments", headers={"Authorization": f"Bearer {token}"},
                                      json={"customer": {"name": "ACME"}, "serials": serials,
                                            "shipped_on": "2025-03-14"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert resp.status_code == 409, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"] == "busy" and "try again" in body["message"] and "lock" in body["message"]
    with rt.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Shipment)) == 0
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
    rt.engine.dispose()
