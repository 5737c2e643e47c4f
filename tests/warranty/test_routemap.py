"""The claim route map: an SVG drawn from the claim transition table, the current state and path taken marked."""

import xml.etree.ElementTree as ET

from serialtrace.warranty.enums import CLAIM_STATE_LABELS, ClaimState
from serialtrace.warranty.routemap import route_map_svg
from serialtrace.warranty.workflow import CLAIM_TRANSITIONS

C = ClaimState
SVG = "{http://www.w3.org/2000/svg}"
PATH = [C.DRAFT, C.REGISTERED, C.TRIAGE, C.REPLACEMENT_SHIPPED, C.PENDING_VERIFICATION]


def _parse(svg):
    root = ET.fromstring(svg)
    states = {g.get("data-state"): g for g in root.iter(f"{SVG}g") if "state" in g.get("class", "").split()}
    edges = {(p.get("data-from"), p.get("data-to")): p for p in root.iter(f"{SVG}path")
             if "edge" in p.get("class", "").split()}
    return root, states, edges


def _classes(element):
    return set(element.get("class").split())


def test_every_state_and_transition_of_the_table_is_drawn():
    root, states, edges = _parse(route_map_svg(C.PENDING_VERIFICATION, PATH))
    assert root.tag == f"{SVG}svg"
    assert set(states) == {s.value for s in ClaimState}
    assert set(edges) == {(s.value, t.value) for s, targets in CLAIM_TRANSITIONS.items() for t in targets}
    assert all(p.get("marker-end") for p in edges.values())
    assert states["triage"].find(f"{SVG}text").text == "triage"


def test_the_current_state_and_the_path_taken_are_marked():
    _, states, edges = _parse(route_map_svg(C.PENDING_VERIFICATION, PATH))
    assert [s for s, g in states.items() if "current" in _classes(g)] == ["pending_verification"]
    assert states["pending_verification"].get("aria-current") == "step"
    assert {s for s, g in states.items() if "taken" in _classes(g)} == {s.value for s in PATH}
    assert {e for e, p in edges.items() if "taken" in _classes(p)} == {
        ("draft", "registered"), ("registered", "triage"), ("triage", "replacement_shipped"),
        ("replacement_shipped", "pending_verification")}


def test_the_current_state_ends_the_path_when_the_path_stops_short():
    _, states, edges = _parse(route_map_svg(C.TRIAGE, [C.DRAFT, C.REGISTERED]))
    assert "current" in _classes(states["triage"]) and "taken" in _classes(edges[("registered", "triage")])
    # A reopened claim passes triage twice: both visits' steps are marked.
    _, _, edges = _parse(route_map_svg(C.TRIAGE, [C.DRAFT, C.REGISTERED, C.TRIAGE, C.AWAITING_RETURN,
                                                   C.IN_INSPECTION, C.DECIDED, C.FULFILLING, C.RESOLVED, C.TRIAGE]))
    assert "taken" in _classes(edges[("resolved", "triage")])
    assert "taken" not in _classes(edges[("closed", "triage")])


def test_labels_come_from_the_label_function_and_are_escaped():
    svg = route_map_svg(C.DRAFT, [], label=lambda state: f"<{state}> & \"co\"")
    _, states, edges = _parse(svg)
    assert states["draft"].find(f"{SVG}text").text == '<draft> & "co"'
    assert "<draft>" not in svg and "&lt;draft&gt; &amp;" in svg
    assert edges[("draft", "registered")].find(f"{SVG}title").text == '<draft> & "co" → <registered> & "co"'
    _, states, _ = _parse(route_map_svg(C.DRAFT, [], label=CLAIM_STATE_LABELS.get))
    assert states["waiting_customer"].find(f"{SVG}text").text == "Waiting for the customer"


def test_the_map_is_drawn_from_the_table_not_by_hand():
    table = {state: set(targets) for state, targets in CLAIM_TRANSITIONS.items()}
    table[C.DECIDED].add(C.CANCELLED)
    table["on_loan"] = {C.RESOLVED}
    table[C.TRIAGE].add("on_loan")
    _, states, edges = _parse(route_map_svg("on_loan", [C.TRIAGE, "on_loan"], transitions=table))
    assert ("decided", "cancelled") in edges and ("triage", "on_loan") in edges and ("on_loan", "resolved") in edges
    assert "current" in _classes(states["on_loan"])
    assert "taken" in _classes(edges[("triage", "on_loan")])
    # The new state gets its own place, not on top of another.
    boxes = {(g.find(f"{SVG}rect").get("x"), g.find(f"{SVG}rect").get("y")) for g in states.values()}
    assert len(boxes) == len(states)


def test_boxes_do_not_overlap_and_fit_the_picture():
    root, states, _ = _parse(route_map_svg(C.DRAFT, []))
    width, height = float(root.get("width")), float(root.get("height"))
    rects = [tuple(float(g.find(f"{SVG}rect").get(k)) for k in ("x", "y", "width", "height")) for g in states.values()]
    for i, (x, y, w, h) in enumerate(rects):
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for x2, y2, w2, h2 in rects[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y
