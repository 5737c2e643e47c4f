"""Settings: defaults in code, overridden by SERIALTRACE_* environment variables, then by a mapping."""

from __future__ import annotations

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
        return settings


def _ensure_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; a typo must not silently shift every business date to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SERIALTRACE_TIMEZONE {name!r} is not a time zone (for example Europe/Moscow)") from None


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
    if type_name in (bool, "bool"):
        value = raw.strip().lower()
        if value not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
            raise ConfigError(f"{name} must be true or false, not {raw!r}")
        return value in {"1", "true", "yes", "on"}
    return raw
