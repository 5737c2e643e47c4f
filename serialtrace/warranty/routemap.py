"""The claim route map: an SVG drawn on the server from the claim transition table, the path taken highlighted. Pure."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from html import escape

from .enums import ClaimState
from .workflow import CLAIM_TRANSITIONS

C = ClaimState

# Where each state sits (column, row): the usual route along the middle row, waiting for the customer above triage,
# the advance-replacement route below it (billed under settled), cancelled at the bottom left. A state missing here
# goes in an extra row.
LAYOUT: dict[str, tuple[int, int]] = {
    C.WAITING_CUSTOMER: (2, 0),
    C.DRAFT: (0, 1), C.REGISTERED: (1, 1), C.TRIAGE: (2, 1), C.AWAITING_RETURN: (3, 1), C.IN_INSPECTION: (4, 1),
    C.DECIDED: (5, 1), C.FULFILLING: (6, 1), C.RESOLVED: (7, 1), C.CLOSED: (8, 1),
    C.REPLACEMENT_SHIPPED: (3, 2), C.PENDING_VERIFICATION: (4, 2), C.SETTLED: (5, 2),
    C.CANCELLED: (1, 3), C.BILLED: (5, 3),
}

_COLUMN, _ROW, _WIDTH, _HEIGHT, _MARGIN = 150, 90, 128, 40, 20
_BLUE, _GREY = "#1f6feb", "#8a8f98"


def _positions(states: Iterable[str]) -> dict[str, tuple[float, float]]:
    """Centre of each state's box in pixels."""
    placed = {state: LAYOUT[state] for state in states if state in LAYOUT}
    extra_row = max((row for _, row in LAYOUT.values()), default=0) + 1
    for column, state in enumerate(s for s in states if s not in LAYOUT):
        placed[state] = (column, extra_row)
    return {state: (_MARGIN + column * _COLUMN + _WIDTH / 2, _MARGIN + row * _ROW + _HEIGHT / 2)
            for state, (column, row) in placed.items()}


def _border(centre: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from `centre` to `towards` leaves the state's box, so arrows end at the box, not inside."""
    (x, y), (tx, ty) = centre, towards
    dx, dy = tx - x, ty - y
    scale = min((_WIDTH / 2) / abs(dx) if dx else math.inf, (_HEIGHT / 2) / abs(dy) if dy else math.inf)
    return x + dx * scale, y + dy * scale


def _edge_path(start: tuple[float, float], end: tuple[float, float], *, both_ways: bool = False) -> str:
    """A straight line between neighbours; longer edges bow sideways (back edges the other way) to miss boxes, and
    the two arrows between a pair of neighbours that go both ways run side by side."""
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1)
    if both_ways and length <= _COLUMN * 1.2:
        nx, ny = -(y2 - y1) / length * 6, (x2 - x1) / length * 6
        (x1, y1), (x2, y2) = start, end = (x1 + nx, y1 + ny), (x2 + nx, y2 + ny)
    bow = 0.0 if length <= _COLUMN * 1.2 else min(0.25 * length, 70.0)
    # Perpendicular offset of the control point: left of the direction of travel, so A->B and B->A part ways.
    cx, cy = (x1 + x2) / 2 - (y2 - y1) / length * bow, (y1 + y2) / 2 + (x2 - x1) / length * bow
    a, b = _border(start, (cx, cy) if bow else end), _border(end, (cx, cy) if bow else start)
    if not bow:
        return f"M {a[0]:.1f} {a[1]:.1f} L {b[0]:.1f} {b[1]:.1f}"
    return f"M {a[0]:.1f} {a[1]:.1f} Q {cx:.1f} {cy:.1f} {b[0]:.1f} {b[1]:.1f}"


def route_map_svg(current: str, path_taken: Iterable[str], *, label: Callable[[str], str] = str,
                  transitions: Mapping[str, Iterable[str]] = CLAIM_TRANSITIONS) -> str:
    """The claim machine of `transitions` as an SVG document: every state a box, every transition an arrow; the
    `current` state and the states and steps of `path_taken` (states in the order visited) are highlighted. `label`
    names a state on the map (the page passes its translation)."""
    states = [str(s) for s in transitions]
    for targets in transitions.values():
        states += [str(t) for t in targets if str(t) not in states]
    path = [str(s) for s in path_taken]
    if current is not None and (not path or path[-1] != str(current)):
        path.append(str(current))
    taken_steps = set(zip(path, path[1:], strict=False))
    visited = set(path)
    where = _positions(states)
    width = max(x for x, _ in where.values()) + _WIDTH / 2 + _MARGIN
    height = max(y for _, y in where.values()) + _HEIGHT / 2 + _MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map" role="img" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}">',
        '<defs>',
        *(f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" '
          f'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
          f'fill="{colour}"/></marker>' for name, colour in (("route-arrow", _GREY), ("route-arrow-taken", _BLUE))),
        '</defs>',
    ]
    # Edges first so the boxes sit on top of them.
    for source, targets in transitions.items():
        for target in sorted(str(t) for t in targets):
            taken = (str(source), target) in taken_steps
            both_ways = str(source) in {str(t) for t in transitions.get(target, ())}
            css = "edge taken" if taken else "edge"
            stroke, marker = (_BLUE, "route-arrow-taken") if taken else (_GREY, "route-arrow")
            parts.append(
                f'<path class="{css}" data-from="{escape(str(source))}" data-to="{escape(target)}" '
                f'd="{_edge_path(where[str(source)], where[target], both_ways=both_ways)}" '
                f'fill="none" stroke="{stroke}" '
                f'stroke-width="{2.5 if taken else 1.2}" marker-end="url(#{marker})">'
                f'<title>{escape(str(label(str(source))))} → {escape(str(label(target)))}</title></path>')
    for state in states:
        x, y = where[state]
        classes = ["state"] + (["taken"] if state in visited else []) + (["current"] if state == str(current) else [])
        fill, stroke = (("#1f6feb", "#1f6feb") if state == str(current) else
                        ("#dbe9ff", "#1f6feb") if state in visited else ("#ffffff", "#8a8f98"))
        text_fill = "#ffffff" if state == str(current) else "#1b1f24"
        current_attr = ' aria-current="step"' if state == str(current) else ""
        parts.append(
            f'<g class="{" ".join(classes)}" data-state="{escape(state)}"{current_attr}>'
            f'<rect x="{x - _WIDTH / 2:.1f}" y="{y - _HEIGHT / 2:.1f}" width="{_WIDTH}" height="{_HEIGHT}" rx="8" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{2 if state in visited else 1}"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="12" fill="{text_fill}">'
            f'{escape(str(label(state)))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
