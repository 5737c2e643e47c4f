"""https serving for phones on the warehouse network: a self-signed certificate that a TLS client accepts."""

from __future__ import annotations

import socket
import ssl
import threading
import time

from cryptography import x509

from serialtrace.web.tls import self_signed_certificate


def test_self_signed_certificate_names_localhost_and_host(tmp_path):
    cert_path, key_path = self_signed_certificate(tmp_path, host="192.168.1.20")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert "192.168.1.20" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    # Made once, then reused: a restart must not invalidate what phones already trusted.
    assert self_signed_certificate(tmp_path, host="192.168.1.20")[0].read_bytes() == cert_path.read_bytes()


def test_cheroot_serves_the_app_over_tls(tmp_path):
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    cert, key = self_signed_certificate(tmp_path, host="127.0.0.1")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok " + environ["wsgi.url_scheme"].encode()]

    server = wsgi.Server(("127.0.0.1", 0), app)
    server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    server.prepare()
    port = server.bind_addr[1]
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                deadline, data = time.time() + 5, b""
                while time.time() < deadline:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        assert data.startswith(b"HTTP/1.1 200") and b"ok https" in data
    finally:
        server.stop()
