"""find_scan_history answers in one statement what find_previous_scan and find_recent_scan answer in two."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

from sqlalchemy import select

from serialtrace.accounts import service as accounts_service
from serialtrace.columns import utcnow
from serialtrace.station import queries, service
from serialtrace.trace.models import Unit


def test_one_statement_finds_what_the_two_lookups_find(session, make_batch):
    batch, serials = make_batch(quantity=2, number="2501A00")
    unit = session.scalars(select(Unit).where(Unit.serial == serials[0])).one()
    anna = accounts_service.create_user(session, username="anna", role="warehouse")
    boris = accounts_service.create_user(session, username="boris", role="warehouse")
    t0 = utcnow() - timedelta(minutes=5)
    log = [(serials[0], "desk-1", anna, unit.id, None, t0), (serials[0], "", boris, unit.id, None, t0),
           ("2501A00", "desk-1", anna, None, batch.id, t0 + timedelta(seconds=30)),
           ("NOTHING", "", None, None, None, t0 + timedelta(seconds=60)),
           (serials[0], "desk-1", boris, unit.id, None, t0 + timedelta(seconds=90))]
    for raw, station, user, unit_id, batch_id, at in log:
        service.add_scan_entry(session, service.scan_log_entry(raw=raw, result="unit", user=user, station=station,
                                                               unit_id=unit_id, batch_id=batch_id, at=at))
    moments = [t0, t0 + timedelta(seconds=0.5), t0 + timedelta(seconds=60.2), t0 + timedelta(seconds=90.9),
               t0 + timedelta(minutes=10)]
    targets = [(serials[0], unit.id, None), ("2501A00", None, batch.id), ("NOTHING", None, None),
               (serials[1], None, None)]
    seen = set()
    for (raw, unit_id, batch_id), station, user, now in product(targets, ["desk-1", "", "desk-2"],
                                                                [anna, boris, None], moments):
        since = now - timedelta(seconds=1)
        previous, repeat = queries.find_scan_history(session, raw=raw, station=station, now=now, since=since,
                                                     user=user, unit_id=unit_id, batch_id=batch_id)
        assert previous == queries.find_previous_scan(session, station=station, before=now, user=user,
                                                      unit_id=unit_id, batch_id=batch_id,
                                                      raw=None if unit_id or batch_id else raw)
        assert repeat == (queries.find_recent_scan(session, raw=raw, station=station, since=since,
                                                   user=user) is not None)
        seen.add((previous is not None, repeat))
    # Every combination came up, so the comparison covered each half of the statement.
    assert seen == {(False, False), (True, False), (True, True), (False, True)}
