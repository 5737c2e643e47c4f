"""Serve over https (browsers give a page the camera only on https or localhost) with cheroot."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from pathlib import Path

from ..config import INSTANCE_DIR


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
    now = dt.datetime.now(dt.timezone.utc)
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


def serve_tls(app, *, host: str, port: int, cert: str | None, key: str | None, threads: int = 8) -> None:
    """Run the app on cheroot with TLS; without cert/key files a self-signed pair is generated."""
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    if bool(cert) != bool(key):
        raise SystemExit("give both --cert and --key, or neither for a self-signed certificate")
    if not cert:
        cert_path, key_path = self_signed_certificate(INSTANCE_DIR / "tls", host=host)
        cert, key = str(cert_path), str(key_path)
        print(f"using self-signed certificate {cert}")
    server = wsgi.Server((host, port), app, numthreads=threads, server_name="serialtrace")
    server.ssl_adapter = BuiltinSSLAdapter(cert, key)
    print(f"serving on https://{host}:{port}")
    try:
        server.start()
    except KeyboardInterrupt:
        server.stop()
