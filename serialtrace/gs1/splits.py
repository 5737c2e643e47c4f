"""Readings of an element string whose separators were dropped: the splits into AIs that validate.

Without GS between fields a variable-length value may end at any of up to 90 places, so the
splits of a long string can be exponentially many. The search avoids that blow-up:

- one forward and one backward pass over the positions find where an element can start and
  still reach the end through valid values; the search steps only onto such positions;
- an AI that occurs again must repeat its value (GS1 repeats), so its split is forced;
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
        for i in range(n):
            covering += runs_open[i]
            if not (covering or marked[i]):
                continue
            size = AI_LENGTH.get(data[i:i + 2], 0)
            spec = TABLE.get(data[i:i + size]) if size else None
            if spec is None:
                continue
            ends = self._ends(spec, i + size, budget)
            if not ends:
                continue
            self.at[i] = (spec.ai, i + size, ends)
            if type(ends) is range:
                runs_open[ends[-1]] += 1
                runs_open[ends[0] + 1] -= 1
            else:
                for end in ends:
                    marked[end] = 1
        covering += runs_open[n]
        # Backward: which of those positions lead to the end; alive_from[j] counts them from j on.
        alive = bytearray(n + 1)
        alive[n] = 1 if (covering or marked[n]) else 0
        alive_from = [0] * (n + 2)
        alive_from[n] = alive[n]
        for i in range(n - 1, -1, -1):
            entry = self.at[i]
            ok = 0
            if entry is not None:
                ends = entry[2]
                if type(ends) is range:
                    ok = alive_from[ends[-1]] > alive_from[ends[0] + 1]
                else:
                    ok = any(alive[e] for e in ends)
            alive[i] = ok
            alive_from[i] = alive_from[i + 1] + ok
        self.alive = alive
        # The last position at which each AI can start on a way to the end.
        self.last: dict[str, int] = {}
        for i, entry in enumerate(self.at):
            if entry is not None and alive[i]:
                self.last[entry[0]] = i
        # Per AI in the data: the last position at which an AI its presence matters to can start.
        interacts = _relations()[1]
        last = self.last
        self.horizon = {ai: max((i for b, i in last.items() if b in interacts[ai]), default=-1) for ai in last}
        self._token_last: dict[str, list[tuple[int, str]]] = {}
        self._requirement_last: dict[Requirement, int] = {}

    def _run(self, kinds: str) -> list[int]:
        run = self._runs.get(kinds)
        if run is None:
            allowed = frozenset().union(*(CHARSET[k] for k in kinds))
            data = self.data
            run = [0] * (self.n + 1)
            count = 0
            for j in range(self.n - 1, -1, -1):
                count = count + 1 if data[j] in allowed else 0
                run[j] = count
            self._runs[kinds] = run
        return run

    def _ends(self, spec: AISpec, start: int, budget: _Budget) -> range | tuple[int, ...] | None:
        kinds, simple = _shape(spec.ai)
        longest = self._run(kinds)[start]
        if spec.separator_required:
            hi, lo = min(spec.max_length, longest), spec.min_length
        else:
            hi = lo = spec.max_length
            if longest < hi:
                return None
        if hi < lo:
            return None
        if simple:
            budget.spend()
            return range(start + hi, start + lo - 1, -1)
        budget.spend(hi - lo + 1)
        data = self.data
        ends = tuple(start + size for size in range(hi, lo - 1, -1) if _value_ok(spec, data[start:start + size]))
        return ends or None

    def moves(self, i: int, values: dict[str, str]) -> Iterator[tuple[str, int, str]]:
        """(AI, end, value) for each element that can start at i, longest value first."""
        entry = self.at[i]
        if entry is None:
            return iter(())
        ai, start, ends = entry
        if ai in values:
            # A repeated AI must carry the same value: one split at most.
            value = values[ai]
            end = start + len(value)
            if end in ends and self.alive[end] and self.data[start:end] == value:
                return iter(((ai, end, value),))
            return iter(())
        return self._all_moves(ai, start, ends)

    def _all_moves(self, ai: str, start: int, ends: range | tuple[int, ...]) -> Iterator[tuple[str, int, str]]:
        alive, data = self.alive, self.data
        for end in ends:
            if alive[end]:
                yield ai, end, data[start:end]

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
    values: dict[str, str] = {}
    counts: dict[str, int] = {}
    # Memo keys hold only numbers, strings and tuples of them, which the garbage collector stops
    # tracking: thousands of them must not make a full collection of the server's heap due.
    dead: set[tuple] = set()
    requirement_ids: dict[frozenset, int] = {}
    # Frames: moves left, memo key (position, open requirements, summary), readings found
    # before, open requirements, summary of the prefix and the position where it next changes.
    stack: list[tuple] = [(graph.moves(0, values), None, 0, frozenset(), (), n)]

    def undo() -> None:
        ai, _ = path.pop()
        left = counts[ai] - 1
        if left:
            counts[ai] = left
        else:
            del counts[ai]
            del values[ai]

    while stack:
        moves, key, before, pending, summary, change = stack[-1]
        move = next(moves, None)
        if move is None:
            stack.pop()
            if key is not None and len(found) == before:
                dead.add(key)
            if stack:
                undo()
            continue
        budget.spend()
        ai, end, value = move
        if ai in values:
            opened, fresh = pending, ()  # the same AI and value again adds nothing
        else:
            if ai in conflicts[ai] or not conflicts[ai].isdisjoint(values) or _breaks_signature(ai, value, values):
                continue
            opened = _open(pending, ai, values)
            fresh = opened - pending
        if end == n:
            if not opened:
                reading = path + [(ai, value)]
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
        path.append((ai, value))
        if ai in counts:
            counts[ai] += 1
            # Along forced repeats the summary stays the same object until a threshold passes.
            if end > change:
                summary, change = _summary(graph, end, values)
        else:
            counts[ai] = 1
            values[ai] = value
            summary, change = _summary(graph, end, values)
        child = (end, requirement_ids.setdefault(opened, len(requirement_ids)), summary)
        if child in dead:
            undo()
            continue
        stack.append((graph.moves(end, values), child, len(found), opened, summary, change))
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


def _summary(graph: _Graph, end: int, values: dict[str, str]) -> tuple[tuple, int]:
    # The prefix AIs that matter after `end`: something that can still come could repeat them
    # (value needed), exclude them, or need them; signed keys keep their value for (8030).
    # Also the last position up to which this summary stays the same.
    last, horizon = graph.last, graph.horizon
    items: list[tuple[str, str | None]] = []
    change = graph.n
    for p, v in values.items():
        reach = horizon[p]
        if reach >= end:
            if last[p] >= end or p in SIGNED_KEY_LENGTHS:
                items.append((p, v))
                if p not in SIGNED_KEY_LENGTHS:
                    reach = last[p]
            else:
                items.append((p, None))
            if reach < change:
                change = reach
    items.sort()
    return tuple(items), change
