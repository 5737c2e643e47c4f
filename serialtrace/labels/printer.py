"""Send ZPL to a network printer over raw TCP (port 9100)."""

from __future__ import annotations

import socket
import time

from .errors import PrinterError

RAW_PORT = 9100  # the usual raw-print port of Zebra and most network printers


def send_zpl(host: str, port: int, data: bytes, *, timeout: float = 5.0, retries: int = 2) -> None:
    """Deliver `data` to host:port; retry failed connections, raise PrinterError when all fail.

    Only the connection is retried: once bytes went out, a retry could print labels twice,
    so a failure while sending raises at once.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("data must be bytes (encode ZPL as UTF-8)")
    if not data:
        raise PrinterError("nothing to send: the print job is empty", host=host, port=port, attempts=0)
    if retries < 0 or timeout <= 0:
        raise ValueError("retries must be >= 0 and timeout > 0")
    attempts = 0
    last_error: OSError | None = None
    while attempts <= retries:
        attempts += 1
        try:
            connection = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            last_error = exc
            if attempts <= retries:
                time.sleep(min(0.2 * attempts, 1.0))
            continue
        with connection:
            try:
                connection.sendall(data)
                connection.shutdown(socket.SHUT_WR)
            except OSError as exc:
                raise PrinterError(
                    f"printer {host}:{port} stopped taking data ({_reason(exc)}); "
                    "some labels may have printed, check the printer before resending",
                    host=host, port=port, attempts=attempts,
                ) from exc
        return
    raise PrinterError(
        f"cannot reach printer {host}:{port} after {attempts} attempt(s): {_reason(last_error)}",
        host=host, port=port, attempts=attempts,
    ) from last_error


def _reason(exc: OSError | None) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if exc is None:
        return "unknown error"
    return exc.strerror or str(exc) or type(exc).__name__
