"""parse_scan under the fuzzer's generator: 20,000 hostile payloads of a fixed seed end in a ParsedScan or ScanError."""

from __future__ import annotations

import pytest

from serialtrace.scanner import ParsedScan, ScanError, parse_scan

from .fuzz_payloads import PayloadGenerator

pytestmark = pytest.mark.slow  # about 10 s; bench/fuzz_scan.py runs the same generator a million times

SEED = 20_251_203
COUNT = 20_000


def test_generated_payloads_never_raise_anything_but_scan_error():
    generator = PayloadGenerator(SEED)
    crashes: dict[str, str] = {}
    outcomes = {"parsed": 0, "refused": 0}
    for _ in range(COUNT):
        raw, profile = generator.payload(), generator.profile()
        try:
            result = parse_scan(raw, profile=profile)
        except ScanError as exc:
            assert exc.message  # every refusal says why
            outcomes["refused"] += 1
        except Exception as exc:  # noqa: BLE001  (what the fuzzer is looking for)
            crashes.setdefault(type(exc).__name__, raw)
        else:
            assert isinstance(result, ParsedScan)
            outcomes["parsed"] += 1
    assert crashes == {}
    # The generator reaches both sides: a stream of only refusals or only reads would be a broken generator.
    assert min(outcomes.values()) > COUNT // 10


def test_the_generator_is_deterministic_and_mixes_its_shapes():
    first = [PayloadGenerator(SEED).payload() for _ in range(1)]
    generator, again = PayloadGenerator(SEED), PayloadGenerator(SEED)
    sample = [generator.payload() for _ in range(2000)]
    assert sample == [again.payload() for _ in range(2000)] and sample[:1] == first
    assert any(p.startswith(("]d2", "]C1", "]Q3")) for p in sample)
    assert any("://" in p for p in sample)
    assert any("\x1d" in p for p in sample)
    assert any(any("\ud800" <= c <= "\udfff" for c in p) for p in sample)  # lone surrogates
    assert any(len(p) > 8000 for p in sample)  # past the length cap
