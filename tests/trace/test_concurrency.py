"""Concurrent writers (SQLite and PostgreSQL): no duplicate serials, no over-shipping, no lost get-or-create race."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, make_url, select, update

from serialtrace.db import transaction, with_lock_wait
from serialtrace.errors import Conflict, Contention
from serialtrace.runtime import Runtime
from serialtrace.trace import service
from serialtrace.trace.models import Customer, Product, ShipmentItem, Unit

pytestmark = pytest.mark.slow  # processes and threads racing; `make check` leaves them out

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


def _race(url: str, first, second) -> tuple[object, object]:
    """Run `first` in a transaction left open while `second` runs in another one; returns both outcomes.

    `second` starts only after `first` has written, and `first` commits a moment later, so a writer that
    does not wait for the other (a stale read, a check-then-insert) is caught in the act.
    """
    rt = Runtime.from_env({"database_url": url})
    written, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def run(name, action, after_write=None):
        try:
            with rt.transaction() as s:
                outcomes[name] = action(s)
                if after_write:
                    after_write()
        except Exception as exc:  # the outcome under test, success or error, is compared by the caller
            outcomes[name] = exc

    a = threading.Thread(target=run, args=("first", first, lambda: (written.set(), release.wait(10))))
    a.start()
    assert written.wait(10)
    b = threading.Thread(target=run, args=("second", second))
    b.start()
    time.sleep(0.5)
    release.set()
    a.join(20)
    b.join(20)
    rt.engine.dispose()
    return outcomes["first"], outcomes["second"]


def _bulk_batch(url: str) -> None:
    """Product PR-BULK with an unserialised batch BULK of 10 and customers' product set up."""
    rt = Runtime.from_env({"database_url": url})
    with rt.transaction() as s:
        service.add_product(s, sku="PR-BULK", name="Cable gland")
        batch, _ = service.register_batch(s, product="PR-BULK", quantity=0, number="BULK", scheme=rt.serial_scheme())
        batch.quantity = 10
    rt.engine.dispose()


def test_two_writers_cannot_overship_an_unserialised_batch(fresh_db_url):
    _bulk_batch(fresh_db_url)

    def ship(s):
        customer = service.get_or_create_customer(s, name="ACME")
        return service.create_shipment(s, customer=customer, shipped_on=date(2026, 5, 4),
                                       batch_lines=[service.BatchLine(batch="BULK", quantity=8)]).id

    first, second = _race(fresh_db_url, ship, ship)
    assert isinstance(first, int)
    assert isinstance(second, Conflict) and "holds 10; 8 shipped, 8 more asked" in second.message
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        assert s.scalar(select(func.sum(ShipmentItem.quantity))) == 8
    rt.engine.dispose()


def test_two_writers_creating_the_same_customer_share_one_row(fresh_db_url):
    def create(s):
        return service.get_or_create_customer(s, name="ООО «Вектор»", tax_id="5401234567").id

    first, second = _race(fresh_db_url, create, create)
    assert isinstance(first, int) and first == second


def test_two_writers_linking_the_same_new_lot_share_one_row(fresh_db_url):
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        service.add_product(s, sku="PR-LOT", name="Probe")
        for number in ("L-A", "L-B"):
            service.register_batch(s, product="PR-LOT", quantity=0, number=number, scheme=rt.serial_scheme())
    rt.engine.dispose()

    def link(number):
        def action(s):
            from serialtrace.trace import queries

            lot = service.LotInput(supplier="Acme", part="board", lot_number="L77")
            return service.link_component_lot(s, batch=queries.get_batch(s, number), lot=lot).id
        return action

    first, second = _race(fresh_db_url, link("L-A"), link("L-B"))
    assert isinstance(first, int) and first == second


def test_two_writers_shipping_from_one_serialised_batch_take_different_units(fresh_db_url):
    """Both succeed while stock lasts: the second takes the next free units instead of failing on locked ones."""
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        service.add_product(s, sku="PR-SER", name="Meter")
        service.register_batch(s, product="PR-SER", quantity=10, number="SER", scheme=rt.serial_scheme())
    rt.engine.dispose()

    def ship(s):
        customer = service.get_or_create_customer(s, name="ACME")
        return service.create_shipment(s, customer=customer, shipped_on=date(2026, 5, 4),
                                       batch_lines=[service.BatchLine(batch="SER", quantity=4)]).id

    first, second = _race(fresh_db_url, ship, ship)
    assert isinstance(first, int) and isinstance(second, int), (first, second)
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        shipped = s.scalars(select(ShipmentItem.unit_id)).all()
        assert len(shipped) == 8 and len(set(shipped)) == 8
    rt.engine.dispose()


def test_two_writers_creating_the_same_customer_without_tax_id_share_one_row(fresh_db_url):
    """Without a tax id the name is the key; PostgreSQL used to let both inserts through."""
    def create(s):
        return service.get_or_create_customer(s, name="Склад на Ленина").id

    first, second = _race(fresh_db_url, create, create)
    assert isinstance(first, int) and first == second
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 1
    rt.engine.dispose()


def test_a_lost_lock_race_is_a_contention_and_changes_nothing(fresh_db_url):
    """PostgreSQL: a real deadlock; SQLite: the write lock held past the wait. Both end as Contention, not a
    driver error, and the losing action leaves nothing behind."""
    rt = Runtime.from_env({"database_url": fresh_db_url})
    with rt.transaction() as s:
        for sku in ("PR-A", "PR-B"):
            service.add_product(s, sku=sku, name="before")
    outcomes: dict[str, object] = {}
    if rt.engine.dialect.name == "sqlite":
        holder = sqlite3.connect(make_url(fresh_db_url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with transaction(with_lock_wait(rt.sessions, 100)) as s:
                s.execute(update(Product).where(Product.sku == "PR-A").values(name="lost"))
        except Exception as exc:  # the outcome under test
            outcomes["lost"] = exc
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        expected = "the wait for a lock ran out"
    else:
        both_locked = threading.Barrier(2)

        def run(name, first, second):
            try:
                with rt.transaction() as s:
                    s.execute(update(Product).where(Product.sku == first).values(name=name))
                    both_locked.wait(10)
                    s.execute(update(Product).where(Product.sku == second).values(name=name))
                outcomes[name] = "committed"
            except Exception as exc:  # one of the two is chosen as the deadlock victim
                outcomes[name] = exc

        threads = [threading.Thread(target=run, args=("ab", "PR-A", "PR-B")),
                   threading.Thread(target=run, args=("ba", "PR-B", "PR-A"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        expected = "a deadlock"
    errors = [o for o in outcomes.values() if o != "committed"]
    assert len(errors) == 1 and isinstance(errors[0], Contention), outcomes
    assert errors[0].code == "busy" and errors[0].status_code == 409
    assert f"at the same time ({expected}); nothing was changed, try again" in errors[0].message
    with rt.transaction() as s:
        names = set(s.scalars(select(Product.name)).all())
    winner = [k for k, v in outcomes.items() if v == "committed"]
    assert names == ({winner[0]} if winner else {"before"})
    rt.engine.dispose()


def test_sqlite_refuses_a_registration_that_would_hold_the_write_lock_too_long(session, product, scheme):
    """One registration holds SQLite's only write lock until it commits; the cap keeps that to seconds."""
    from serialtrace.errors import ValidationError
    from serialtrace.trace.models import Batch

    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database: a big batch keeps nobody else waiting there")
    quantity = service.SQLITE_MAX_UNITS + 1
    try:
        service.register_batch(session, product=product, quantity=quantity, number="HUGE", scheme=scheme,
                               produced_on=date(2025, 1, 13))
    except ValidationError as exc:
        assert exc.details == {"field": "quantity"}
        assert exc.message.startswith("quantity 1,000,001 is more than one registration may create on SQLite "
                                      "(1,000,000)") and "use PostgreSQL" in exc.message
    else:
        raise AssertionError("a registration over the SQLite cap was accepted")
    assert session.scalar(select(func.count()).select_from(Batch)) == 0
    assert session.scalar(select(func.count()).select_from(Unit)) == 0
