"""Helpers shared by the benchmark scripts: machine facts, fresh databases, percentiles, free ports."""

from __future__ import annotations

import http.client
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from serialtrace.db import make_engine
from serialtrace.migrate import upgrade
from serialtrace.runtime import Runtime


def machine() -> dict[str, str]:
    """nproc, CPU model, RAM, Python and SQLite versions and the UTC date, for the README."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "ram": ram,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def print_machine() -> None:
    """Print the machine facts as one block."""
    for key, value in machine().items():
        print(f"  {key:9s} {value}")


def fresh_sqlite(path: Path) -> str:
    """Delete `path` (and its WAL files) and migrate a new database there; returns its URL."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def fresh_postgres_schema(url: str) -> tuple[str, callable]:
    """A migrated throwaway schema on the server at `url`; returns its URL and a function dropping it."""
    schema = f"st_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    schema_url = f"{url}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(schema_url)
    upgrade(engine)
    engine.dispose()

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return schema_url, drop


def runtime_for(url: str, **overrides) -> Runtime:
    """A Runtime on `url` with a fixed secret key (no warning, stable sessions)."""
    return Runtime.from_env({"database_url": url, "secret_key": "bench-secret", **overrides})


def sqlite_connect(path: Path | str) -> sqlite3.Connection:
    """A raw sqlite3 connection with the pragmas serialtrace.db sets on every engine connection."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python() -> str:
    """The interpreter running this benchmark (the project's venv when run as documented)."""
    return sys.executable


def start_child(argv: list[str], cwd: Path, label: str) -> tuple[subprocess.Popen, int]:
    """Run `argv` plus `--port <free port>` and wait until the child accepts connections there."""
    port = free_port()
    proc = subprocess.Popen([*argv, "--port", str(port)], cwd=cwd)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{label} exited with {proc.returncode}")
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{label} did not start")
