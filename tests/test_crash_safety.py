"""Crash safety, proven by killing the process: batch registration, ERP imports (shipments, batches), a print job
and a run of replacements are each started in a subprocess and SIGKILLed at seeded random points spread over the
action's measured duration. After every kill `serialtrace init` succeeds, the SQLite file passes integrity_check and
foreign_key_check, no foreign key of any table dangles, the action left all of its rows or none, and a fresh app
answers.

A print job is the one action spread over several transactions (one per chunk the printer confirmed). A killed
runner leaves its job `printing` with next_index at the first label not confirmed and a `labelled` event for each
confirmed one. Nothing takes it up by itself: `labels resume`, the API and the labels page refuse it while it may
still be running elsewhere and take it up once it has been silent for STALE_AFTER (labelling.policy, 5 minutes;
the page then offers Resume), resending from next_index. So a job is never `done` with labels
missing and never stuck: at worst the chunk in flight at the kill is printed twice.
"""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from serialtrace.accounts import service as accounts_service
from serialtrace.cli import main as cli_main
from serialtrace.db import make_engine
from serialtrace.labelling.models import PrintJob
from serialtrace.labelling.policy import STALE_AFTER
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.trace.importer import import_file
from serialtrace.trace.models import Batch, Customer, SerialCounter, Shipment, ShipmentItem, Unit
from serialtrace.warranty import service as warranty_service
from serialtrace.web import create_app

from tests.crashkit import (
    DyingSenderPrinter,
    Outcome,
    SqliteSnapshot,
    app_answers,
    dangling_references,
    database_sound,
    driver_env,
    kill_fractions,
    kill_repeatedly,
    run_to_end,
    trace_inconsistencies,
)
from tests.paths import ERP_EXPORTS

pytestmark = pytest.mark.slow  # processes started and killed dozens of times

# Kills per action: SQLite, and the PostgreSQL runs (there the server, not a file, recovers).
KILLS = {"sqlite": 8, "postgresql": 6}
# Units per registration: about a second of work on a busy two-core machine (half that on a quiet one), so the
# kill points fall into each of its phases (counter, unit chunks, events, commit). PostgreSQL inserts slower.
BATCH_UNITS = {"sqlite": 100_000, "postgresql": 40_000}
# Documents per ERP shipments file (two lines each), labels per print job, replacements per driver run: each
# about a second of work as well.
IMPORT_DOCUMENTS = 40
# Kills per ERP file kind and backend: PostgreSQL only needs to show the server rolls a killed import back.
IMPORT_KILLS = {"sqlite": 8, "postgresql": 3}
BATCHES_KILLS = {"sqlite": 3, "postgresql": 2}
# Batches per ERP batches file and units in each: about a second of registration.
IMPORT_BATCHES = 20
IMPORT_BATCH_UNITS = {"sqlite": 2000, "postgresql": 1000}
JOB_LABELS = 6000
JOB_CHUNK = 30
REPLACEMENTS_PER_RUN = 12
SHIPPED_ON = date(2026, 6, 2)
JOBS = PrintJob.__table__


def _backend(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


def _setup(url: str, build) -> str:
    """Run `build(session)` in one committed transaction on the database; returns an API token of an admin."""
    rt = Runtime.from_env({"database_url": url})
    try:
        with rt.transaction() as s:
            build(s)
            admin = accounts_service.create_user(s, username="crash-admin", role="admin", password="crash-pass-1")
            token = accounts_service.create_token(s, name="crash", user=admin)
    finally:
        rt.engine.dispose()
    return token


def _read(url: str, fn):
    """fn(connection) on a connection of its own."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def _scalar(url: str, stmt):
    return _read(url, lambda c: c.execute(stmt).scalar_one())


# --- batch registration ----------------------------------------------------------------------------------------

def _register_again(url: str) -> None:
    """A registration after the crash succeeds (the counter is not behind the units: no serial drawn twice), and
    the serials stored are exactly the scheme's first values, none skipped, none twice."""
    rt = Runtime.from_env({"database_url": url})
    try:
        with rt.transaction() as s:
            trace_service.register_batch(s, product="PR-CRASH", quantity=1000, scheme=rt.serial_scheme())
        with rt.read() as s:
            drawn = s.scalar(select(SerialCounter.next_value).where(SerialCounter.name.like("serial:%")))
            serials = sorted(s.scalars(select(Unit.serial)))
        assert serials == sorted(rt.serial_scheme().format(0, drawn, date.today()))
    finally:
        rt.engine.dispose()


def test_a_killed_batch_registration_leaves_the_whole_batch_or_nothing(fresh_db_url, tmp_path):
    url = fresh_db_url
    token = _setup(url, lambda s: trace_service.add_product(s, sku="PR-CRASH", name="Crash probe"))
    sqlite = _backend(url) == "sqlite"
    # SQLite starts every kill from this state; the PostgreSQL database keeps growing (fewer kills there).
    snapshot = SqliteSnapshot(url, tmp_path) if sqlite else None
    env = driver_env(url)
    units = BATCH_UNITS[_backend(url)]
    args = ["cli", "batch", "create", "--product", "PR-CRASH", "--quantity", str(units)]
    duration = run_to_end(args, env).seconds
    before = [1]
    if snapshot:
        snapshot.restore()
        before = [0]

    def check(i: int, outcome: Outcome) -> None:
        database_sound(url)  # among others: every batch has all its units, the counter matches them
        batches = _scalar(url, select(func.count()).select_from(Batch).where(Batch.quantity == units))
        # A killed run left its batch whole (it died after the commit) or nothing of it; a finished one its batch.
        assert batches - before[0] in ((0, 1) if outcome.killed else (1,)), (i, outcome)
        _register_again(url)
        app_answers(url, token, _scalar(url, select(Unit.serial).order_by(Unit.id.desc()).limit(1)))
        before[0] = batches
        if snapshot:
            snapshot.restore()
            before[0] = 0

    outcomes = kill_repeatedly(lambda i: args, env, duration, kill_fractions(KILLS[_backend(url)], seed=11), check)
    assert sum(o.killed for o in outcomes) >= len(outcomes) // 2


# --- ERP import ------------------------------------------------------------------------------------------------

def _shipments_file(folder: Path, i: int) -> tuple[Path, set[str], int]:
    """The i-th ERP shipments export: IMPORT_DOCUMENTS documents of two lines, customers new to this file.
    Returns the file, its document numbers and the units it ships."""
    path = folder / f"shipments-{i:02d}.csv"
    documents, units = set(), 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["document", "date", "customer", "tax_id", "sku", "batch", "quantity", "carrier"])
        for d in range(IMPORT_DOCUMENTS):
            document = f"RN-{i:02d}-{d:04d}"
            documents.add(document)
            customer = d % 20
            for sku, batch in (("PR-100", "2501A00"), ("PR-210", "2502B01")):
                out.writerow([document, SHIPPED_ON.strftime("%d.%m.%Y"), f"Customer {i}-{customer}",
                              f"77{i:02d}{customer:06d}", sku, f"{batch}-X", 2, "DPD"])
                units += 2
    return path, documents, units


def _import(url: str, path: Path) -> None:
    rt = Runtime.from_env({"database_url": url})
    try:
        with rt.transaction() as s:
            import_file(s, data=path.read_bytes(), kind=None, scheme=rt.serial_scheme(), today=date(2026, 12, 1))
    finally:
        rt.engine.dispose()


def test_a_killed_erp_import_leaves_the_whole_file_or_nothing(fresh_db_url, tmp_path):
    url = fresh_db_url
    token = _setup(url, lambda s: None)
    _import(url, ERP_EXPORTS / "products-utf8.csv")
    # Stock for every file: two big batches in the sample export's shape.
    stock = tmp_path / "batches.csv"
    stock.write_text("batch,sku,production date,line,quantity\n2501A00-X,PR-100,13.01.2025,L1,3000\n"
                     "2502B01-X,PR-210,05.02.2025,L2,3000\n", encoding="utf-8")
    _import(url, stock)
    env = driver_env(url)
    files = [_shipments_file(tmp_path, i) for i in range(IMPORT_KILLS[_backend(url)] + 1)]
    duration = run_to_end(["cli", "import", str(files[0][0])], env).seconds
    files = files[1:]

    def landed(documents: set[str]) -> tuple[int, int, int]:
        """Shipments of these documents, units they ship, customers of that file."""
        def read(c):
            numbers = sorted(documents)
            shipments = c.execute(select(func.count()).select_from(Shipment)
                                  .where(Shipment.reference.in_(numbers))).scalar_one()
            units = c.execute(select(func.coalesce(func.sum(ShipmentItem.quantity), 0))
                              .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
                              .where(Shipment.reference.in_(numbers))).scalar_one()
            stem = numbers[0].split("-")[1]
            customers = c.execute(select(func.count()).select_from(Customer)
                                  .where(Customer.name.like(f"Customer {int(stem)}-%"))).scalar_one()
            return shipments, units, customers
        return _read(url, read)

    def check(i: int, outcome: Outcome) -> None:
        database_sound(url)  # no shipment without lines, no line without its shipped unit event, no orphan
        _, documents, units = files[i]
        got = landed(documents)
        everything = (IMPORT_DOCUMENTS, units, 20)
        assert got in ((0, 0, 0), everything) if outcome.killed else got == everything, (i, outcome, got)
        shipped = _scalar(url, select(func.count()).select_from(Unit).where(Unit.status == "shipped"))
        assert shipped == _scalar(url, select(func.count()).select_from(ShipmentItem))
        app_answers(url, token, _scalar(url, select(Unit.serial).order_by(Unit.id).limit(1)))

    outcomes = kill_repeatedly(lambda i: ["cli", "import", str(files[i][0])], env, duration,
                               kill_fractions(len(files), seed=23), check)
    assert sum(o.killed for o in outcomes) >= len(files) // 2


def _batches_file(folder: Path, i: int, units: int) -> Path:
    """The i-th ERP batches export: IMPORT_BATCHES batches of `units` units each, numbered B<i>-<n>."""
    path = folder / f"batches-{i:02d}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["batch", "sku", "production date", "line", "quantity"])
        for n in range(IMPORT_BATCHES):
            out.writerow([f"B{i:02d}-{n:03d}", ("PR-100", "PR-210")[n % 2], "13.01.2025", "L1", units])
    return path


def test_a_killed_erp_batches_import_leaves_every_batch_of_the_file_or_none(fresh_db_url, tmp_path):
    url = fresh_db_url
    token = _setup(url, lambda s: None)
    _import(url, ERP_EXPORTS / "products-utf8.csv")
    units = IMPORT_BATCH_UNITS[_backend(url)]
    kills = BATCHES_KILLS[_backend(url)]
    files = [_batches_file(tmp_path, i, units) for i in range(kills + 1)]
    env = driver_env(url)
    duration = run_to_end(["cli", "import", str(files[0])], env).seconds
    files = files[1:]

    def check(i: int, outcome: Outcome) -> None:
        database_sound(url)  # among others: every batch has all its units, the serial counter matches them
        stem = f"B{i + 1:02d}-%"
        batches = _scalar(url, select(func.count()).select_from(Batch).where(Batch.number.like(stem)))
        made = _scalar(url, select(func.count()).select_from(Unit).join(Batch, Batch.id == Unit.batch_id)
                       .where(Batch.number.like(stem)))
        everything = (IMPORT_BATCHES, IMPORT_BATCHES * units)
        got = (batches, made)
        assert got in ((0, 0), everything) if outcome.killed else got == everything, (i, outcome, got)
        _register_again_after_import(url)
        app_answers(url, token, _scalar(url, select(Unit.serial).order_by(Unit.id.desc()).limit(1)))

    outcomes = kill_repeatedly(lambda i: ["cli", "import", str(files[i])], env, duration,
                               kill_fractions(len(files), seed=29), check)
    assert sum(o.killed for o in outcomes) >= len(files) // 2


def _register_again_after_import(url: str) -> None:
    """A registration after a killed import draws serials no unit has (the counter is not behind the units)."""
    rt = Runtime.from_env({"database_url": url})
    try:
        with rt.transaction() as s:
            serials = trace_service.register_batch(s, product="PR-100", quantity=50, scheme=rt.serial_scheme())[1]
        with rt.read() as s:
            assert s.scalar(select(func.count()).select_from(Unit).where(Unit.serial.in_(serials))) == 50
            assert s.scalar(select(func.count(Unit.serial.distinct()))) == s.scalar(select(func.count(Unit.id)))
    finally:
        rt.engine.dispose()


# --- print job -------------------------------------------------------------------------------------------------

def _labelled(conn, job_id: int) -> int:
    """`labelled` events a print job recorded (one per label the printer confirmed)."""
    return conn.execute(text("SELECT count(*) FROM unit_event WHERE kind = 'labelled' "
                             "AND CAST(json_extract(payload, '$.job_id') AS INTEGER) = :job"),
                        {"job": job_id}).scalar_one()


def _resume(url: str, job_id: int, printers: str, *, token: str | None = None) -> tuple[bool, str]:
    """Resume a print job as an operator would: `serialtrace labels resume`, or with `token` the API's
    POST /print-jobs/<id>/resume (which runs a job this small inside the request). Returns (accepted, answer)."""
    rt = Runtime.from_env({"database_url": url, "printers": printers, "secret_key": "crash-test"})
    try:
        if token is None:
            result = CliRunner().invoke(cli_main, ["labels", "resume", str(job_id), "--chunk", str(JOB_CHUNK)],
                                        obj=rt)
            return result.exit_code == 0, result.output
        answer = create_app(runtime=rt).test_client().post(f"/api/v1/print-jobs/{job_id}/resume", json={},
                                                           headers={"Authorization": f"Bearer {token}"})
        return answer.status_code == 200, answer.get_data(as_text=True)
    finally:
        rt.engine.dispose()


@pytest.mark.parametrize("fresh_db_url", ["sqlite"], indirect=True)
def test_a_killed_print_job_is_never_done_with_labels_missing_and_resumes(fresh_db_url):
    url = fresh_db_url
    made = {}

    def build(s):
        trace_service.add_product(s, sku="PR-LBL", name="Label probe", gtin="04601234560016")
        # Unit ids follow the returned (sorted) serials, so serials[n] is the unit at index n.
        made["serials"] = trace_service.register_batch(
            s, product="PR-LBL", quantity=JOB_LABELS, number="L-1", produced_on=date(2026, 1, 5),
            scheme=Runtime.from_env({"database_url": url}).serial_scheme())[1]

    token = _setup(url, build)
    serials = made["serials"]
    printer = DyingSenderPrinter(port=0)
    env = driver_env(url, printers=printer.address)
    args = ["cli", "labels", "print", "--batch", "L-1", "--printer", printer.address, "--chunk", str(JOB_CHUNK)]
    try:
        duration = run_to_end(args, env).seconds
        printer.settle()
        assert printer.serials_from(0) == serials
        # The printer's connections (one per chunk) before this kill's job, the last job id, the states seen.
        seen = {"connections": len(printer.jobs), "job": 1, "states": []}

        def check(i: int, outcome: Outcome) -> None:
            database_sound(url)
            printer.settle()
            sent = printer.serials_from(seen["connections"])
            job = _read(url, lambda c: c.execute(select(JOBS).order_by(JOBS.c.id.desc()).limit(1)).one())
            if job.id == seen["job"]:  # killed before the job's row was committed: nothing was sent for it
                assert outcome.killed and sent == []
                seen["states"].append("none")
                return
            seen["job"] = job.id
            seen["states"].append(job.state)
            confirmed = job.next_index - job.first_index  # a row, not the model: no `done` property
            # A `labelled` event for every label confirmed, none for the rest; done only with every label.
            assert _read(url, lambda c: _labelled(c, job.id)) == confirmed
            assert job.state in ("queued", "printing", "done")
            assert (job.state == "done") == (confirmed == JOB_LABELS)
            # Every label recorded as printed reached the printer, in order.
            assert sent[:confirmed] == serials[:confirmed]
            assert len(sent) - confirmed <= JOB_CHUNK  # no more than the chunk in flight beyond them
            # Taken up by the command line after one kill, over the API after the next.
            via = token if i % 2 else None
            if job.state == "printing":
                # While it may still be running somewhere it is not taken from its runner...
                accepted, answer = _resume(url, job.id, printer.address, token=via)
                assert not accepted and "printing right now" in answer
                # ...once silent for STALE_AFTER it is (the clock moved on: its last sign of life made older).
                _read(url, lambda c: (c.execute(update(PrintJob).where(PrintJob.id == job.id).values(
                    updated_at=datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1))), c.commit()))
            if job.state != "done":
                before = len(printer.jobs)
                accepted, answer = _resume(url, job.id, printer.address, token=via)
                assert accepted, answer
                printer.settle()
                job = _read(url, lambda c: c.execute(select(JOBS).where(JOBS.c.id == job.id)).one())
                assert job.state == "done"
                assert _read(url, lambda c: _labelled(c, job.id)) == JOB_LABELS
                # Resent from the first label not confirmed.
                assert printer.serials_from(before) == serials[confirmed:]
            seen["connections"] = len(printer.jobs)
            app_answers(url, token, serials[0])

        kill_repeatedly(lambda i: args, env, duration, kill_fractions(KILLS["sqlite"], seed=31), check)
    finally:
        printer.close()
    assert "printing" in seen["states"]  # the kills caught jobs mid-way, not only before or after


# --- replacements ----------------------------------------------------------------------------------------------

def _replacement_problems(conn) -> list[str]:
    """Replacements not whole (claim state, shipment of the replacement, its status, the returned unit's event and
    case), claims touched without a replacement, units given out twice."""
    rows = lambda sql: [tuple(r) for r in conn.execute(text(sql)).all()]  # noqa: E731
    problems = [f"incomplete replacement {r}" for r in rows(
        "SELECT r.id, c.number FROM replacement r JOIN claim c ON c.id = r.claim_id "
        "JOIN unit_case k ON k.claim_id = c.id AND k.unit_id = r.returned_unit_id "
        "JOIN unit ru ON ru.id = r.returned_unit_id JOIN unit nu ON nu.id = r.replacement_unit_id "
        "WHERE nu.status <> 'shipped' "
        "OR NOT EXISTS (SELECT 1 FROM shipment_item i JOIN shipment s ON s.id = i.shipment_id "
        "  WHERE i.shipment_id = r.shipment_id AND i.unit_id = nu.id AND s.reference = c.number) "
        "OR NOT EXISTS (SELECT 1 FROM unit_event e WHERE e.unit_id = ru.id AND e.kind = 'replaced') "
        "OR NOT EXISTS (SELECT 1 FROM claim_event e WHERE e.claim_id = c.id AND e.to_state = 'replacement_shipped') "
        # Handed over at the desk (even claim ids in the driver): received and returned, on to verification;
        # else still expected back by a due date, the claim waiting for it.
        "OR (c.id % 2 = 0 AND (k.state <> 'received' OR ru.status <> 'returned' "
        "    OR c.state <> 'pending_verification')) "
        "OR (c.id % 2 = 1 AND (k.state <> 'expected' OR k.return_due IS NULL OR ru.status <> 'shipped' "
        "    OR c.state <> 'replacement_shipped'))")]
    problems += [f"claim touched without a replacement {r}" for r in rows(
        "SELECT c.number, c.state FROM claim c WHERE NOT EXISTS (SELECT 1 FROM replacement r WHERE r.claim_id = c.id)"
        " AND (c.state <> 'registered' OR EXISTS (SELECT 1 FROM shipment s WHERE s.reference = c.number)"
        " OR EXISTS (SELECT 1 FROM claim_event e WHERE e.claim_id = c.id AND e.to_state <> 'registered'))")]
    problems += [f"unit shipped twice {r}" for r in rows(
        "SELECT unit_id, count(*) FROM shipment_item GROUP BY unit_id HAVING count(*) > 1")]
    problems += [f"unit given out twice {r}" for r in rows(
        "SELECT replacement_unit_id, count(*) FROM replacement GROUP BY replacement_unit_id HAVING count(*) > 1")]
    counts = rows("SELECT (SELECT count(*) FROM replacement), (SELECT count(*) FROM unit_event WHERE kind = "
                  "'replaced'), (SELECT count(*) FROM shipment WHERE reference LIKE 'CL-%')")[0]
    if len(set(counts)) != 1:
        problems.append(f"replacements, replaced events, replacement shipments: {counts}")
    return problems


def test_killed_replacements_are_each_whole_or_absent(fresh_db_url):
    url = fresh_db_url
    kills = KILLS[_backend(url)]
    claims = REPLACEMENTS_PER_RUN * (kills + 2)
    made = {}

    def build(s):
        scheme = Runtime.from_env({"database_url": url}).serial_scheme()
        trace_service.add_product(s, sku="PR-RPL", name="Replacement probe")
        out = trace_service.register_batch(s, product="PR-RPL", quantity=claims, number="OUT", scheme=scheme,
                                           produced_on=date(2026, 1, 5))[1]
        trace_service.register_batch(s, product="PR-RPL", quantity=claims, number="STOCK", scheme=scheme,
                                     produced_on=date(2026, 1, 6))
        customer = trace_service.get_or_create_customer(s, name="Vodokanal", tax_id="7701234567")
        trace_service.create_shipment(s, customer=customer, shipped_on=date(2026, 2, 2), serials=out,
                                      today=date(2026, 12, 1))
        for serial in out:
            warranty_service.register_claim(s, serial=serial, symptom="no_power", author=None,
                                            today=date(2026, 12, 1))
        accounts_service.create_user(s, username="desk", role="warehouse", password="crash-pass-1")
        made["serial"] = out[0]

    token = _setup(url, build)
    env = driver_env(url)
    args = ["replace", "STOCK", str(REPLACEMENTS_PER_RUN)]
    duration = run_to_end(args, env).seconds
    replaced = [REPLACEMENTS_PER_RUN]

    def check(i: int, outcome: Outcome) -> None:
        database_sound(url)
        assert _read(url, _replacement_problems) == []
        now = _scalar(url, text("SELECT count(*) FROM replacement"))
        grew = now - replaced[0]
        assert 0 <= grew <= REPLACEMENTS_PER_RUN if outcome.killed else grew == REPLACEMENTS_PER_RUN, (i, outcome)
        replaced[0] = now
        app_answers(url, token, made["serial"])

    outcomes = kill_repeatedly(lambda i: args, env, duration, kill_fractions(kills, seed=47), check)
    assert sum(o.killed for o in outcomes) >= kills // 2
    assert replaced[0] > REPLACEMENTS_PER_RUN  # the killed runs got some replacements done before dying


# --- the checks themselves -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fresh_db_url", ["sqlite"], indirect=True)
def test_the_checks_see_what_a_partial_write_would_leave(fresh_db_url):
    """The checks above pass because nothing is wrong, not because they cannot see it."""
    url = fresh_db_url
    _setup(url, lambda s: (trace_service.add_product(s, sku="PR-CHK", name="Check probe"),
                           trace_service.register_batch(s, product="PR-CHK", quantity=10, number="C-1",
                                                        scheme=Runtime.from_env({"database_url": url})
                                                        .serial_scheme())))
    assert _read(url, dangling_references) == {}
    assert _read(url, trace_inconsistencies) == []
    con = sqlite3.connect(make_url(url).database)
    try:
        con.execute("PRAGMA foreign_keys=OFF")  # what a database without enforced keys would let through
        con.execute("INSERT INTO unit (product_id, batch_id, serial, serial_key, status, created_at) "
                    "VALUES (1, 999, 'ORPHAN-1', 'ORPHAN-1', 'in_stock', '2026-01-01 00:00:00')")
        con.execute("UPDATE serial_counter SET next_value = 4 WHERE name LIKE 'serial:%'")
        con.execute("INSERT INTO shipment (customer_id, shipped_on, reference, carrier, destination, attributes, "
                    "created_at) VALUES (777, '2026-01-02', 'EMPTY', '', '', '{}', '2026-01-02 00:00:00')")
        con.commit()
    finally:
        con.close()
    assert _read(url, dangling_references) == {"unit.batch_id -> batch": 1, "shipment.customer_id -> customer": 1}
    problems = _read(url, trace_inconsistencies)
    assert any("units, produced events" in p for p in problems)  # the orphan unit has no produced event
    assert any(p.startswith("scheme opaque: 10 units, counter") for p in problems)
    assert "1 shipments without lines" in problems
