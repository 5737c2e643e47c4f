"""Validation of AI values and of the rules between AIs (associations, exclusions, repeats)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from ..i18n import _l
from .charsets import ensure_charset
from .errors import GS1Error
from .table import AI_TABLE, AISpec, ai_spec, matches

# Values whose check digits or dates were already verified: a station sees the same GTIN,
# expiry date and lot over and over, and only the serial changes. AIs are prefix-free, so
# AI + value names the pair.
_VERIFIED: set[str] = set()
_MAX_VERIFIED = 8192


def remember_verified(pair: str) -> None:
    """Record AI + value as having passed its checks (bounded: cleared when full)."""
    if len(_VERIFIED) >= _MAX_VERIFIED:
        _VERIFIED.clear()
    _VERIFIED.add(pair)


def check_value(spec: AISpec, value: str) -> None:
    """Raise GS1Error unless value is a valid data field for the AI of spec."""
    m = spec.pattern.fullmatch(value)
    if m is None:
        explain_mismatch(spec, value)
    if not spec.checks:
        return
    pair = spec.ai + value
    if pair in _VERIFIED:
        return
    for index, check in spec.checks:
        part = m.group(index)
        if part is not None:
            check(spec.ai, part)
    remember_verified(pair)


def explain_mismatch(spec: AISpec, value: str) -> NoReturn:
    """Raise GS1Error saying why value does not match the format of spec."""
    # Only reached for bad data, so clarity matters more than speed here.
    ai = spec.ai
    if not value:
        raise GS1Error(_l("(%(ai)s) is empty", ai=ai))
    size = len(value)
    if spec.fixed_length is not None and size != spec.fixed_length:
        raise GS1Error(_l("(%(ai)s) is %(size)s characters, expected %(expected)s", ai=ai, size=size,
                          expected=spec.fixed_length))
    if size > spec.max_length:
        raise GS1Error(_l("(%(ai)s) is %(size)s characters, at most %(limit)s", ai=ai, size=size,
                          limit=spec.max_length))
    if size < spec.min_length:
        raise GS1Error(_l("(%(ai)s) is %(size)s characters, at least %(limit)s", ai=ai, size=size,
                          limit=spec.min_length))
    # Split greedily into components, each fixed one taking its length and a variable one
    # leaving room for what must follow, then name the first character out of its set.
    pos = 0
    rest_min = [sum(c.min_length for c in spec.components[i + 1:] if not c.optional)
                for i in range(len(spec.components))]
    for c, after in zip(spec.components, rest_min, strict=True):
        take = min(c.max_length, size - pos - after)
        if take <= 0:
            break
        ensure_charset(ai, c.kind, value[pos:pos + take])
        pos += take
    raise GS1Error(_l("(%(ai)s) %(value)r does not match the format %(format)s", ai=ai, value=value,
                      format=spec.format))


# Exact exclusions, excluded patterns, single required AIs, required groups (or patterns).
_Rules = tuple[frozenset[str], tuple[str, ...], frozenset[str], tuple[tuple[str, ...], ...]]


def _compile_rules(spec: AISpec) -> _Rules | None:
    # Split each AI's rules into set lookups for exact AIs and the few patterns such as
    # "310n", so the common case costs one set operation per AI on the scan path.
    if not spec.excludes and not spec.requires:
        return None
    ex_exact = frozenset(t for t in spec.excludes if "n" not in t)
    ex_patterns = tuple(t for t in spec.excludes if "n" in t)
    req_single = frozenset(g[0] for g in spec.requires if len(g) == 1 and "n" not in g[0])
    req_groups = tuple(g for g in spec.requires if len(g) > 1 or "n" in g[0])
    return ex_exact, ex_patterns, req_single, req_groups


_RULES = {ai: _compile_rules(spec) for ai, spec in AI_TABLE.items()}


# The rules between AIs depend only on which AIs are present, and a station scans the
# same label layout over and over, so outcomes are remembered per AI combination.
_verdicts: dict[tuple[str, ...], str | None] = {}
_MAX_VERDICTS = 4096


def check_associations(pairs: list[tuple[str, str]]) -> None:
    """Raise GS1Error for a repeated AI with another value, an exclusion or a missing AI."""
    seen = dict(pairs)
    if len(seen) != len(pairs):
        _check_repeats(pairs)
    key = tuple(seen)
    try:
        verdict = _verdicts[key]
    except KeyError:
        verdict = _association_problem(seen)
        if len(_verdicts) >= _MAX_VERDICTS:
            _verdicts.clear()
        _verdicts[key] = verdict
    if verdict is None and "8030" in seen:
        verdict = _signed_key_problem(seen)
    if verdict is not None:
        raise GS1Error(verdict)


def _association_problem(seen: dict[str, str]) -> str | None:
    for ai in seen:
        rules = _RULES[ai]
        if rules is None:
            continue
        ex_exact, ex_patterns, req_single, req_groups = rules
        if ex_exact and not ex_exact.isdisjoint(seen):
            other = next(a for a in seen if a in ex_exact)
            return f"({ai}) cannot be used with ({other})"
        if ex_patterns:
            for other in seen:
                if other != ai and any(matches(t, other) for t in ex_patterns):
                    return f"({ai}) cannot be used with ({other})"
        if (req_single or req_groups) and req_single.isdisjoint(seen) \
                and not any(all(_present(t, seen) for t in group) for group in req_groups):
            return f"({ai}) needs {_alternatives(AI_TABLE[ai].requires)}"
    return None


def _check_repeats(pairs: list[tuple[str, str]]) -> None:
    first: dict[str, str] = {}
    for ai, value in pairs:
        previous = first.setdefault(ai, value)
        if previous != value:
            raise GS1Error(_l("(%(ai)s) appears more than once with different values: %(first)r and %(second)r",
                              ai=ai, first=previous, second=value))


def _present(token: str, seen: dict[str, str]) -> bool:
    if token in seen:
        return True
    return "n" in token and any(matches(token, ai) for ai in seen)


def _alternatives(groups: tuple[tuple[str, ...], ...]) -> str:
    names = ["+".join(f"({t})" for t in group) for group in groups]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# A digital signature must sign one instance, so keys with an optional serial component
# need that component (GS1 General Specifications, AI 8030): the length of each key
# without it.
SIGNED_KEY_LENGTHS = {"253": 13, "255": 13, "8003": 14}


def _signed_key_problem(seen: dict[str, str]) -> str | None:
    # The verdict depends on a value here, so it is checked outside the per-combination memo.
    for ai, length in SIGNED_KEY_LENGTHS.items():
        if ai in seen and len(seen[ai]) <= length:
            return f"(8030) needs ({ai}) with its serial component"
    return None


def _as_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        raise GS1Error(f"expected a list of (AI, value) pairs, got {type(pairs).__name__}")
    out = []
    for item in pairs:
        if not isinstance(item, (tuple, list)) or len(item) != 2 \
                or not isinstance(item[0], str) or not isinstance(item[1], str):
            raise GS1Error(f"expected an (AI, value) pair of strings, got {item!r}")
        out.append((item[0], item[1]))
    return out


def validate(pairs: list[tuple[str, str]], *, associations: bool = True) -> None:
    """Raise GS1Error unless every value and the combination of AIs follow the GS1 rules."""
    checked = _as_pairs(pairs)
    if not checked:
        raise GS1Error(_l("no GS1 data"))
    for ai, value in checked:
        check_value(ai_spec(ai), value)
    if associations:
        check_associations(checked)
