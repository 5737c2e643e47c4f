"""Benchmark the scanner: read rate and time per image on shared/data/barcodes, ms per frame, parses/s."""

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

from serialtrace.scanner import decode_frame, decode_image, parse_scan  # noqa: E402
from serialtrace.scanner.decode import decode_gray, load_gray  # noqa: E402

BARCODES = Path(os.environ.get("BARCODES", "/work/shared/data/barcodes"))
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


def bench_images() -> None:
    rows = list(csv.DictReader(open(BARCODES / "manifest.csv", encoding="utf-8")))
    per = defaultdict(lambda: {"n": 0, "read": 0, "confirmed": 0, "wrong": 0, "wrong_confirmed": 0, "ms": []})
    all_ms, pixel_ms = [], []
    for row in rows:
        data = (BARCODES / row["file"]).read_bytes()
        expected = unescape(row["expected"])
        decode_image(data)  # warm the file's path once so the timing is the steady state
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            codes = decode_image(data)
            runs.append((time.perf_counter() - t) * 1000)
        gray = load_gray(data)
        t = time.perf_counter()
        decode_gray(gray)
        pixel_ms.append((time.perf_counter() - t) * 1000)
        ms = statistics.median(runs)
        stat = per[row["format"]]
        stat["n"] += 1
        stat["ms"].append(ms)
        all_ms.append(ms)
        good = [c for c in codes if matches(expected, c.text)]
        if good:
            stat["read"] += 1
            stat["confirmed"] += any(c.confirmed for c in good)
        elif codes:
            stat["wrong"] += 1
            stat["wrong_confirmed"] += any(c.confirmed for c in codes)
    print("| format | images | read | rate | confirmed reads | wrong reads | confirmed wrong | median ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    total = defaultdict(int)
    for fmt, s in sorted(per.items()):
        for k in ("n", "read", "confirmed", "wrong", "wrong_confirmed"):
            total[k] += s[k]
        print(f"| {fmt} | {s['n']} | {s['read']} | {s['read'] / s['n']:.1%} | {s['confirmed']} | {s['wrong']} "
              f"| {s['wrong_confirmed']} | {statistics.median(s['ms']):.2f} | {pct(s['ms'], 0.95):.2f} |")
    print(f"| **all** | {total['n']} | {total['read']} | {total['read'] / total['n']:.1%} | {total['confirmed']} "
          f"| {total['wrong']} | {total['wrong_confirmed']} | {statistics.median(all_ms):.2f} | {pct(all_ms, 0.95):.2f} |")
    print(f"\nfrom bytes (load + decode): median {statistics.median(all_ms):.2f} ms, p95 {pct(all_ms, 0.95):.2f} ms")
    print(f"pixels only (decode of the loaded grey image): median {statistics.median(pixel_ms):.2f} ms, "
          f"p95 {pct(pixel_ms, 0.95):.2f} ms")


def bench_frames() -> None:
    rng = np.random.default_rng(1)
    symbol = np.array(zxingcpp.create_barcode("(01)09506000134352(10)LOT1(21)SN1", zxingcpp.DataMatrix, gs1=True).to_image(scale=6))
    frames = []
    for i in range(20):
        frame = rng.normal(150, 20, (720, 1280, 3)).clip(0, 255).astype(np.uint8)
        if i % 2 == 0:  # half the frames show a code, half only clutter
            h, w = symbol.shape
            frame[200 + i : 200 + i + h, 400 + 5 * i : 400 + 5 * i + w] = symbol[:, :, None]
        frames.append(frame)
    empty = frames[1]
    times = {"with code": [], "no code": []}
    for _ in range(5):
        for i, frame in enumerate(frames):
            t = time.perf_counter()
            decode_frame(frame)
            times["no code" if frame is empty or i % 2 else "with code"].append((time.perf_counter() - t) * 1000)
    for label, ms in times.items():
        print(f"1280x720 BGR frame, {label}: median {statistics.median(ms):.2f} ms, p95 {pct(ms, 0.95):.2f} ms")


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
    t = time.perf_counter()
    for p in payloads:
        parse_scan(p)
    elapsed = time.perf_counter() - t
    print(f"parse_scan: {n / elapsed:,.0f} parses/s over {n} distinct payloads (GS1 DM/128, Digital Link, plain, bracketed)")


def main() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, Python {platform.python_version()}")
    print(f"OpenCV {cv2.__version__}\n")
    bench_images()
    print()
    bench_frames()
    print()
    bench_parse()


if __name__ == "__main__":
    main()
