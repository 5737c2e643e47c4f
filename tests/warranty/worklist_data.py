"""Claims for the worklist tests, built through the services at fixed moments on the standard calendar
(Monday to Friday, 09:00-18:00 UTC): at NOW, Monday 13:00, their ranking is known by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from serialtrace.columns import at_moment
from serialtrace.trace import service as trace_service
from serialtrace.warranty import service, stages
from serialtrace.warranty.models import Claim, Team, TeamMember

TODAY = date(2025, 6, 2)
MON = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
NOW = MON + timedelta(hours=13)
# The expected order at NOW: breached first, then by business time left, then priority, then age.
RANKED = ["late", "p1_two", "p2_two", "triage10", "triage11", "paused_old", "paused_new"]


@dataclass
class Board:
    """The claims by name, and the team most of them belong to."""

    claims: dict[str, Claim]
    team: Team


def _at(hour: float) -> datetime:
    return MON + timedelta(hours=hour)


def build(session, make_batch, people: dict) -> Board:
    """Seven open claims at NOW (Monday 13:00):

    late        P1 from 10:30 (2 h): due 12:30, breached             coordinator, Returns
    p1_two      P1 from 12:00: due 14:00                             coordinator, Returns
    p2_two      P2 from 10:00 (4 h): due 14:00, after P1 on a tie    coordinator, no team
    triage10    P3 from 10:00 (9 h): due Tuesday 10:00                engineer, Returns
    triage11    P3 from 11:00: due Tuesday 11:00                      Returns, nobody yet
    paused_old  P3 from 10:00, waiting for the customer at 11:00     Returns, nobody yet
    paused_new  P3 from 10:30, waiting at 11:30: the same 8 h left, younger
    """
    team = Team(name="Returns", supervisor_id=people["supervisor"].id)
    session.add(team)
    session.flush()
    for role in ("coordinator", "engineer"):
        session.add(TeamMember(team_id=team.id, user_id=people[role].id))
    _, serials = make_batch(quantity=7)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    other = trace_service.get_or_create_customer(session, name="Teplosnab", tax_id="7707654321")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:6],
                                  today=TODAY)
    trace_service.create_shipment(session, customer=other, shipped_on=date(2025, 2, 3), serials=serials[6:],
                                  today=TODAY)
    plan = [("late", 10.5, "P1"), ("p1_two", 12, "P1"), ("p2_two", 10, "P2"), ("triage10", 10, None),
            ("triage11", 11, None), ("paused_old", 10, None), ("paused_new", 10.5, None)]
    claims = {}
    for (name, hour, priority), serial in zip(plan, serials, strict=True):
        with at_moment(_at(hour)):
            claim = service.register_claim(session, serial=serial, symptom="no_power", author=people["warehouse"],
                                           today=TODAY).claim
            if priority is not None:
                stages.change_priority(session, claim_id=claim.id, priority=priority, reason="customer's line down",
                                       author=people["coordinator"])
        claims[name] = claim
    for name, hour in (("paused_old", 11), ("paused_new", 11.5)):
        for state, at in (("triage", hour - 0.25), ("waiting_customer", hour)):
            with at_moment(_at(at)):
                service.transition_claim(session, claim_id=claims[name].id, to=state, author=people["coordinator"],
                                         today=TODAY)
    owners = {"late": ("coordinator", "Returns"), "p1_two": ("coordinator", "Returns"), "p2_two": ("coordinator", None),
              "triage10": ("engineer", "Returns"), "triage11": (None, "Returns"), "paused_old": (None, "Returns"),
              "paused_new": (None, "Returns")}
    for name, (user, team_name) in owners.items():
        with at_moment(_at(12.5)):
            stages.reassign(session, claim_id=claims[name].id, reason="desk rota", author=people["supervisor"],
                            username=people[user].username if user else None, team=team_name)
    session.flush()
    return Board(claims=claims, team=team)
