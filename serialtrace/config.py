"""Settings: defaults in code, overridden by SERIALTRACE_* environment variables, then by a mapping."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Environment names kept shorter than SERIALTRACE_<FIELD> where the documentation promised them.
ENV_ALIASES = {"label_templates_dir": "SERIALTRACE_LABEL_TEMPLATES", "instance_dir": "SERIALTRACE_INSTANCE"}
INSTANCE_DIR = Path(os.environ.get("SERIALTRACE_INSTANCE", Path.cwd() / "instance"))


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'serialtrace.sqlite'}"


# Development only: with this key anyone holding the source can predict the opaque serials.
DEFAULT_SERIAL_KEY = "serialtrace-default-serial-key"


@dataclass(frozen=True)
class Settings:
    """Every setting the app reads, with its default."""

    database_url: str = field(default_factory=_default_database_url)
    # Without SERIALTRACE_SECRET_KEY the app keeps a generated key in the instance folder (see instance_secret_key).
    secret_key: str = ""
    # The folder of files the app keeps between runs: the default database, the generated secret key, TLS files.
    instance_dir: str = field(default_factory=lambda: str(INSTANCE_DIR))
    # Days added to the warranty end before a unit counts as out of warranty.
    warranty_grace_days: int = 0
    # Days a customer has to send a claimed unit in; after that the case becomes not_returned and an advance-replaced
    # claim is billed.
    warranty_return_days: int = 14
    # Bill the customer when the returned unit shows no fault (else the claim is settled at no charge).
    warranty_bill_no_fault: bool = True
    # Calendar days of the statutory (consumer-law) deadline shown beside a claim's business clocks, counted from
    # registration and never paused; 0: no statutory deadline (business-to-business only).
    warranty_statutory_days: int = 45
    serial_scheme: str = "opaque"
    serial_pattern: str = "{prefix}{yy}{ww}{seq:06d}"
    serial_prefix: str = ""
    serial_key: str = DEFAULT_SERIAL_KEY
    # Check character appended to new serials for manual entry: none, damm (digits) or mod37_36 (letters and digits).
    serial_check: str = "none"
    # Folder of user label templates (*.json, *.toml), offered next to the built-in ones.
    label_templates_dir: str = ""
    printers: str = ""
    # Flask's MAX_CONTENT_LENGTH, sized for ERP imports; the scan endpoints also apply the image limit.
    max_upload_bytes: int = 20 * 1024 * 1024
    # Largest file kept with a claim (photos, documents), in bytes.
    attachment_max_bytes: int = 10 * 1024 * 1024
    # A disposition of a unit worth more than this (in the products' price currency, whole units) needs quality's
    # approval; scrap always does.
    warranty_approval_value: int = 500
    timezone: str = "UTC"
    # Where people reach the app; labels of products without a GTIN carry a QR of <public_url>/units/<serial>.
    public_url: str = "http://127.0.0.1:5000"
    session_cookie_secure: bool = False
    # Reverse proxies in front of the app whose X-Forwarded-For/Proto/Host/Port/Prefix are trusted (0: none).
    proxy_fix: int = 0
    # Strict-Transport-Security max-age sent on https answers (0: not sent).
    hsts_max_age: int = 365 * 24 * 3600
    # `serve`: open connections accepted at once, and seconds a connection may sit idle before it is closed.
    connection_limit: int = 1000
    idle_timeout: int = 30
    # Outgoing mail (escalations, surveys): no host means mail is off and nothing is sent.
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = ""
    # Seconds to wait for the mail server to connect or answer before the send counts as failed.
    smtp_timeout: float = 10.0
    # Upgrade the connection with STARTTLS before logging in or sending.
    smtp_starttls: bool = False
    # Login at the mail server; both empty: no login.
    smtp_user: str = ""
    smtp_password: str = ""
    # Days a customer's survey link (mailed when a claim closes) can be answered, counted from the mail.
    survey_days: int = 30
    # Hours a complaint may stay in draft or registered before the daily registration report lists it.
    stale_registration_hours: int = 24
    # Seconds between the escalation passes `serve` runs in the background (0: none; cron runs `escalate`).
    escalation_interval: int = 60
    # Flood limits (web/ratelimit.py), counted per process in a sliding window of `rate_limit_window` seconds;
    # 0 turns one off. Survey links: GETs and answers per client address. Sign-in: form posts per client address
    # (on top of the failed sign-in lockout), and, counted apart, API calls refused with 401 per client address.
    # API: calls per bearer token (stations may share one), or per address without one.
    rate_limit_window: int = 60
    rate_limit_survey: int = 30
    rate_limit_login: int = 60
    rate_limit_api: int = 12000
    testing: bool = False

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from defaults, the environment, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"SERIALTRACE_{f.name.upper()}")
            if raw is None and f.name in ENV_ALIASES:
                raw = environ.get(ENV_ALIASES[f.name])
            if raw is not None:
                values[f.name] = _coerce(raw, f.type, f"SERIALTRACE_{f.name.upper()}")
        settings = replace(cls(), **values)
        if overrides:
            known = {f.name for f in fields(cls)}
            settings = replace(settings, **{k.lower(): v for k, v in overrides.items() if k.lower() in known})
        _ensure_zone(settings.timezone)
        _ensure_mail(settings)
        if not 0 <= settings.warranty_statutory_days <= 3650:
            raise ConfigError("SERIALTRACE_WARRANTY_STATUTORY_DAYS must be between 0 (no statutory deadline) and "
                              f"3650 days, not {settings.warranty_statutory_days}")
        if not 1 <= settings.survey_days <= 365:
            raise ConfigError(f"SERIALTRACE_SURVEY_DAYS must be between 1 and 365 days, not {settings.survey_days}")
        if not 1 <= settings.stale_registration_hours <= 24 * 366:
            raise ConfigError(f"SERIALTRACE_STALE_REGISTRATION_HOURS must be between 1 and {24 * 366} hours, "
                              f"not {settings.stale_registration_hours}")
        if not 0 <= settings.escalation_interval <= 24 * 3600:
            raise ConfigError("SERIALTRACE_ESCALATION_INTERVAL must be between 0 (no background pass) and 86400 "
                              f"seconds, not {settings.escalation_interval}")
        _ensure_rate_limits(settings)
        return settings


def _ensure_rate_limits(settings: Settings) -> None:
    """Limits that count: a window of a second to a day, no negative limit."""
    if not 1 <= settings.rate_limit_window <= 24 * 3600:
        raise ConfigError(f"SERIALTRACE_RATE_LIMIT_WINDOW must be between 1 and 86400 seconds, "
                          f"not {settings.rate_limit_window}")
    for name in ("rate_limit_survey", "rate_limit_login", "rate_limit_api"):
        if not 0 <= getattr(settings, name) <= 1_000_000:
            raise ConfigError(f"SERIALTRACE_{name.upper()} must be between 0 (no limit) and 1000000, "
                              f"not {getattr(settings, name)}")


def _ensure_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; a typo must not silently shift every business date to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SERIALTRACE_TIMEZONE {name!r} is not a time zone (for example Europe/Moscow)") from None


def _ensure_mail(settings: Settings) -> None:
    """The mail settings hang together: a reachable port, a positive timeout, a sender when mail is on."""
    if not 1 <= settings.smtp_port <= 65535:
        raise ConfigError(f"SERIALTRACE_SMTP_PORT must be between 1 and 65535, not {settings.smtp_port}")
    if not settings.smtp_timeout > 0:
        raise ConfigError(f"SERIALTRACE_SMTP_TIMEOUT must be more than 0 seconds, not {settings.smtp_timeout}")
    if any(ch.isspace() or ch in "/@" for ch in settings.smtp_host):
        raise ConfigError(f"SERIALTRACE_SMTP_HOST {settings.smtp_host!r} is not a host name "
                          f"(for example mail.example.com)")
    if settings.smtp_password and not settings.smtp_user:
        raise ConfigError("SERIALTRACE_SMTP_PASSWORD is set without SERIALTRACE_SMTP_USER")
    if settings.mail_from and not is_mail_address(settings.mail_from):
        raise ConfigError(f"SERIALTRACE_MAIL_FROM {settings.mail_from!r} is not an email address "
                          f"(for example serialtrace@example.com)")
    if settings.smtp_host and not settings.mail_from:
        raise ConfigError("SERIALTRACE_MAIL_FROM must be set when SERIALTRACE_SMTP_HOST is (the sender of every mail)")


# Characters an address of ours never holds: display-name and list syntax, quoting, line breaks (header injection).
_NOT_IN_ADDRESS = frozenset('<>,;:"\\()[] \t\r\n')


def is_mail_address(text: str) -> bool:
    """A bare ASCII address local@domain.tld: no display name, no list, no spaces or line breaks."""
    local, at, domain = text.rpartition("@")
    return (bool(at and local and "@" not in local) and text.isascii() and text.isprintable()
            and not _NOT_IN_ADDRESS.intersection(text)
            and "." in domain and not domain.startswith(".") and not domain.endswith(".") and ".." not in domain)


def business_today(settings: Settings) -> date:
    """Today's date where the business is (SERIALTRACE_TIMEZONE), not on the server's clock."""
    return datetime.now(_ensure_zone(settings.timezone)).date()


class ConfigError(ValueError):
    """A SERIALTRACE_* variable holds something its setting cannot take."""


SECRET_KEY_FILE = "secret_key"
SECRET_KEY_MIN = 32


def instance_secret_key(folder: str | Path) -> str:
    """The secret key kept in `folder`/secret_key, generated once (readable by the owner only) when there is none.

    Signed cookies and form tokens outlive a restart with it; several server processes starting at once end with
    the same key. Raises ConfigError naming the file when it holds no usable key.
    """
    folder = Path(folder)
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        made = folder / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
            # A hard link appears whole or not at all and never replaces a key another process published first.
            try:
                os.link(made, path)
            except FileExistsError:
                pass
        finally:
            made.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        # Anyone who can read the key can forge a login: the file is the owner's alone, as when it was made.
        path.chmod(0o600)
    key = path.read_text(encoding="utf-8", errors="replace").strip()
    if len(key) < SECRET_KEY_MIN:
        raise ConfigError(f"the secret key file {path} holds no key of at least {SECRET_KEY_MIN} characters; "
                          f"delete it to have a new one made, or set SERIALTRACE_SECRET_KEY")
    return key


def _coerce(raw: str, type_name: Any, name: str) -> Any:
    """Turn an environment string into the field's type; a bad value names the variable."""
    if type_name in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if type_name in (float, "float"):
        try:
            number = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{name} must be a finite number, not {raw!r}")
        return number
    if type_name in (bool, "bool"):
        value = raw.strip().lower()
        if value not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
            raise ConfigError(f"{name} must be true or false, not {raw!r}")
        return value in {"1", "true", "yes", "on"}
    return raw
