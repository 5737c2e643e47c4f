"""Serve over https (browsers give a page the camera only on https or localhost) with cheroot."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from pathlib import Path

from ..config import INSTANCE_DIR, Settings
from .serving import ensure_open_files, ensure_serving_settings

# What cheroot puts in its Server header (it always sends one): a word that names no product and no version.
SERVER_NAME = "web"


def self_signed_certificate(folder: Path, *, host: str) -> tuple[Path, Path]:
    """Create (once) a self-signed certificate for `host`, localhost and this machine's name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = folder / "selfsigned.crt", folder / "selfsigned.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName(socket.gethostname())]
    for candidate in {host, "127.0.0.1"}:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(candidate)))
        except ValueError:
            if candidate:
                names.append(x509.DNSName(candidate))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serialtrace station")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


class _HandshakeOnFirstRead(ssl.SSLSocket):
    """A server-side TLS socket that completes its handshake on its first read, in a worker thread.

    cheroot handshakes in its one accepting thread, so each client that connects and stays silent stops
    everyone else from connecting for the whole timeout; here a silent client costs nothing until it speaks.
    """

    _handshake_done = False

    def recv_into(self, buffer, nbytes=0, flags=0):
        if not self._handshake_done:
            self._finish_handshake()
        return super().recv_into(buffer, nbytes, flags)

    def _finish_handshake(self) -> None:
        from cheroot.errors import FatalSSLAlert

        try:
            self.do_handshake()
        except ssl.SSLError as exc:
            if "http request" in str(exc).lower():
                _answer_plain_http(self)
            # cheroot closes the connection quietly on FatalSSLAlert; any other error here would stop the server.
            raise FatalSSLAlert(*exc.args) from exc
        except OSError as exc:
            raise FatalSSLAlert(*exc.args) from exc
        self._handshake_done = True


def _answer_plain_http(sock: ssl.SSLSocket) -> None:
    """Tell a browser that typed http:// for this https port what went wrong, in plain text on the bare socket."""
    text = b"This server speaks https only: use https:// in the address."
    head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    try:
        os.write(sock.fileno(), head + b"Content-Length: %d\r\n\r\n" % len(text) + text)
    except OSError:
        pass  # the client is gone; nothing to tell


def _adapter(cert: str, key: str):
    """cheroot's built-in TLS adapter with the handshake moved out of the accepting thread."""
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    class DeferredHandshakeAdapter(BuiltinSSLAdapter):
        def wrap(self, sock):
            wrapped = self.context.wrap_socket(sock, do_handshake_on_connect=False, server_side=True)
            # The cipher is not known before the handshake; the app needs only the scheme.
            return wrapped, {"wsgi.url_scheme": "https", "HTTPS": "on", **self._server_env}

    adapter = DeferredHandshakeAdapter(cert, key)
    adapter.context.sslsocket_class = _HandshakeOnFirstRead
    return adapter


def make_tls_server(app, settings: Settings, *, host: str, port: int, cert: str, key: str, threads: int):
    """A cheroot server for `app` with TLS, the connection and timeout settings, and no server banner."""
    from cheroot import wsgi

    ensure_serving_settings(settings)

    class Server(wsgi.Server):
        def process_conn(self, conn):
            # A new connection waits in the selector until its first bytes arrive; cheroot would hand it to
            # a worker thread at once, where a silent client holds that thread for the whole timeout.
            if not getattr(conn, "waited_for_data", False):
                conn.waited_for_data = True
                self._connections.put(conn)
                return
            super().process_conn(conn)

    server = Server((host, port), app, numthreads=threads, server_name=SERVER_NAME,
                    # A worker waits this long for each read of a slow client, so it stays short.
                    timeout=min(settings.idle_timeout, 10),
                    request_queue_size=max(1024, settings.connection_limit),
                    accepted_queue_size=settings.connection_limit, accepted_queue_timeout=1)
    # Keep-alive spares phones a TLS handshake per camera frame; cheroot's default keeps only 10 connections.
    server.keep_alive_conn_limit = settings.connection_limit
    server.ssl_adapter = _adapter(cert, key)
    return server


def serve_tls(app, settings: Settings, *, host: str, port: int, cert: str | None, key: str | None,
              threads: int = 8) -> None:
    """Run the app on cheroot with TLS; without cert/key files a self-signed pair is generated."""
    if bool(cert) != bool(key):
        raise SystemExit("give both --cert and --key, or neither for a self-signed certificate")
    if not cert:
        cert_path, key_path = self_signed_certificate(INSTANCE_DIR / "tls", host=host)
        cert, key = str(cert_path), str(key_path)
        print(f"using self-signed certificate {cert}")
    server = make_tls_server(app, settings, host=host, port=port, cert=cert, key=key, threads=threads)
    ensure_open_files(settings.connection_limit)
    print(f"serving on https://{host}:{port}", flush=True)
    try:
        server.start()
    except KeyboardInterrupt:
        server.stop()
