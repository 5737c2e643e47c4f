"""`serialtrace serve` as a real process: idle sockets cannot starve it, idle ones are closed, no server banner."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real server processes and idle-socket timeouts; `make check` leaves them out

IDLE_SOCKETS = 150
IDLE_TIMEOUT = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not open its port within 30 s")


@contextmanager
def _serving(tmp_path: Path, *args: str):
    """`serialtrace serve` on a free port with a short idle timeout; stopped (by its pid) afterwards."""
    port = _free_port()
    env = {**os.environ, "SERIALTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
           "SERIALTRACE_SECRET_KEY": "serve-test", "SERIALTRACE_SERIAL_KEY": "serve-test",
           "SERIALTRACE_INSTANCE": str(tmp_path), "SERIALTRACE_IDLE_TIMEOUT": str(IDLE_TIMEOUT)}
    command = [sys.executable, "-c", "from serialtrace.cli import main; main()", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, proc, time.monotonic() + 30)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stderr.close()


@contextmanager
def _idle_sockets(port: int, count: int = IDLE_SOCKETS):
    """`count` connections that never send a byte (or stop half way through a request line)."""
    socks = []
    try:
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 3 == 0:
                s.sendall(b"GET /login HTTP/1.1\r\nHost: x")
            socks.append(s)
        yield socks
    finally:
        for s in socks:
            s.close()


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_waitress_answers_while_150_sockets_sit_idle_and_closes_them(tmp_path):
    with _serving(tmp_path) as port, _idle_sockets(port) as idle:
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/login")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200 and time.monotonic() - started < 5
        # No banner naming the server, the product or a version.
        assert resp.getheader("Server") is None and resp.getheader("Via") is None
        assert resp.getheader("Cache-Control") == "no-store"
        conn.close()
        # SERIALTRACE_IDLE_TIMEOUT closes idle connections, silent or stuck half way through a request.
        assert _closed_by_server(idle[1], IDLE_TIMEOUT + 12) and _closed_by_server(idle[0], 2)


def test_tls_server_answers_while_150_sockets_sit_idle_with_hsts_and_secure_cookie(tmp_path):
    with _serving(tmp_path, "--tls") as port, _idle_sockets(port) as idle:
        ctx = ssl.create_default_context(cafile=str(tmp_path / "tls" / "selfsigned.crt"))
        started = time.monotonic()
        conn = http.client.HTTPSConnection("localhost", port, timeout=5, context=ctx)
        conn.request("GET", "/login")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200 and time.monotonic() - started < 5
        assert resp.getheader("Strict-Transport-Security") == "max-age=31536000"
        assert "; Secure" in resp.getheader("Set-Cookie")
        server = resp.getheader("Server") or ""
        assert not any(word in server.lower() for word in ("serialtrace", "cheroot", "python", "/")), server
        assert not any(ch.isdigit() for ch in server), server
        # Keep-alive works, so a phone does not pay a TLS handshake per camera frame.
        conn.request("GET", "/login")
        assert conn.getresponse().status == 200
        conn.close()
        assert _closed_by_server(idle[1], IDLE_TIMEOUT + 12) and _closed_by_server(idle[0], 2)


def test_plain_http_to_the_tls_port_gets_a_plain_answer(tmp_path):
    with _serving(tmp_path, "--tls") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        assert data.startswith(b"HTTP/1.1 400") and b"https only" in data
        # The server goes on serving after the mistake.
        ctx = ssl.create_default_context(cafile=str(tmp_path / "tls" / "selfsigned.crt"))
        conn = http.client.HTTPSConnection("localhost", port, timeout=5, context=ctx)
        conn.request("GET", "/login")
        assert conn.getresponse().status == 200
        conn.close()


def test_bad_connection_limit_is_one_line(tmp_path):
    env = {**os.environ, "SERIALTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
           "SERIALTRACE_SECRET_KEY": "serve-test", "SERIALTRACE_SERIAL_KEY": "serve-test",
           "SERIALTRACE_CONNECTION_LIMIT": "0"}
    out = subprocess.run([sys.executable, "-c", "from serialtrace.cli import main; main()", "serve", "--port",
                          str(_free_port())], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip() == "error: SERIALTRACE_CONNECTION_LIMIT must be at least 1, not 0"


@pytest.mark.parametrize("threads", ["0", "x"])
def test_bad_thread_count_is_one_line(tmp_path, threads):
    out = subprocess.run([sys.executable, "-c", "from serialtrace.cli import main; main()", "serve", "--threads",
                          threads], env={**os.environ, "SERIALTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"},
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stderr.startswith("error: Invalid value for '--threads'"), out.stderr
