"""Replay of the GS1 Barcode Syntax Engine test vectors through our public API."""

import json
import re
from collections import Counter

import pytest

from serialtrace.gs1 import (
    AI_TABLE,
    GS,
    GS1Error,
    build_digital_link,
    build_element_string,
    parse_bracketed,
    parse_digital_link,
    parse_element_string,
    validate,
)

from tests.paths import GS1_VECTORS

VECTORS = GS1_VECTORS
TESTS = ("test_parseAIdata", "test_processAIdata", "test_validateAIs", "test_parseDLuri",
         "test_testGenerateDLuri")


def _load():
    # The vectors are in the repository (tests/data/MANIFEST.sha256): a missing file fails collection.
    return [v for v in json.loads(VECTORS.read_text())["vectors"] if v["test"] in TESTS]


_ALL = _load()


def _ais_in_bracketed(text):
    return [part.split(")")[0] for part in text.replace("\\(", "").split("(")[1:]]


def _ais_in_unbracketed(text):
    # Walk by the GS1 rule that the first two digits fix the AI length; only AIs we know
    # have a known length, and an unknown one ends the walk.
    try:
        return [ai for ai, _ in parse_element_string(text.lstrip("^"), separators="^",
                                                       associations=False)]
    except GS1Error:
        return None


def _unknown(ais):
    return sorted({ai for ai in ais if ai not in AI_TABLE})


def _skip_reason(v):
    """Why a vector does not apply to our API, or None."""
    ctx = v.get("context") or {}
    test = v["test"]
    if test == "test_processAIdata":
        data = v["unbracketed_input"]
        if not data.startswith("^"):
            return "not GS1 data (no FNC1 in first): our API takes it as plain text"
        if ctx.get("gs1_encoder_setPermitUnknownAIs"):
            return "unknown AIs permitted: we never permit them"
        return _unknown_ai_reason(data) if v["should_succeed"] else None
    if test in ("test_parseAIdata", "test_validateAIs", "test_testGenerateDLuri"):
        ais = _ais_in_bracketed(v["bracketed_input"])
        if test == "test_testGenerateDLuri" and ctx.get("gs1_encoder_setPermitUnknownAIs"):
            return "unknown AIs permitted: we never permit them"
        unknown = _unknown(a for a in ais if a.isdigit() and 2 <= len(a) <= 4)
        if unknown and (v["should_succeed"] or test != "test_parseAIdata"):
            if ctx.get("gs1_encoder_setPermitUnknownAIs"):
                # (89) and (3338) are no GS1 AIs: the engine takes them only when told to.
                return "unknown AIs permitted: we never permit them"
            return f"AI outside our table: {', '.join(unknown)}"
        return None
    if test == "test_parseDLuri":
        if ctx.get("gs1_encoder_setPermitUnknownAIs"):
            return "unknown AIs permitted: we never permit them"
        if ctx.get("permitConvenienceAlphas") is None and "/gtin/" in v["dl_uri"] and not v["should_succeed"]:
            return "we always accept convenience alphas (gtin -> 01)"
        if not ctx.get("gs1_encoder_setPermitZeroSuppressedGTINinDLuris") and not v["should_succeed"] \
                and _short_gtin(v["dl_uri"]):
            return "we always pad GTIN-8/12/13 in Digital Link URIs to 14 digits"
        expected = v.get("expected_unbracketed")
        if expected:
            ais = _ais_in_unbracketed(expected)
            if ais is None:
                return "expected data has an AI outside our table"
        return None
    return "not replayed"


# Two-digit prefixes that begin no AI at all in GS1: data starting with them is simply
# wrong, whatever our table holds, so such vectors apply.
_UNASSIGNED_PREFIXES = ("89",)


def _unknown_ai_reason(data):
    # Only asked for data that should parse: data that should fail may well fail on an AI
    # that no table holds, such as a lone "2" after a complete (01).
    try:
        parse_element_string(data[1:], separators="^", associations=False)
    except GS1Error as exc:
        message = str(exc)
        if message.startswith("unknown AI"):
            start = message.split("'")[1]
            if not start.startswith(_UNASSIGNED_PREFIXES):
                return f"AI outside our table: data starts {start}"
    return None


def _short_gtin(uri):
    return re.search(r"(?:/01/|01=)(\d{8}|\d{12,13})(?:$|[/?&#])", uri) is not None


def _ids(v):
    return f"{v['test']}:{v['line']}"


def _run(v):
    """Replay one vector; return the outcome (True, result) or (False, message)."""
    test = v["test"]
    try:
        if test == "test_parseAIdata":
            # The engine's unit tests parse bracketed data without the association rules.
            pairs = parse_bracketed(v["bracketed_input"], associations=False)
            data = build_element_string(pairs, reorder=False, associations=False)
            return True, "^" + data.replace(GS, "^")
        if test == "test_processAIdata":
            pairs = parse_element_string(v["unbracketed_input"][1:], separators="^", associations=False)
            return True, pairs
        if test == "test_validateAIs":
            validate(parse_bracketed(v["bracketed_input"], associations=False))
            return True, None
        if test == "test_parseDLuri":
            return True, parse_digital_link(v["dl_uri"])
        if test == "test_testGenerateDLuri":
            pairs = parse_bracketed(v["bracketed_input"], associations=False)
            return True, build_digital_link(pairs, domain=v["stem"] or "https://id.gs1.org")
    except GS1Error as exc:
        return False, str(exc)
    raise AssertionError(test)


_RULE_WORDS = {
    "validateAIrepeats": "more than once",
    "validateAImutex": "cannot be used with",
    "validateAIrequisites": "needs",
    "validateDigSigRequiresSerialisedKey": "(8030) needs",
}


@pytest.mark.parametrize("vector", _ALL, ids=[_ids(v) for v in _ALL])
def test_engine_vector(vector):
    reason = _skip_reason(vector)
    if reason:
        pytest.skip(reason)
    ok, result = _run(vector)
    assert ok == vector["should_succeed"], result
    test = vector["test"]
    if not ok:
        if test == "test_validateAIs":
            assert _RULE_WORDS[vector["validation"]] in result
        return
    if test == "test_parseAIdata":
        assert result == vector["expected_unbracketed"]
    elif test == "test_parseDLuri":
        expected = parse_element_string(vector["expected_unbracketed"][1:], separators="^",
                                        associations=False)
        assert result == expected
    elif test == "test_testGenerateDLuri":
        assert result == vector["expected_dl_uri"]


def test_vector_file_is_replayed():
    assert _ALL, f"no engine vectors in {VECTORS}"
    counts = Counter("skipped" if _skip_reason(v) else "applies" for v in _ALL)
    print(f"\nGS1 engine vectors: {counts['applies']} apply, {counts['skipped']} skipped")
    assert counts["applies"] > 150
