"""Outgoing mail against a real SMTP server in the test process: headers, UTF-8, refusals, a server that is down."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import time

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from serialtrace.config import ConfigError, Settings
from serialtrace.mail import MailError, build_message, html_of, mail_configured, send

from tests.fakesmtp import free_port, running_smtp

SENDER = "serialtrace@example.com"
BODY = "Заявка W-2026-000017 просрочена на этапе «диагностика».\nОтветственный: Иванов И. И.\n"


def _settings(host: str, port: int, **more) -> Settings:
    """Settings of a mail server at host:port, nothing taken from the environment."""
    return Settings.load({"smtp_host": host, "smtp_port": port, "mail_from": SENDER, **more}, environ={})


def _message(to=("ivanov@example.com",), subject="Просрочен этап заявки W-2026-000017", **more):
    """A message from SENDER with the Russian body."""
    return build_message(Settings.load({"mail_from": SENDER}, environ={}), to=list(to), subject=subject, text=BODY,
                         **more)


def test_a_message_arrives_with_its_headers_and_russian_body(smtp_server):
    host, port, received = smtp_server
    send(_settings(host, port), _message())
    assert len(received) == 1
    got = received[0]
    assert got.mail_from == SENDER and got.rcpt_tos == ["ivanov@example.com"]
    message = got.message
    assert message["From"] == SENDER and message["To"] == "ivanov@example.com"
    assert message["Subject"] == "Просрочен этап заявки W-2026-000017"
    sent_at = message["Date"].datetime
    assert sent_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - sent_at) < dt.timedelta(minutes=1)
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@example.com>")
    assert not message.is_multipart()
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message.get_content() == BODY


def test_every_message_has_its_own_id():
    assert _message()["Message-ID"] != _message()["Message-ID"]


def test_two_recipients_get_one_message(smtp_server):
    host, port, received = smtp_server
    send(_settings(host, port), _message(to=["ivanov@example.com", "petrova@example.com", "IVANOV@example.com"]))
    assert len(received) == 1
    assert received[0].rcpt_tos == ["ivanov@example.com", "petrova@example.com"]
    assert received[0].message["To"] == "ivanov@example.com, petrova@example.com"


def test_the_html_twin_is_the_escaped_text_with_links(smtp_server):
    host, port, received = smtp_server
    text = "Ответьте <b>здесь</b> & сейчас: https://trace.example.com/survey/abc?x=1&y=2.\n\nСпасибо"
    message = build_message(Settings.load({"mail_from": SENDER}, environ={}), to="a@example.com", subject="Опрос",
                            text=text, with_html=True)
    send(_settings(host, port), message)
    got = received[0].message
    assert got.get_content_type() == "multipart/alternative"
    plain, rich = got.get_payload()
    assert plain.get_content() == text + "\n"
    assert rich.get_content_type() == "text/html" and rich.get_content_charset() == "utf-8"
    html = rich.get_content()
    assert "<b>" not in html and "&lt;b&gt;здесь&lt;/b&gt; &amp; сейчас" in html
    link = "https://trace.example.com/survey/abc?x=1&amp;y=2"
    assert f'<a href="{link}">{link}</a>.</p>' in html
    assert "<p>Спасибо</p>" in html


def test_html_of_cannot_be_made_to_carry_markup():
    html = html_of('"><script>alert(1)</script> https://x.example.com/"onmouseover="a')
    assert "<script" not in html and 'onmouseover="' not in html
    assert '<a href="https://x.example.com/&quot;onmouseover=&quot;a">' in html


def test_a_server_that_is_down_is_a_mail_error_naming_it():
    port = free_port()  # nobody listens: the connection is refused at once
    started = time.monotonic()
    with pytest.raises(MailError, match=f"127.0.0.1:{port}"):
        send(_settings("127.0.0.1", port), _message())
    assert time.monotonic() - started < 2


def test_a_server_that_never_answers_fails_after_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are queued, never greeted
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(MailError, match=rf"127.0.0.1:{port} did not answer within 0.5 s"):
            send(_settings("127.0.0.1", port, smtp_timeout=0.5), _message())
        assert 0.4 < time.monotonic() - started < 3


def test_a_refused_recipient_is_named_and_nobody_gets_the_message(smtp_server):
    host, port, received = smtp_server
    message = _message(to=["ivanov@example.com", "unknown@example.com"])
    with pytest.raises(MailError) as caught:
        send(_settings(host, port), message)
    assert str(caught.value) == (f"the mail server {host}:{port} refused the recipient unknown@example.com "
                                 f"(550 5.1.1 no such mailbox); nothing was sent")
    assert received == []
    # The same connection-less retry goes through once the address is fixed.
    send(_settings(host, port), _message(to=["ivanov@example.com"]))
    assert [r.rcpt_tos for r in received] == [["ivanov@example.com"]]


@pytest.mark.parametrize(("field", "kwargs"), [
    ("subject", {"subject": "Hello\r\nBcc: victim@example.com"}),
    ("subject", {"subject": "Hello\nBcc: victim@example.com"}),
    ("subject", {"subject": "Hello\u2028Bcc: victim@example.com"}),
    ("subject", {"subject": " "}),
    ("subject", {"subject": "x" * 201}),
    ("to", {"to": ["ivanov@example.com\r\nBcc: victim@example.com"]}),
    ("to", {"to": ["ivanov@example.com, victim@example.com"]}),
    ("to", {"to": ["Ivanov <ivanov@example.com>"]}),
    ("to", {"to": ["ivanov"]}),
    ("to", {"to": ["ivanov@localhost"]}),
    ("to", {"to": []}),
    ("to", {"to": [f"u{i}@example.com" for i in range(51)]}),
])
def test_header_injection_and_bad_addresses_are_refused_naming_the_field(field, kwargs):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        _message(**kwargs)


def test_a_bad_sender_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^sender: '' is not an email address \(set SERIALTRACE_MAIL_FROM\)"):
        build_message(Settings.load(environ={}), to="a@example.com", subject="s", text="t")


def test_mail_is_off_without_a_host():
    settings = Settings.load(environ={})
    assert settings.smtp_host == "" and not mail_configured(settings)
    assert mail_configured(_settings("127.0.0.1", 25))
    with pytest.raises(MailError, match="mail is off: SERIALTRACE_SMTP_HOST is not set"):
        send(settings, _message())


def test_settings_come_from_the_environment():
    settings = Settings.load(environ={
        "SERIALTRACE_SMTP_HOST": "mail.example.com", "SERIALTRACE_SMTP_PORT": "587", "SERIALTRACE_MAIL_FROM": SENDER,
        "SERIALTRACE_SMTP_TIMEOUT": "2.5", "SERIALTRACE_SMTP_STARTTLS": "yes", "SERIALTRACE_SMTP_USER": "robot",
        "SERIALTRACE_SMTP_PASSWORD": "secret"})
    assert (settings.smtp_host, settings.smtp_port, settings.mail_from, settings.smtp_timeout) == (
        "mail.example.com", 587, SENDER, 2.5)
    assert (settings.smtp_starttls, settings.smtp_user, settings.smtp_password) == (True, "robot", "secret")
    defaults = Settings.load(environ={})
    assert (defaults.smtp_port, defaults.smtp_timeout, defaults.smtp_starttls, defaults.smtp_user) == (
        25, 10, False, "")


@pytest.mark.parametrize(("environ", "message"), [
    ({"SERIALTRACE_SMTP_PORT": "smtp"}, "SERIALTRACE_SMTP_PORT must be a whole number, not 'smtp'"),
    ({"SERIALTRACE_SMTP_PORT": "0"}, "SERIALTRACE_SMTP_PORT must be between 1 and 65535, not 0"),
    ({"SERIALTRACE_SMTP_PORT": "65536"}, "SERIALTRACE_SMTP_PORT must be between 1 and 65535, not 65536"),
    ({"SERIALTRACE_SMTP_TIMEOUT": "soon"}, "SERIALTRACE_SMTP_TIMEOUT must be a number, not 'soon'"),
    ({"SERIALTRACE_SMTP_TIMEOUT": "nan"}, "SERIALTRACE_SMTP_TIMEOUT must be a finite number, not 'nan'"),
    ({"SERIALTRACE_SMTP_TIMEOUT": "0"}, "SERIALTRACE_SMTP_TIMEOUT must be more than 0 seconds, not 0.0"),
    ({"SERIALTRACE_SMTP_STARTTLS": "maybe"}, "SERIALTRACE_SMTP_STARTTLS must be true or false, not 'maybe'"),
    ({"SERIALTRACE_SMTP_HOST": "mail.example.com"}, "SERIALTRACE_MAIL_FROM must be set when SERIALTRACE_SMTP_HOST is"),
    ({"SERIALTRACE_SMTP_HOST": "mail example", "SERIALTRACE_MAIL_FROM": SENDER},
     "SERIALTRACE_SMTP_HOST 'mail example' is not a host name"),
    ({"SERIALTRACE_MAIL_FROM": "Trace <t@example.com>"},
     "SERIALTRACE_MAIL_FROM 'Trace <t@example.com>' is not an email address"),
    ({"SERIALTRACE_MAIL_FROM": "t@example.com\r\nBcc: x@example.com"}, "SERIALTRACE_MAIL_FROM .* is not an email"),
    ({"SERIALTRACE_SMTP_PASSWORD": "secret"}, "SERIALTRACE_SMTP_PASSWORD is set without SERIALTRACE_SMTP_USER"),
])
def test_bad_mail_settings_name_the_variable(environ, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        Settings.load(environ=environ)


def _authenticator(server, session, envelope, mechanism, auth_data):
    """Lets robot/secret in."""
    return AuthResult(success=auth_data.login == b"robot" and auth_data.password == b"secret", handled=False)


# The test server takes a password over plain text; the app's own settings decide on STARTTLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_login_when_a_user_is_set():
    with running_smtp(authenticator=_authenticator, auth_require_tls=False, auth_required=True) as (host, port, got):
        send(_settings(host, port, smtp_user="robot", smtp_password="secret"), _message())
        assert len(got) == 1
        with pytest.raises(MailError, match=rf"{host}:{port} refused the login of SERIALTRACE_SMTP_USER 'robot': 535"):
            send(_settings(host, port, smtp_user="robot", smtp_password="wrong"), _message())
        with pytest.raises(MailError, match=rf"{host}:{port} refused the sender {SENDER}: 530 "):
            send(_settings(host, port), _message())
        assert len(got) == 1


def _certificate(folder) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_starttls_upgrades_and_checks_the_certificate(tmp_path, monkeypatch):
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with running_smtp(tls_context=context, require_starttls=True) as (host, port, got):
        with pytest.raises(MailError, match=rf"could not send mail through {host}:{port}: .*CERTIFICATE_VERIFY_FAILED"):
            send(_settings(host, port, smtp_starttls=True), _message())
        with pytest.raises(MailError, match=rf"{host}:{port} refused the sender {SENDER}: 530 Must issue a STARTTLS"):
            send(_settings(host, port), _message())
        assert got == []
        monkeypatch.setenv("SSL_CERT_FILE", cert)  # the server's certificate is the trusted one
        send(_settings(host, port, smtp_starttls=True), _message())
        assert len(got) == 1 and got[0].message.get_content() == BODY


def test_starttls_not_offered_is_a_mail_error(smtp_server):
    host, port, received = smtp_server
    with pytest.raises(MailError, match=rf"{host}:{port} does not offer STARTTLS \(SERIALTRACE_SMTP_STARTTLS is on\)"):
        send(_settings(host, port, smtp_starttls=True), _message())
    assert received == []
