"""Raw TCP printer transport against listeners started in the test."""

from __future__ import annotations

import socket
import threading

import pytest

from serialtrace.labels import PrinterError, send_zpl

JOB = b"^XA^FO20,20^A0N,30,30^FDtest^FS^XZ\n" * 50


def _listener() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    return server, server.getsockname()[1]


def test_job_arrives_byte_for_byte():
    server, port = _listener()
    received = bytearray()

    def accept() -> None:
        connection, _ = server.accept()
        with connection:
            while chunk := connection.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=accept)
    thread.start()
    send_zpl("127.0.0.1", port, JOB, timeout=2.0)
    thread.join(5)
    server.close()
    assert bytes(received) == JOB


def test_refused_connection_is_retried_then_raises_printer_error():
    server, port = _listener()
    server.close()  # nothing listens on the port any more: connections are refused
    with pytest.raises(PrinterError) as info:
        send_zpl("127.0.0.1", port, JOB, timeout=1.0, retries=2)
    assert info.value.attempts == 3
    assert f"cannot reach printer 127.0.0.1:{port} after 3 attempt(s)" in str(info.value)


def test_printer_that_does_not_take_data_times_out_without_retrying():
    server, port = _listener()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    # Far more than the socket buffers hold: sendall blocks until the timeout.
    with pytest.raises(PrinterError) as info:
        send_zpl("127.0.0.1", port, b"^XA^XZ" * 8_000_000, timeout=0.5, retries=2)
    thread.join(5)
    for connection in accepted:
        connection.close()
    server.close()
    assert info.value.attempts == 1
    assert "timed out" in str(info.value) and "may have printed" in str(info.value)


def test_empty_job_is_refused():
    with pytest.raises(PrinterError, match="empty"):
        send_zpl("127.0.0.1", 9100, b"")


def test_printer_error_is_an_os_error():
    assert issubclass(PrinterError, OSError)
