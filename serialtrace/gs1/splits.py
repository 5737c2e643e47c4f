"""Readings of an element string whose separators were dropped: the splits into AIs that validate.

Without GS between fields a variable-length value may end at any of up to 90 places, so the
splits of a long string can be exponentially many. The search avoids that blow-up:

- one forward and one backward pass over the positions find where an element can start and
  still reach the end through valid values; the search steps only onto such positions. Each
  distinct candidate value is checked once, and lengths without gaps are ranges, so the passes
  cost about one unit of work per position;
- an AI that occurs again must repeat its value (GS1 repeats), so its split is forced, and so
  is every element after it whose AI was read before: such a walk is one move, and a block of
  elements the data repeats is jumped with string comparisons, not stepped element by element;
- whether the rest of the data can be read after a prefix depends on the prefix only through a
  small summary: the position, the requirements still open, and the prefix AIs that something
  later in the data could repeat, exclude or need. A summary that led to no reading is
  remembered and never searched again, and a requirement nothing later can meet ends the branch.

Repeats keep one hard case: data in which many different AIs may repeat, each value free to
swallow the next elements, is a kind of pattern matching with variables, exponential in the
number of such AIs. A work limit and a deadline end that search with SearchTooComplex.

Readings come in the order "longest value first", as they always have, at most `limit` of them.
Everything is loops over explicit stacks, so the depth of the data never meets Python's
recursion limit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from functools import cache, lru_cache
from itertools import chain

from .charsets import CHARSET
from .checkdigit import ensure_check_digit, is_valid_check_digit
from .errors import GS1Error, SearchTooComplex
from .rules import _VERIFIED, SIGNED_KEY_LENGTHS, check_associations, remember_verified
from .table import AI_LENGTH, TABLE, AISpec, matches

# The clock is read once per this many steps: cheap, and fine-grained enough for a budget in ms.
_CLOCK_EVERY = 256

Pair = tuple[str, str]
# An open requirement: groups of rule tokens ("01", "31nn"); it is met once every token of any
# one group is present. Groups shrink as the AIs they name are read.
Requirement = frozenset[frozenset[str]]


@cache
def _ais_by_prefix() -> dict[tuple[int, str], tuple[str, ...]]:
    index: dict[tuple[int, str], list[str]] = {}
    for ai in TABLE:
        for cut in range(len(ai) + 1):
            index.setdefault((len(ai), ai[:cut]), []).append(ai)
    return {key: tuple(ais) for key, ais in index.items()}


def _token_ais(token: str) -> tuple[str, ...]:
    # "01" names one AI, "310n" six, "31nn" sixty: the table AIs of that length and prefix.
    return _ais_by_prefix().get((len(token), token.rstrip("n")), ())


@cache
def _relations() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Per AI: the AIs it cannot be used with, and every AI whose verdict its presence can change."""
    conflicts: dict[str, set[str]] = {ai: set() for ai in TABLE}
    interacts: dict[str, set[str]] = {ai: {ai} for ai in TABLE}
    for ai, spec in TABLE.items():
        for token in spec.excludes:
            for other in _token_ais(token):
                # A pattern such as "310n" excludes the other decimal positions, not the AI itself.
                if other != ai or "n" not in token:
                    conflicts[ai].add(other)
                    conflicts[other].add(ai)
        for group in spec.requires:
            for token in group:
                for other in _token_ais(token):
                    interacts[other].add(ai)
    for key in SIGNED_KEY_LENGTHS:
        interacts[key].add("8030")
        interacts["8030"].add(key)
    for ai, others in conflicts.items():
        interacts[ai] |= others
    return ({ai: frozenset(s) for ai, s in conflicts.items()},
            {ai: frozenset(s) for ai, s in interacts.items()})


@cache
def _requirement(ai: str) -> Requirement | None:
    groups = TABLE[ai].requires
    return frozenset(frozenset(g) for g in groups) if groups else None


@lru_cache(maxsize=4096)
def _reduce(requirement: Requirement, ai: str) -> Requirement | None:
    """The requirement once ai is present: None when that meets it."""
    groups = set()
    for group in requirement:
        rest = frozenset(t for t in group if not matches(t, ai))
        if not rest:
            return None
        groups.add(rest)
    return frozenset(groups)


@cache
def _shape(ai: str) -> tuple[str, bool]:
    # The characters any value of the AI is made of, and whether those plus the length bounds
    # are the whole format (one component, no check digit, date or code list).
    spec = TABLE[ai]
    kinds = "".join(sorted({c.kind for c in spec.components}))
    simple = len(spec.components) == 1 and not spec.components[0].optional and not spec.checks
    return kinds, simple


@cache
def _stretch_pattern(kinds: str) -> re.Pattern[str]:
    allowed = frozenset().union(*(CHARSET[k] for k in kinds))
    return re.compile("[" + "".join(re.escape(c) for c in sorted(allowed)) + "]+")


def _value_ok(spec: AISpec, value: str) -> bool:
    # rules.check_value without building an error message for each of the many values that fail.
    m = spec.pattern.fullmatch(value)
    if m is None:
        return False
    if spec.checks:
        pair = spec.ai + value
        if pair not in _VERIFIED:
            try:
                for index, check in spec.checks:
                    part = m.group(index)
                    if part is None:
                        continue
                    # Most values tried at a key's position fail the check digit: answered without building the
                    # error the check raises (a third of the worst scans' time went to those messages).
                    if check is ensure_check_digit:
                        if not is_valid_check_digit(part):
                            return False
                    else:
                        check(spec.ai, part)
            except GS1Error:
                return False
            remember_verified(pair)
    return True


def _too_complex() -> SearchTooComplex:
    return SearchTooComplex("GS1 data without separators is too complex to read in the time a scan may take")


class _Budget:
    """Counts work (one value checked or one element tried) against a limit and a monotonic deadline."""

    __slots__ = ("left", "deadline", "tick")

    def __init__(self, work: int | None, deadline: float | None) -> None:
        self.left = work if work is not None else -1
        self.deadline = deadline
        self.tick = 0

    def spend(self, units: int = 1) -> None:
        """Raise SearchTooComplex once the work or the time is used up."""
        if self.left >= 0:
            self.left -= units
            if self.left < 0:
                raise _too_complex()
        self.tick += units
        if self.tick >= _CLOCK_EVERY:
            self.tick = 0
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise _too_complex()


class _Graph:
    """Where an element can start and still reach the end of data, and the values it can take there."""

    def __init__(self, data: str, budget: _Budget) -> None:
        n = len(data)
        self.data = data
        self.n = n
        self._runs: dict[str, list[int]] = {}
        # Per position: (AI, where its value starts, the ends of its valid values, longest first).
        self.at: list[tuple[str, int, range | tuple[int, ...]] | None] = [None] * n
        # Forward: which positions the start reaches. A variable-length value reaches a run of
        # ends, recorded as +1/-1 at the run's edges so each position costs O(1).
        marked = bytearray(n + 1)
        marked[0] = 1
        runs_open = [0] * (n + 2)
        covering = 0
        # The valid lengths of one AI's candidate text, relative to where its value starts: data
        # in which the same element recurs checks each distinct candidate once.
        self._checked: dict[tuple[str, str], range | tuple[int, ...]] = {}
        checked = self._checked
        # Per AI met: (spec, the run lengths of its characters, its length bounds, simple); the loop
        # below runs once per position of the data, so what does not depend on the position is
        # looked up once.
        shapes: dict[str, tuple[AISpec, list[int], int, int, bool] | None] = {}
        prefix_length = AI_LENGTH.get
        at = self.at
        unchecked = 0  # simple values taken since the budget was last told
        for i in range(n):
            covering += runs_open[i]
            if not (covering or marked[i]):
                continue
            size = prefix_length(data[i:i + 2], 0)
            if not size:
                continue
            ai = data[i:i + size]
            if ai in shapes:
                shape = shapes[ai]
            else:
                shape = shapes[ai] = self._shape_of(ai)
            if shape is None:
                continue
            spec, run, hi, lo, simple = shape
            start = i + size
            longest = run[start]
            if lo < hi:
                if longest < hi:
                    hi = longest
                    if hi < lo:
                        continue
            elif longest < hi:
                continue
            if simple:
                unchecked += 1
                if unchecked >= _CLOCK_EVERY:
                    budget.spend(unchecked)
                    unchecked = 0
                at[i] = (ai, start, range(start + hi, start + lo - 1, -1))
                runs_open[start + lo] += 1
                runs_open[start + hi + 1] -= 1
                continue
            sizes = checked.get((ai, data[start:start + hi]))
            if sizes is None:
                sizes = self._check(spec, start, hi, lo, budget)
            elif type(sizes) is range:
                unchecked += 1
            else:
                budget.spend(len(sizes))  # one per end to mark
            if type(sizes) is range:
                at[i] = (ai, start, range(start + sizes[0], start + sizes[-1] - 1, -1))
                runs_open[start + sizes[-1]] += 1
                runs_open[start + sizes[0] + 1] -= 1
            elif sizes:
                ends = tuple(start + size for size in sizes)
                at[i] = (ai, start, ends)
                for end in ends:
                    marked[end] = 1
        budget.spend(unchecked)
        covering += runs_open[n]
        # Backward: which of those positions lead to the end; alive_from[j] counts them from j on.
        alive = bytearray(n + 1)
        alive[n] = 1 if (covering or marked[n]) else 0
        alive_from = [0] * (n + 2)
        alive_from[n] = alive[n]
        # The last position at which each AI can start on a way to the end: the first met going back.
        last: dict[str, int] = {}
        for i in range(n - 1, -1, -1):
            entry = at[i]
            if entry is None:
                alive_from[i] = alive_from[i + 1]
                continue
            span = entry[2]
            if isinstance(span, range):
                ok = alive_from[span[-1]] > alive_from[span[0] + 1]
            else:
                ok = False
                for end in span:
                    if alive[end]:
                        ok = True
                        break
            if ok:
                alive[i] = 1
                alive_from[i] = alive_from[i + 1] + 1
                if entry[0] not in last:
                    last[entry[0]] = i
            else:
                alive_from[i] = alive_from[i + 1]
        self.alive = alive
        self.last = last
        # Per AI in the data: the last position at which an AI its presence matters to can start.
        interacts = _relations()[1]
        self.horizon = {ai: max((i for b, i in last.items() if b in interacts[ai]), default=-1) for ai in last}
        self._token_last: dict[str, list[tuple[int, str]]] = {}
        self._requirement_last: dict[Requirement, int] = {}

    def _run(self, kinds: str) -> list[int]:
        """Per position: how many characters from there on are of the given kinds."""
        run = self._runs.get(kinds)
        if run is None:
            run = [0] * (self.n + 1)
            # Filled one stretch at a time: the regular expression and the slice do the per-character work.
            for stretch in _stretch_pattern(kinds).finditer(self.data):
                start, end = stretch.span()
                run[start:end] = range(end - start, 0, -1)
            self._runs[kinds] = run
        return run

    def _shape_of(self, ai: str) -> tuple[AISpec, list[int], int, int, bool] | None:
        spec = TABLE.get(ai)
        if spec is None:
            return None
        kinds, simple = _shape(ai)
        # A value without a separator after it has its full length; only one that needs one may end early.
        lo = spec.min_length if spec.separator_required else spec.max_length
        return spec, self._run(kinds), spec.max_length, lo, simple

    def _check(self, spec: AISpec, start: int, hi: int, lo: int, budget: _Budget) -> range | tuple[int, ...]:
        """The valid lengths, longest first, of spec's value from start (hi the longest the characters allow).

        Lengths without a gap come back as a range, which the passes over positions handle in O(1).
        """
        text = self.data[start:start + hi]
        budget.spend(hi - lo + 1)
        sizes: range | tuple[int, ...] = tuple(
            size for size in range(hi, lo - 1, -1) if _value_ok(spec, text[:size]))
        if len(sizes) > 1 and sizes[0] - sizes[-1] == len(sizes) - 1:
            sizes = range(sizes[0], sizes[-1] - 1, -1)
        self._checked[(spec.ai, text)] = sizes
        return sizes

    def moves(self, i: int, values: dict[str, str],
              budget: _Budget) -> Iterator[tuple[str, int, str, list[Pair] | None]]:
        """(AI, end, value, None) for each element that can start at i, longest value first.

        An AI read before must carry the same value again, so from a position where such an AI
        starts the next elements are forced until one whose AI is new: that whole walk is one
        move, (AI, end, value, the elements walked), as the search would have stepped it.
        """
        entry = self.at[i]
        if entry is None:
            return iter(())
        ai, start, ends = entry
        if ai in values:
            walked = self._walk(i, values, budget)
            if walked is None:
                return iter(())
            end, pairs = walked
            return iter(((ai, end, values[ai], pairs),))
        return self._all_moves(ai, start, ends)

    def _walk(self, i: int, values: dict[str, str], budget: _Budget) -> tuple[int, list[Pair]] | None:
        """Where the forced elements from i lead (a position on a way to the end) and those elements."""
        at, data, n = self.at, self.data, self.n
        pairs: list[Pair] = []
        first = at[i][0]  # type: ignore[index]  # moves() found an element at i
        block = ""
        p = i
        while p < n:
            entry = at[p]
            if entry is None:
                break
            ai, start, ends = entry
            value = values.get(ai)
            if value is None:
                break
            if ai == first and p > i:
                # Back at the walk's first element: the data from here repeats what was walked
                # as long as its text does, and forced steps depend on the text only, so each
                # copy of that block reads as the same elements (valid where they were).
                if not block:
                    block, elements = data[i:p], pairs[:]
                times = self.copies(block, p)
                budget.spend(2)  # a few comparisons of long strings: about two elements' time
                if times:
                    pairs.extend(elements * times)
                    p += times * len(block)
                    continue
            budget.spend()
            end = start + len(value)
            if not (end in ends and data.startswith(value, start)):
                return None
            pairs.append((ai, value))
            p = end
        # Every element walked ends where the next starts, so the walk is on a way to the end
        # iff its last position is.
        return (p, pairs) if self.alive[p] else None

    def copies(self, block: str, at: int) -> int:
        """How many copies of block follow one another from position at: galloping, then bisecting."""
        data = self.data
        if not data.startswith(block, at):
            return 0
        # Data made of one repeated block usually repeats it to its end: one comparison says so.
        most = (self.n - at) // len(block)
        if data.startswith(block * most, at):
            return most
        found = 1
        while data.startswith(block * found, at + found * len(block)):
            found *= 2
        # found copies are there, found more are not: bisect how many of those are.
        at += found * len(block)
        low, high = 0, found
        while high - low > 1:
            middle = (low + high) // 2
            if data.startswith(block * middle, at):
                low = middle
            else:
                high = middle
        return found + low

    def _all_moves(self, ai: str, start: int,
                   ends: range | tuple[int, ...]) -> Iterator[tuple[str, int, str, list[Pair] | None]]:
        alive, data = self.alive, self.data
        for end in ends:
            if alive[end]:
                yield ai, end, data[start:end], None

    def token_last(self, token: str) -> list[tuple[int, str]]:
        """(last position, AI) of the AIs in the data that a rule token names, latest first."""
        found = self._token_last.get(token)
        if found is None:
            found = sorted(((i, ai) for ai, i in self.last.items() if matches(token, ai)), reverse=True)
            self._token_last[token] = found
        return found

    def requirement_last(self, requirement: Requirement) -> int:
        """The last position from which the AIs of some group of the requirement can all still come."""
        found = self._requirement_last.get(requirement)
        if found is None:
            found = max((min((self._latest(t) for t in group), default=-1) for group in requirement),
                        default=-1)
            self._requirement_last[requirement] = found
        return found

    def _latest(self, token: str) -> int:
        latest = self.token_last(token)
        return latest[0][0] if latest else -1


def split_readings(data: str, *, limit: int, max_work: int | None = None,
                   deadline: float | None = None) -> list[list[Pair]]:
    """Every split of data (no separators) into AIs that validate, longest values first; at most limit.

    Raises SearchTooComplex when it would take more than `max_work` units (one value checked or
    one element tried), or when time.monotonic() passes `deadline` first.
    """
    if not data:
        return []
    budget = _Budget(max_work, deadline)
    graph = _Graph(data, budget)
    if not graph.alive[0]:
        return []
    return _search(graph, limit, budget)


def _search(graph: _Graph, limit: int, budget: _Budget) -> list[list[Pair]]:
    n = graph.n
    conflicts = _relations()[0]
    found: list[list[Pair]] = []
    path: list[Pair] = []
    # The AIs read so far and their values. A move either reads an AI new to the path or is a
    # walk of forced elements whose AIs are all here already, so undoing a move is popping its
    # elements and, for a new AI, forgetting it.
    values: dict[str, str] = {}
    # Memo keys hold only numbers, strings and tuples of them, which the garbage collector stops
    # tracking: thousands of them must not make a full collection of the server's heap due.
    dead: set[tuple] = set()
    requirement_ids: dict[frozenset, int] = {}
    # Frames: moves left, memo key (position, open requirements, summary), readings found
    # before, open requirements, and the move into the frame: its new AI (None for a walk) and
    # how many elements it added to the path.
    stack: list[tuple] = [(graph.moves(0, values, budget), None, 0, frozenset(), None, 0)]

    while stack:
        moves, key, before, pending, new_ai, added = stack[-1]
        move = next(moves, None)
        if move is None:
            stack.pop()
            if key is not None and len(found) == before:
                dead.add(key)
            if added:
                del path[-added:]
                if new_ai is not None:
                    del values[new_ai]
            continue
        budget.spend()
        ai, end, value, walked = move
        if walked is not None:
            opened, fresh = pending, ()  # the same AIs and values again add nothing
        else:
            if ai in conflicts[ai] or not conflicts[ai].isdisjoint(values) or _breaks_signature(ai, value, values):
                continue
            opened = _open(pending, ai, values)
            fresh = opened - pending
        if end == n:
            if not opened:
                reading = path + walked if walked is not None else path + [(ai, value)]
                try:
                    check_associations(reading)  # the rules themselves have the last word
                except GS1Error:
                    continue
                found.append(reading)
                if len(found) >= limit:
                    return found
            continue
        if opened and not _feasible(graph, opened, fresh, end, values, ai):
            continue
        if walked is not None:
            path.extend(walked)
            added, new_ai = len(walked), None
        else:
            path.append((ai, value))
            values[ai] = value
            added, new_ai = 1, ai
        child = (end, requirement_ids.setdefault(opened, len(requirement_ids)), _summary(graph, end, values))
        if child in dead:
            del path[-added:]
            if new_ai is not None:
                del values[new_ai]
            continue
        stack.append((graph.moves(end, values, budget), child, len(found), opened, new_ai, added))
    return found


def _breaks_signature(ai: str, value: str, values: dict[str, str]) -> bool:
    if ai == "8030":
        return any(k in values and len(values[k]) <= size for k, size in SIGNED_KEY_LENGTHS.items())
    size = SIGNED_KEY_LENGTHS.get(ai)
    return size is not None and len(value) <= size and "8030" in values


def _open(pending: frozenset, ai: str, values: dict[str, str]) -> frozenset:
    # The requirements still open once ai joins the AIs in values.
    result = set()
    for requirement in pending:
        left = _reduce(requirement, ai)
        if left is not None:
            result.add(left)
    own = _requirement(ai)
    if own is not None:
        for other in chain(values, (ai,)):
            own = _reduce(own, other)
            if own is None:
                break
        else:
            result.add(own)
    return frozenset(result)


def _feasible(graph: _Graph, opened: frozenset, fresh: frozenset | tuple, end: int, values: dict[str, str],
              ai: str) -> bool:
    # An open requirement needs a group whose AIs can all still come after `end`; without one,
    # every reading from here fails. Requirements opened or narrowed by this element are also
    # checked against exclusions by the AIs already read (once: that check costs more).
    for requirement in opened:
        if graph.requirement_last(requirement) < end:
            return False
    if not fresh:
        return True
    conflicts = _relations()[0]

    def available(token: str) -> bool:
        for last, other in graph.token_last(token):
            if last < end:
                return False
            if ai not in conflicts[other] and conflicts[other].isdisjoint(values):
                return True
        return False

    return all(any(all(available(t) for t in group) for group in requirement) for requirement in fresh)


def _summary(graph: _Graph, end: int, values: dict[str, str]) -> tuple:
    # The prefix AIs that matter after `end`: something that can still come could repeat them
    # (value needed), exclude them, or need them; signed keys keep their value for (8030).
    last, horizon = graph.last, graph.horizon
    items: list[tuple[str, str | None]] = []
    for p, v in values.items():
        if horizon[p] >= end:
            if last[p] >= end or p in SIGNED_KEY_LENGTHS:
                items.append((p, v))
            else:
                items.append((p, None))
    items.sort()
    return tuple(items)
