"""Benchmark the scanner: read rate and time per image on tests/data/barcodes, ms per frame, parses/s."""

from __future__ import annotations

import csv
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serialtrace.scanner import ScanError, decode_frame, decode_image, parse_scan  # noqa: E402
from serialtrace.scanner.decode import decode_gray, load_gray  # noqa: E402
from serialtrace.scanner.parse import MAX_SCAN_LENGTH, MAX_SPLIT_WORK  # noqa: E402
from serialtrace.scanner.worker import DecoderPool  # noqa: E402

from tests.paths import BARCODES  # noqa: E402  (the photo set the tests read)

_ESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")


def unescape(text: str) -> str:
    """Undo the manifest's escaping."""
    return _ESCAPE.sub(lambda m: "\\" if m[1] == "\\" else chr(int(m[1][1:], 16)), text)


def matches(expected: str, text: str) -> bool:
    """Manifest equivalences: a leading GS may be dropped; EAN-13 "0..." equals UPC-A."""
    text = text.lstrip("\x1d")
    return text == expected or (expected.startswith("0") and len(expected) == 13 and text == expected[1:])


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


RUNS = int(os.environ.get("RUNS", "5"))


def best_of(fn, runs: int = RUNS) -> tuple[float, float, object]:
    """Fastest wall and CPU (process) time in ms over `runs` calls: the machine is shared."""
    wall = cpu = float("inf")
    result = None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        cpu = min(cpu, time.process_time() - c)
        wall = min(wall, time.perf_counter() - w)
    return wall * 1000, cpu * 1000, result


def bench_images() -> None:
    rows = list(csv.DictReader(open(BARCODES / "manifest.csv", encoding="utf-8")))
    per = defaultdict(lambda: {"n": 0, "read": 0, "confirmed": 0, "wrong": 0, "wrong_confirmed": 0, "ms": []})
    all_ms, all_cpu, pixel_ms, pool_ms = [], [], [], []
    pool = DecoderPool(1)  # the path the API and `scan` take: a worker process with a deadline
    for row in rows:
        data = (BARCODES / row["file"]).read_bytes()
        expected = unescape(row["expected"])
        decode_image(data)  # warm the file's path once so the timing is the steady state
        ms, cpu, codes = best_of(lambda data=data: decode_image(data))
        gray = load_gray(data)
        pixel_ms.append(best_of(lambda gray=gray: decode_gray(gray))[0])
        pool.decode_image(data)
        pooled_ms, _cpu, pooled = best_of(lambda data=data: pool.decode_image(data))
        pool_ms.append(pooled_ms)
        assert [c.text for c in pooled] == [c.text for c in codes], row["file"]
        stat = per[row["format"]]
        stat["n"] += 1
        stat["ms"].append(ms)
        all_ms.append(ms)
        all_cpu.append(cpu)
        good = [c for c in codes if matches(expected, c.text)]
        if good:
            stat["read"] += 1
            stat["confirmed"] += any(c.confirmed for c in good)
        elif codes:
            stat["wrong"] += 1
            stat["wrong_confirmed"] += any(c.confirmed for c in codes)
    print(f"times: fastest of {RUNS} runs per image (wall clock), then median / p95 over the images")
    print("| format | images | read | rate | confirmed reads | wrong reads | confirmed wrong | median ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    total = defaultdict(int)
    for fmt, s in sorted(per.items()):
        for k in ("n", "read", "confirmed", "wrong", "wrong_confirmed"):
            total[k] += s[k]
        print(f"| {fmt} | {s['n']} | {s['read']} | {s['read'] / s['n']:.1%} | {s['confirmed']} | {s['wrong']} "
              f"| {s['wrong_confirmed']} | {statistics.median(s['ms']):.2f} | {pct(s['ms'], 0.95):.2f} |")
    print(f"| **all** | {total['n']} | {total['read']} | {total['read'] / total['n']:.1%} | {total['confirmed']} "
          f"| {total['wrong']} | {total['wrong_confirmed']} | {statistics.median(all_ms):.2f} "
          f"| {pct(all_ms, 0.95):.2f} |")
    print(f"\nfrom bytes (load + decode), wall: median {statistics.median(all_ms):.2f} ms, "
          f"p95 {pct(all_ms, 0.95):.2f} ms")
    print(f"from bytes (load + decode), CPU time of the process: median {statistics.median(all_cpu):.2f} ms, "
          f"p95 {pct(all_cpu, 0.95):.2f} ms")
    print(f"pixels only (decode of the loaded grey image), wall: median {statistics.median(pixel_ms):.2f} ms, "
          f"p95 {pct(pixel_ms, 0.95):.2f} ms")
    print(f"from bytes in a decoder worker process (as the API and `scan` decode), wall: median "
          f"{statistics.median(pool_ms):.2f} ms, p95 {pct(pool_ms, 0.95):.2f} ms")
    pool.close()


def desk_scene(seed: int, symbols: list[np.ndarray], angle: float) -> np.ndarray:
    """A 1280x720 BGR camera frame: shaded desk, a white label with text and symbols, blur, sensor noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:720, 0:1280].astype(np.float32)
    frame = 100 + 40 * np.sin(xx / 170 + seed) + 25 * np.cos(yy / 110)
    frame += cv2.GaussianBlur(rng.normal(0, 25, (720, 1280)).astype(np.float32), (0, 0), 6)
    if symbols:
        width = max(sum(s.shape[1] for s in symbols) + 40 * (len(symbols) + 1), 360)
        height = max(s.shape[0] for s in symbols) + 90
        label = np.full((height, width), 235, np.uint8)
        cv2.putText(label, f"SN-{seed:06d}  LOT 42", (20, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 40, 2)
        x = 40
        for s in symbols:
            label[60 : 60 + s.shape[0], x : x + s.shape[1]] = (s.astype(np.float32) * 0.8 + 30).astype(np.uint8)
            x += s.shape[1] + 40
        x0, y0 = 37 * seed % (1280 - width), 100 + 23 * seed % (620 - height)
        frame[y0 : y0 + height, x0 : x0 + width] = label
    m = cv2.getRotationMatrix2D((640, 360), angle, 1.0)
    frame = cv2.warpAffine(frame, m, (1280, 720), borderMode=cv2.BORDER_REFLECT)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.9) + rng.normal(0, 4, (720, 1280))
    grey = np.clip(frame, 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def bench_frames() -> None:
    matrix = np.array(zxingcpp.create_barcode("(01)09506000134352(17)270131(10)LOT1(21)SN1", zxingcpp.DataMatrix,
                                              gs1=True).to_image(scale=4))
    linear = np.array(zxingcpp.create_barcode("(01)09506000134352(21)SN1", zxingcpp.Code128,
                                              gs1=True).to_image(scale=3))
    scenes = {
        "label in view (GS1 DataMatrix + GS1-128)": [
            desk_scene(i, [matrix, linear], angle=(-8, -3, 4, 9)[i % 4]) for i in range(8)
        ],
        "desk, no label": [desk_scene(i, [], angle=0) for i in range(4)],
        "worst case: full-frame noise": [
            np.random.default_rng(i).normal(150, 20, (720, 1280, 3)).clip(0, 255).astype(np.uint8) for i in range(2)
        ],
    }
    for label, frames in scenes.items():
        walls, cpus, reads = [], [], 0
        for frame in frames:
            wall, cpu, codes = best_of(lambda frame=frame: decode_frame(frame))
            walls.append(wall)
            cpus.append(cpu)
            reads += len(codes)
        print(f"1280x720 BGR frame, {label}: median {statistics.median(walls):.2f} ms, max {max(walls):.2f} ms "
              f"(CPU median {statistics.median(cpus):.2f} ms); {reads} codes in {len(frames)} frames")


def bench_parse() -> None:
    n = 100_000
    payloads = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            payloads.append(f"]d2010950600013435221S{i:08d}\x1d10L{i % 977}\x1d17270131")
        elif kind == 1:
            payloads.append(f"]C1010950600013435210L{i % 977}\x1d21{i:010d}")
        elif kind == 2:
            payloads.append(f"https://id.example.com/01/09506000134352/21/S{i}")
        elif kind == 3:
            payloads.append(f"SN-{i:09d}")
        else:
            payloads.append(f"(01)09506000134352(21)S{i}")

    def run() -> None:
        for p in payloads:
            parse_scan(p)

    wall, cpu, _ = best_of(run)
    print(f"parse_scan: {n / wall * 1000:,.0f} parses/s wall, {n / cpu * 1000:,.0f} parses/s CPU time, "
          f"fastest of {RUNS} runs over {n} distinct payloads (GS1 DM/128, Digital Link, plain, bracketed)")

    # A scanner that drops GS: the strict reading validates, and the split search must show that
    # (10) could also have swallowed the (21) after it.
    dropped = ["]d20109506000134352172701311" + f"0L{i % 977}21S{i:08d}" for i in range(n // 10)]

    def run_dropped() -> None:
        for p in dropped:
            parse_scan(p)

    wall, cpu, _ = best_of(run_dropped)
    print(f"parse_scan without separators (ambiguous (10)/(21) labels): {len(dropped) / wall * 1000:,.0f} parses/s "
          f"wall, {len(dropped) / cpu * 1000:,.0f} parses/s CPU time")


def bench_parse_worst() -> None:
    """The slowest single scans found: data without separators that splits many ways, up to the length cap."""
    gtin = "09506000134352"
    tangle = "".join(f"{ai}A" for ai in ("91", "92", "93", "94", "95", "96", "97", "98", "99", "90", "400", "401",
                                         "403", "240", "241", "7002", "8002", "8004", "8012"))
    cap = MAX_SCAN_LENGTH

    def filled(head: str, unit: str) -> str:
        return head + unit * ((cap - len(head)) // len(unit))

    cases = {
        "]d2 (01) + '10' * 30, 79 chars (18 s before)": "]d201" + gtin + "10" * 30,
        "]d2 (01) + '10' * 32, 83 chars (52 s before)": "]d201" + gtin + "10" * 32,
        "]d2 + '1021' * 14": "]d2" + "1021" * 14,
        "]d2 + '21A' * 20": "]d2" + "21A" * 20,
        "]d2 (01) + '2012' * 1970, 7,899 chars (RecursionError before)": "]d201" + gtin + "2012" * 1970,
        "cap: ]d2 (01) + '10' repeated": filled("]d201" + gtin, "10"),
        "cap: ]d2 + '91' repeated": filled("]d2", "91"),
        "cap: ]d2 + '991231' repeated (worst random input)": filled("]d2", "991231"),
        "cap: ]d2 + (91)(8013) check pairs to try": filled("]d2", "91" + "8013AB" * 14),
        "19 AIs that may repeat, each value free to swallow the next": "]d201" + gtin + tangle * 21,
        "cap + 1 (length cap)": "A" * (cap + 1),
    }
    print(f"| slowest single scans (length cap {cap:,}, work limit {MAX_SPLIT_WORK:,}) | chars | ms CPU | answer |")
    print("|---|---|---|---|")
    for label, raw in cases.items():
        def one(raw: str = raw) -> str:
            try:
                scan = parse_scan(raw)
            except ScanError as exc:
                return "too complex" if "too complex" in exc.message else "ScanError"
            return "ambiguous" if scan.ambiguous else scan.kind
        _wall, cpu, answer = best_of(one)
        print(f"| {label} | {len(raw):,} | {cpu:.1f} | {answer} |")



def main() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
          f"Python {platform.python_version()}")
    print(f"OpenCV {cv2.__version__}, load average at start {os.getloadavg()}\n")
    if sys.argv[1:] == ["parse"]:  # the parsing figures alone: seconds instead of minutes
        bench_parse()
        print()
        bench_parse_worst()
        return
    bench_images()
    print()
    bench_frames()
    print()
    bench_parse()
    print()
    bench_parse_worst()
    print(f"\nload average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
