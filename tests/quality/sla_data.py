"""Four claims driven through the real services at fixed times, with their SLA figures worked out by hand.

The seeded standard calendar works Monday to Friday, 09:00-18:00 UTC (nine business hours a day). Claims registered
in the week of Monday 2 June 2025, looked at on Friday 6 June 18:00 (`NOW`):

| claim | priority | registered | first response | resolution clock at NOW |
|---|---|---|---|---|
| A | P3 | Mon 10:00 | triage Mon 11:00: 1 h (target 9 h) | stopped by the replacement Tue 10:00: 9 h (90 h) |
| B | P3 | Mon 10:00 | customer comment Mon 12:30: 2.5 h (9 h) | running: 44 h (90 h) |
| C | P1 | Mon 10:00 | none (team assigned Mon 11:00): 44 h so far (2 h), breached | running: 44 h (18 h), breached |
| D | P3 | Mon 14:00 | triage Tue 14:00: 9 h (9 h), met: equal | paused waiting Tue 15:00: 10 h (90 h) |

A draft, a cancelled claim and a claim of May are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from serialtrace.columns import at_moment
from serialtrace.trace import service as trace_service
from serialtrace.warranty import comments, service, stages
from serialtrace.warranty.models import Claim, Team

MON = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
NOW = datetime(2025, 6, 6, 18, 0, tzinfo=UTC)
HOUR = 3600.0
WEEK = date(2025, 6, 2)


@dataclass
class Claims:
    """The counted claims by letter."""

    a: Claim
    b: Claim
    c: Claim
    d: Claim


def _at(moment, action, *args, **kw):
    with at_moment(moment):
        return action(*args, **kw)


def make_claims(session, make_batch, who) -> Claims:
    """Register and move the claims of the module's table (who: users by role name)."""
    _, serials = make_batch(quantity=10)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:7],
                                  today=WEEK)
    session.add(Team(name="Returns", supervisor_id=who["supervisor"].id))
    session.flush()

    def register(serial, at, **kw):
        return _at(at, service.register_claim, session, serial=serial, symptom="no_power", author=who["warehouse"],
                   today=at.date(), **kw).claim

    def move(claim, to, at, role="coordinator"):
        _at(at, service.transition_claim, session, claim_id=claim.id, to=to, author=who[role], today=at.date())

    a = register(serials[0], MON)
    _at(MON + timedelta(minutes=30), comments.add_comment, session, claim_id=a.id, body="internal note",
        author=who["coordinator"])
    move(a, "triage", MON + timedelta(hours=1))
    _at(MON + timedelta(days=1), service.replace_unit, session, claim_id=a.id, replacement_serial=serials[9],
        author=who["warehouse"], today=WEEK + timedelta(days=1))

    b = register(serials[1], MON)
    _at(MON + timedelta(hours=2, minutes=30), comments.add_comment, session, claim_id=b.id,
        body="We are looking at it.", visibility="customer", author=who["coordinator"])
    move(b, "triage", MON + timedelta(days=1))

    c = register(serials[2], MON, impact=1, urgency=1)
    _at(MON + timedelta(hours=1), stages.reassign, session, claim_id=c.id, team="Returns", reason="theirs",
        author=who["supervisor"])

    d = register(serials[3], MON + timedelta(hours=4))
    move(d, "triage", MON + timedelta(days=1, hours=4))
    move(d, "waiting_customer", MON + timedelta(days=1, hours=5))

    # Not counted: a draft, a cancelled claim, a claim registered in May.
    register(serials[4], MON, draft=True)
    cancelled = register(serials[5], MON)
    move(cancelled, "cancelled", MON + timedelta(hours=1))
    register(serials[6], datetime(2025, 5, 5, 10, 0, tzinfo=UTC))
    session.flush()
    return Claims(a=a, b=b, c=c, d=d)
