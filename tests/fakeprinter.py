"""A raw-TCP printer for tests: takes a set number of jobs, then closes its port so connections are refused."""

from __future__ import annotations

import random
import re
import socket
import threading


def _bind(server: socket.socket, port: int) -> str:
    """Bind to `port` on a random address of 127.0.0.0/8 (all loopback on Linux); returns the address.

    Port 9100 is the one printers take raw ZPL on and the only one allowed without SERIALTRACE_PRINTERS, so
    the printer gets an address of its own rather than a random port; port 0 means 127.0.0.1 and any port.
    """
    if port == 0:
        server.bind(("127.0.0.1", 0))
        return "127.0.0.1"
    for _ in range(50):
        host = f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        try:
            server.bind((host, port))
            return host
        except OSError:
            continue
    raise OSError(f"no free loopback address for port {port}")


class FakePrinter:
    """Listens on 127.0.0.1; each connection is one job read to EOF; after `limit` jobs the port is closed."""

    def __init__(self, limit: int | None = None, *, listening: bool = True, port: int = 9100) -> None:
        self.limit = limit
        self.jobs: list[bytes] = []
        self._done = threading.Condition()
        self.server = socket.socket()
        self.host = _bind(self.server, port)
        self.port = self.server.getsockname()[1]
        self._thread: threading.Thread | None = None
        if listening:
            self.listen()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def listen(self) -> None:
        """Start answering (a bound socket that does not listen refuses every connection)."""
        self.server.listen(8)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while self.limit is None or len(self.jobs) < self.limit:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            data = bytearray()
            with connection:
                while chunk := connection.recv(65536):
                    data.extend(chunk)
            with self._done:
                if self.limit is not None and len(self.jobs) + 1 >= self.limit:
                    # Closed before the sender hears the job arrived, so its next connection is refused.
                    self.server.close()
                self.jobs.append(bytes(data))
                self._done.notify_all()
        self.server.close()

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Block until `count` jobs have been read completely."""
        with self._done:
            if not self._done.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise TimeoutError(f"printer got {len(self.jobs)} jobs, expected {count}")

    def close(self) -> None:
        self.server.close()

    @property
    def labels(self) -> list[str]:
        """Every ^XA ... ^XZ format received, in order."""
        return re.findall(r"\^XA.*?\^XZ", b"".join(self.jobs).decode(), flags=re.S)

    def serials(self) -> list[str]:
        """The serial printed on each label (from its `SN ...` text line)."""
        return [m.group(1) for label in self.labels for m in [re.search(r"\^FDSN (\S+?)\^FS", label)] if m]
