"""GET /api/v1/worklist and the worklist pages: who sees which list, the ranking and counts over HTTP, the change
marker, the start page of coordinators and engineers."""

from __future__ import annotations

import pytest

from serialtrace.columns import at_moment
from serialtrace.warranty import service

from ..warranty.worklist_data import NOW, RANKED, TODAY, build
from .conftest import PASSWORD, csrf_from


@pytest.fixture
def board(session, make_batch, users):
    made = build(session, make_batch, users)
    session.commit()
    return made


def _names(board, items) -> list[str]:
    names = {c.number: name for name, c in board.claims.items()}
    return [names[item["number"]] for item in items]


def _get(api, role, url):
    with at_moment(NOW):
        return api(role).get(url)


def test_my_worklist_is_ranked_with_the_clock_figures(api, board):
    resp = _get(api, "coordinator", "/api/v1/worklist")
    assert resp.status_code == 200, resp.json
    assert _names(board, resp.json["items"]) == ["late", "p1_two", "p2_two", "triage11", "paused_old", "paused_new"]
    first = resp.json["items"][0]
    assert (first["breached"], first["remaining_seconds"], first["priority"]) == (True, -1800.0, "P1")
    assert resp.json["total"] == 6 and "counts" not in resp.json


def test_a_team_board_has_each_persons_counts(api, board):
    resp = _get(api, "supervisor", "/api/v1/worklist?team=Returns")
    assert resp.status_code == 200, resp.json
    assert _names(board, resp.json["items"]) == [n for n in RANKED if n != "p2_two"]
    assert resp.json["counts"][0] == {"user": "coordinator", "open": 2, "overdue": 1, "due_today": 1}


def test_filters_and_pages_over_http(api, board):
    resp = _get(api, "supervisor", "/api/v1/worklist?team=Returns&breached=true")
    assert _names(board, resp.json["items"]) == ["late"]
    resp = _get(api, "supervisor", "/api/v1/worklist?team=Returns&priority=P3&limit=2&offset=1")
    assert (_names(board, resp.json["items"]), resp.json["total"]) == (["triage11", "paused_old"], 4)
    resp = _get(api, "supervisor", "/api/v1/worklist?team=Returns&q=Teplo")
    assert _names(board, resp.json["items"]) == ["paused_new"]


@pytest.mark.parametrize(("query", "field"), [("stage=lunch", "stage"), ("limit=500", "limit"),
                                              ("priority=P9", "priority"), ("offset=-2", "offset")])
def test_bad_queries_are_422_naming_the_field(api, board, query, field):
    resp = _get(api, "coordinator", f"/api/v1/worklist?{query}")
    assert resp.status_code == 422 and resp.json["details"]["field"] == field


def test_only_supervisors_read_another_persons_list(api, board):
    assert _names(board, _get(api, "supervisor", "/api/v1/worklist?user=engineer").json["items"]) == [
        "triage10", "triage11", "paused_old", "paused_new"]
    refused = _get(api, "engineer", "/api/v1/worklist?user=coordinator")
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    # One's own name is one's own list.
    assert _get(api, "engineer", "/api/v1/worklist?user=engineer").status_code == 200
    assert _get(api, "supervisor", "/api/v1/worklist?user=ghost").status_code == 404


def test_a_team_board_is_for_its_members_and_supervisors(api, board):
    assert _get(api, "engineer", "/api/v1/worklist?team=Returns").status_code == 200
    assert _get(api, "quality", "/api/v1/worklist?team=Returns").status_code == 403
    assert _get(api, "production", "/api/v1/worklist").status_code == 403
    assert _get(api, "supervisor", "/api/v1/worklist?team=Nobody").status_code == 404


def test_the_version_changes_when_a_claim_moves(api, board, session, users):
    before = api("engineer").get("/api/v1/worklist/version").json["version"]
    assert api("engineer").get("/api/v1/worklist/version").json["version"] == before
    with at_moment(NOW):
        service.transition_claim(session, claim_id=board.claims["triage11"].id, to="triage",
                                 author=users["coordinator"], today=TODAY)
    session.commit()
    assert api("engineer").get("/api/v1/worklist/version").json["version"] != before


def test_the_worklist_page_shows_the_ranked_list_in_words(login, board):
    client = login("coordinator")
    with at_moment(NOW):
        html = client.get("/worklist").get_data(as_text=True)
    assert "My worklist" in html and 'id="worklist-live"' in html and "worklist.js" in html
    assert html.index(board.claims["late"].number) < html.index(board.claims["p1_two"].number)
    assert "overdue by 30 min" in html and "1 h left" in html and "paused, 8 h left" in html
    assert 'class="badge overdue">Breached' in html


def test_the_fragment_is_the_live_part_only(login, board):
    with at_moment(NOW):
        html = login("coordinator").get("/worklist?fragment=1&priority=P1").get_data(as_text=True)
    assert "<html" not in html and 'id="worklist-live"' in html
    assert board.claims["late"].number in html and board.claims["triage11"].number not in html


def test_the_team_board_page_has_the_counts(login, board):
    with at_moment(NOW):
        html = login("supervisor").get("/teams/Returns/board").get_data(as_text=True)
    assert "Team board: Returns" in html and 'id="worklist-counts"' in html and "unassigned" in html
    with at_moment(NOW):
        assert login("quality").get("/teams/Returns/board").status_code == 403
        assert login("engineer").get("/worklist?user=coordinator").status_code == 403


def test_an_empty_list_says_so(login, board):
    html = login("quality").get("/worklist").get_data(as_text=True)
    assert "Nothing to do: no open tasks here." in html
    html = login("coordinator").get("/worklist?stage=inspection").get_data(as_text=True)
    assert "No open task matches these filters." in html


@pytest.mark.parametrize(("role", "start"), [("coordinator", "/worklist"), ("engineer", "/worklist"),
                                             ("warehouse", "/station"), ("supervisor", "/station")])
def test_coordinators_and_engineers_start_at_their_worklist(app, users, role, start):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    resp = client.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    landing = client.get(resp.headers["Location"])
    assert landing.status_code == 302 and landing.headers["Location"] == start


@pytest.mark.parametrize("query", ["q=%00", "team=%00", "user=a%00b", "q=" + "x" * 101])
def test_text_the_database_cannot_hold_is_422(api, board, query):
    resp = _get(api, "supervisor", f"/api/v1/worklist?{query}")
    assert resp.status_code == 422, resp.json


def test_the_page_refuses_a_bad_page_number(login, board):
    assert login("coordinator").get("/worklist?page=x").status_code == 422
    assert login("coordinator").get("/worklist?q=%00").status_code == 422
