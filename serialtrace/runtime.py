"""The objects one process needs to talk to the database: settings, engine, session factory, serial scheme."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from . import models  # noqa: F401  (every table must be mapped before the first flush)
from .config import ConfigError, Settings
from .db import make_engine, make_session_factory, transaction
from .serials import SerialScheme, SerialSchemeError, make_scheme


@dataclass
class Runtime:
    """Lazily built engine and sessions for the CLI and the web app (never at import time)."""

    settings: Settings

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None) -> "Runtime":
        """Settings from defaults, environment and overrides."""
        return cls(Settings.load(overrides))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker:
        return make_session_factory(self.engine)

    @cached_property
    def read_sessions(self) -> sessionmaker:
        """Sessions for requests that only read (GET), which must not wait behind writers."""
        return make_session_factory(self.engine, read_only=True)

    def transaction(self):
        """One action, one transaction."""
        return transaction(self.sessions)

    def __post_init__(self) -> None:
        # Built at start, so a bad serial setting stops the CLI or the app at once instead of a batch later.
        self.serial_scheme()

    def serial_scheme(self) -> SerialScheme:
        """The configured serial scheme; ConfigError naming the SERIALTRACE_SERIAL_* variable at fault."""
        s = self.settings
        try:
            return make_scheme(s.serial_scheme, secret=s.serial_key, pattern=s.serial_pattern,
                               prefix=s.serial_prefix, check=s.serial_check)
        except SerialSchemeError as exc:
            raise ConfigError(f"SERIALTRACE_SERIAL_{exc.field.upper()}: {exc.message}") from None
