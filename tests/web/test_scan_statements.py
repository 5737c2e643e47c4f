"""How many SQL statements one API scan runs: the scan is the busiest call, and each statement is a round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import event

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
