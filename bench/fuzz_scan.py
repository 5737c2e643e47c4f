"""Fuzz parse_scan: a million generated hostile payloads, no exception but ScanError, and the slowest single payload.

Run from the repository root: `.venv/bin/python bench/fuzz_scan.py [COUNT] [PROCESSES] [SEED]`
(defaults 1,000,000, 2, 1). Payloads come from tests/scanner/fuzz_payloads.py, the generator the
slow test replays with a fixed seed; each process has its own seed, so a run is reproducible.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serialtrace.scanner import ScanError, parse_scan  # noqa: E402

from tests.scanner.fuzz_payloads import PayloadGenerator  # noqa: E402

SLOWEST_KEPT = 20


def run(args: tuple[int, int]) -> dict:
    """Parse `count` payloads of the generator seeded `seed`; outcome counts, crashes, the slowest payloads."""
    seed, count = args
    generator = PayloadGenerator(seed)
    outcomes: Counter[str] = Counter()
    crashes: dict[str, tuple[str, str]] = {}
    slowest: list[tuple[float, str, object]] = []
    floor = 0.0
    gen_time = parse_time = 0.0
    lengths = 0
    # The collector would land its pauses in whichever parse runs when it fires: not the parser's time.
    gc.disable()
    for n in range(count):
        t0 = time.perf_counter()
        raw, profile = generator.payload(), generator.profile()
        t1 = time.perf_counter()
        try:
            scan = parse_scan(raw, profile=profile)
            outcomes[scan.kind] += 1
        except ScanError:
            outcomes["ScanError"] += 1
        except Exception as exc:  # noqa: BLE001  (a crash is what the fuzzer looks for)
            name = type(exc).__name__
            outcomes[name] += 1
            crashes.setdefault(name, (raw, "".join(traceback.format_exception(exc))))
        t2 = time.perf_counter()
        gen_time += t1 - t0
        parse_time += t2 - t1
        lengths += len(raw)
        took = t2 - t1
        if took > floor:
            slowest.append((took, raw, profile))
            if len(slowest) > 4 * SLOWEST_KEPT:
                slowest.sort(key=lambda s: -s[0])
                del slowest[SLOWEST_KEPT:]
                floor = slowest[-1][0]
        if n % 50_000 == 0:
            gc.collect()
    gc.enable()
    slowest.sort(key=lambda s: -s[0])
    return {"seed": seed, "count": count, "outcomes": outcomes, "crashes": crashes, "slowest": slowest[:SLOWEST_KEPT],
            "gen_time": gen_time, "parse_time": parse_time, "chars": lengths}


def retime(raw: str, profile: object, runs: int = 5) -> float:
    """The fastest of `runs` CPU times of one payload, in ms: its own cost, not the machine's load when it ran."""
    best = float("inf")
    for _ in range(runs):
        start = time.thread_time()
        try:
            parse_scan(raw, profile=profile)
        except ScanError:
            pass
        best = min(best, time.thread_time() - start)
    return best * 1000


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    print(f"machine: nproc {os.cpu_count()}, load average at start {os.getloadavg()}")
    per = count // processes
    jobs = [(seed * 1000 + i, per + (count - per * processes if i == 0 else 0)) for i in range(processes)]
    start = time.perf_counter()
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(run, jobs)
    wall = time.perf_counter() - start
    load_end = os.getloadavg()
    outcomes: Counter[str] = Counter()
    crashes: dict[str, tuple[str, str]] = {}
    slowest: list = []
    parse_time = gen_time = 0.0
    chars = 0
    for r in results:
        outcomes.update(r["outcomes"])
        for name, example in r["crashes"].items():
            crashes.setdefault(name, example)
        slowest.extend(r["slowest"])
        parse_time += r["parse_time"]
        gen_time += r["gen_time"]
        chars += r["chars"]
    slowest.sort(key=lambda s: -s[0])
    total = sum(r["count"] for r in results)
    non_scan = {k: v for k, v in outcomes.items() if k not in ("ScanError", "gs1", "digital_link", "ean", "upc", "url",
                                                             "iso15434", "plain")}
    print(f"payloads: {total:,} in {processes} processes (seeds {[j[0] for j in jobs]}), mean length "
          f"{chars / total:.0f} chars")
    print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common()))
    print(f"exceptions other than ScanError: {sum(non_scan.values())} {dict(non_scan)}")
    for name, (raw, trace) in crashes.items():
        print(f"\n--- {name} on {raw[:300]!r}\n{trace}")
    print(f"wall {wall:.1f} s for the run: {total / wall:,.0f} payloads/s overall (generation included); "
          f"parse_scan alone {total / parse_time * processes:,.0f} payloads/s over {processes} processes, "
          f"{total / parse_time:,.0f}/s per process; generation {total / gen_time:,.0f}/s per process")
    print("slowest single payloads as measured in the run (wall, under the run's load), then re-timed alone "
          "(fastest of 5, CPU ms):")
    for took, raw, profile in slowest[:10]:
        print(f"  {took * 1000:7.2f} ms wall  {retime(raw, profile):7.2f} ms CPU  {len(raw):5d} chars  "
              f"{'profile ' if profile else ''}{raw[:70]!r}")
    print(f"load average at end {load_end}")
    if non_scan:
        sys.exit(1)


if __name__ == "__main__":
    main()
