"""How many SQL statements one API scan runs: the scan is the busiest call, and each statement is a round trip."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.enums import SecurityEventKind
from serialtrace.accounts.models import ApiToken, SecurityEvent
from serialtrace.runtime import Runtime
from serialtrace.station.models import ScanLog
from serialtrace.trace import service as trace_service
from serialtrace.web import create_app

GTIN = "04601234560016"


def _statements(connection, call) -> dict[str, int]:
    """Run `call` and count its statements by their first word; the test's SAVEPOINTs are left out (a real
    session's transaction is its own, see bench/README.md's load section)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_rest):
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(connection, "before_cursor_execute", note)
    try:
        answer = call()
    finally:
        event.remove(connection, "before_cursor_execute", note)
    counts: dict[str, int] = {}
    for word in seen:
        if word not in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            counts[word] = counts.get(word, 0) + 1
    return answer, counts


@pytest.mark.parametrize("code", ["gs1", "serial", "unknown"])
def test_one_api_scan_runs_four_reads_and_one_insert(api, connection, make_batch, code):
    _, serials = make_batch(quantity=2, number="2501A00")
    caller = api("warehouse")
    # The first call of the token also records its use (at most once a minute): not the scan's own work.
    assert caller.post("/api/v1/scans", json={"code": serials[1], "station": "pack-1"}).status_code == 200
    text = {"gs1": f"(01){GTIN}(21){serials[0]}", "serial": serials[0], "unknown": "ZX000000001"}[code]

    answer, counts = _statements(connection, lambda: caller.post("/api/v1/scans",
                                                                  json={"code": text, "station": "pack-1"}))
    assert answer.status_code == 200, answer.json
    assert answer.json["result"] == ("not_found" if code == "unknown" else "unit")
    # The token, the station's profile, what the code names (the product and unit of a GS1 label, or a bare
    # code's unit, batch, claim and lot together), the previous scan and the repeat check together; the log row.
    assert counts == {"SELECT": 4, "INSERT": 1}

    again, counts = _statements(connection, lambda: caller.post("/api/v1/scans",
                                                                 json={"code": text, "station": "pack-1"}))
    assert again.json["result"] == "repeat" and again.json["previous"]["station"] == "pack-1"
    assert counts == {"SELECT": 4}


def test_a_scan_on_a_real_engine_begins_one_transaction(fresh_db_url):
    """As served (no test transaction around it): on PostgreSQL the scan's reads run in autocommit and only the
    log row has a transaction (BEGIN is implicit, SET LOCAL lock_timeout, INSERT, COMMIT); SQLite reads in a
    transaction of their own, so a long batch registration holding the write lock never delays them."""
    rt = Runtime.from_env({"database_url": fresh_db_url, "secret_key": "scan", "serial_key": "k"})
    with rt.transaction() as s:
        user = accounts_service.create_user(s, username="pack", role="warehouse")
        token = accounts_service.create_token(s, name="pack", user=user)
        trace_service.add_product(s, sku="PR-100", name="Flow meter", gtin=GTIN)
        _, serials = trace_service.register_batch(s, product="PR-100", quantity=2, number="2501A00",
                                                  produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
    client, headers = create_app(runtime=rt).test_client(), {"Authorization": f"Bearer {token}"}
    # The first call records the token's use, in a transaction of its own even beside autocommit reads.
    assert client.post("/api/v1/scans", json={"code": serials[1], "station": "pack-1"}, headers=headers).json[
        "result"] == "unit"
    with rt.read() as s:
        assert s.scalars(select(ApiToken.last_used_at)).one() is not None
        assert s.scalar(select(func.count()).select_from(SecurityEvent)
                        .where(SecurityEvent.kind == SecurityEventKind.TOKEN_USED)) == 1

    begins, seen = [], []
    # SQLAlchemy begins in autocommit too, but the driver then sends no BEGIN and no COMMIT.
    event.listen(rt.engine, "begin", lambda conn: begins.append(conn.get_execution_options().get("isolation_level")))
    event.listen(rt.engine, "before_cursor_execute", lambda *a: seen.append(a[2].split(None, 1)[0].upper()))
    answer = client.post("/api/v1/scans", json={"code": f"(01){GTIN}(21){serials[0]}", "station": "pack-1"},
                         headers=headers)
    assert answer.status_code == 200 and answer.json["result"] == "unit"
    reads = [w for w in seen if w == "SELECT"]
    if rt.engine.dialect.name == "postgresql":
        assert begins == ["AUTOCOMMIT", None] and seen == ["SELECT"] * 4 + ["SET", "INSERT"]
    else:
        assert begins == [None, None] and len(reads) == 4 and seen.count("INSERT") == 1
    with rt.read() as s:
        assert s.scalar(select(func.count()).select_from(ScanLog).where(ScanLog.raw.like("(01)%"))) == 1
    rt.engine.dispose()
