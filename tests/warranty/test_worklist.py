"""The ranked worklist on both databases: breached first, then by business time left, then priority, then age; a
person's list and a team's board; filters; each person's counts; the change marker."""

from __future__ import annotations

from datetime import timedelta

import pytest

from serialtrace.columns import at_moment
from serialtrace.errors import NotFound, PermissionDenied, ValidationError
from serialtrace.warranty import service, stages, worklist

from .tested_case import people
from .worklist_data import NOW, RANKED, TODAY, build

HOUR = 3600.0


@pytest.fixture
def who(session):
    return people(session)


@pytest.fixture
def board(session, make_batch, who):
    return build(session, make_batch, who)


def _numbers(board, page) -> list[str]:
    names = {c.number: name for name, c in board.claims.items()}
    return [names[item["number"]] for item in page.items]


def test_the_team_board_ranks_breached_then_time_left_then_priority_then_age(session, board):
    page = worklist.worklist(session, worklist.Scope(team_id=board.team.id), now=NOW)
    assert _numbers(board, page) == [n for n in RANKED if n != "p2_two"]  # p2_two has no team
    assert page.total == 6
    late, p1 = page.items[0], page.items[1]
    assert (late["breached"], late["remaining_seconds"], late["percent"]) == (True, -0.5 * HOUR, 125.0)
    assert (p1["breached"], p1["remaining_seconds"], p1["due_at"]) == (False, HOUR, "2025-06-02T14:00:00+00:00")
    paused = page.items[-1]
    assert (paused["clock_state"], paused["due_at"], paused["remaining_seconds"]) == ("paused", None, 8 * HOUR)
    assert {"claim_id", "number", "stage", "state", "priority", "assignee", "team", "opened_at", "customer",
            "product"} <= set(late)


def test_a_priority_tie_on_the_deadline_puts_p1_first(session, board, who):
    scope = worklist.person_scope(session, who["coordinator"])
    assert _numbers(board, worklist.worklist(session, scope, now=NOW))[:3] == ["late", "p1_two", "p2_two"]


def test_a_persons_list_is_their_tasks_and_their_teams_unassigned_ones(session, board, who):
    mine = worklist.worklist(session, worklist.person_scope(session, who["coordinator"]), now=NOW)
    assert _numbers(board, mine) == ["late", "p1_two", "p2_two", "triage11", "paused_old", "paused_new"]
    engineer = worklist.worklist(session, worklist.person_scope(session, who["engineer"]), now=NOW)
    assert _numbers(board, engineer) == ["triage10", "triage11", "paused_old", "paused_new"]
    # Someone in no team sees only what is theirs: nothing here.
    assert worklist.worklist(session, worklist.person_scope(session, who["quality"]), now=NOW).total == 0


def test_a_breach_recorded_earlier_stays_first_after_the_deadline_moves(session, board, who):
    # triage10 goes to P1 at 13:00 after 3 h: over the 2 h target, breached for good, even back at P4.
    claim = board.claims["triage10"]
    with at_moment(NOW):
        stages.change_priority(session, claim_id=claim.id, priority="P1", reason="x", author=who["coordinator"])
    with at_moment(NOW + timedelta(minutes=1)):
        stages.change_priority(session, claim_id=claim.id, priority="P4", reason="y", author=who["coordinator"])
    page = worklist.worklist(session, worklist.Scope(team_id=board.team.id), now=NOW + timedelta(minutes=2))
    # Both breached: the one past its deadline longest first (late's 12:30; triage10's deadline is days away).
    assert _numbers(board, page)[:2] == ["late", "triage10"]
    assert all(item["breached"] for item in page.items[:2]) and not page.items[2]["breached"]


def test_closed_tasks_leave_the_list(session, board, who):
    with at_moment(NOW):
        service.transition_claim(session, claim_id=board.claims["late"].id, to="cancelled", reason="duplicate",
                                 author=who["supervisor"], today=TODAY)
    page = worklist.worklist(session, worklist.Scope(team_id=board.team.id), now=NOW)
    assert "late" not in _numbers(board, page)


@pytest.mark.parametrize(("filters", "expected"), [
    (worklist.Filters(breached_only=True), ["late"]),
    (worklist.Filters(priority="P1"), ["late", "p1_two"]),
    (worklist.Filters(state="waiting_customer"), ["paused_old", "paused_new"]),
    (worklist.Filters(stage="triage", priority="P3"), ["triage10", "triage11", "paused_old", "paused_new"]),
    (worklist.Filters(search="teplo"), ["paused_new"]),
    (worklist.Filters(stage="inspection"), []),
])
def test_filters_narrow_the_ranked_list(session, board, filters, expected):
    page = worklist.worklist(session, worklist.Scope(team_id=board.team.id), now=NOW, filters=filters)
    assert (_numbers(board, page), page.total) == (expected, len(expected))


def test_search_finds_a_claim_by_its_number(session, board):
    number = board.claims["triage11"].number
    page = worklist.worklist(session, worklist.Scope(team_id=board.team.id), now=NOW,
                             filters=worklist.Filters(search=number.lower()))
    assert _numbers(board, page) == ["triage11"]


@pytest.mark.parametrize(("kw", "field"), [({"filters": worklist.Filters(stage="lunch")}, "stage"),
                                           ({"filters": worklist.Filters(priority="P9")}, "priority"),
                                           ({"filters": worklist.Filters(state="asleep")}, "state"),
                                           ({"filters": worklist.Filters(search="x" * 101)}, "q"),
                                           ({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
                                           ({"offset": -1}, "offset")])
def test_bad_filters_and_pages_are_refused_naming_the_field(session, board, kw, field):
    with pytest.raises(ValidationError) as caught:
        worklist.worklist(session, worklist.Scope(team_id=board.team.id), now=NOW, **kw)
    assert caught.value.details["field"] == field


def test_pages_follow_the_ranking(session, board):
    scope = worklist.Scope(team_id=board.team.id)
    first = worklist.worklist(session, scope, now=NOW, limit=4)
    second = worklist.worklist(session, scope, now=NOW, limit=4, offset=4)
    assert (first.total, second.total) == (6, 6)
    assert _numbers(board, first) + _numbers(board, second) == [n for n in RANKED if n != "p2_two"]


def test_team_counts_give_each_persons_open_overdue_and_due_today(session, board, who):
    counts = worklist.team_counts(session, board.team, now=NOW)
    # coordinator: late (overdue) and p1_two (due 14:00 today); engineer: triage10 due tomorrow; three unassigned.
    assert counts == [{"user": "coordinator", "open": 2, "overdue": 1, "due_today": 1},
                      {"user": "engineer", "open": 1, "overdue": 0, "due_today": 0},
                      {"user": None, "open": 3, "overdue": 0, "due_today": 0}]


def test_due_today_follows_the_team_calendars_time_zone(session, board, who):
    from serialtrace.warranty.models import BusinessCalendar

    # In Vladivostok (UTC+10) Monday 13:00 UTC is 23:00: 14:00 UTC is already Tuesday there.
    far = BusinessCalendar(name="Vladivostok", timezone="Asia/Vladivostok")
    session.add(far)
    session.flush()
    board.team.calendar_id = far.id
    counts = {c["user"]: c for c in worklist.team_counts(session, board.team, now=NOW)}
    assert counts["coordinator"]["due_today"] == 0


def test_who_sees_which_list(session, board, who):
    assert worklist.choose(session, who["engineer"]).user is who["engineer"]
    assert worklist.choose(session, who["supervisor"], user="engineer").user is who["engineer"]
    assert worklist.choose(session, who["engineer"], team="Returns").team is board.team
    assert worklist.choose(session, who["supervisor"], team="Returns").team is board.team
    with pytest.raises(PermissionDenied):
        worklist.choose(session, who["engineer"], user="coordinator")
    with pytest.raises(PermissionDenied):
        worklist.choose(session, who["quality"], team="Returns")
    with pytest.raises(NotFound) as caught:
        worklist.choose(session, who["supervisor"], team="Nobody")
    assert caught.value.details["field"] == "team"
    with pytest.raises(NotFound) as caught:
        worklist.choose(session, who["supervisor"], user="ghost")
    assert caught.value.details["field"] == "user"
    assert worklist.boards_for(session, who["quality"]) == []
    assert worklist.boards_for(session, who["engineer"]) == worklist.boards_for(session, who["admin"]) == ["Returns"]


def test_the_marker_changes_when_a_claim_moves_or_is_reassigned(session, board, who):
    before = worklist.version(session)
    with at_moment(NOW):
        service.transition_claim(session, claim_id=board.claims["triage11"].id, to="triage",
                                 author=who["coordinator"], today=TODAY)
    session.flush()
    moved = worklist.version(session)
    assert moved != before
    with at_moment(NOW):
        stages.reassign(session, claim_id=board.claims["triage11"].id, reason="on leave", author=who["supervisor"],
                        username="engineer")
    session.flush()
    assert worklist.version(session) != moved
