"""The objects one process needs to talk to the database: settings, engine, session factories, serial scheme."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .config import ConfigError, Settings
from .db import load_models, make_engine, make_session_factory, transaction
from .serials import SerialScheme, SerialSchemeError, make_scheme


class Runtime:
    """Engine and sessions for the CLI and the web app, built lazily (never at import time) unless injected.

    A caller that manages the connection itself (a test inside one rolled-back transaction, a tool with its own
    pool) passes `engine`, `sessions` and `read_sessions`; whatever it leaves out is made from the settings.
    """

    def __init__(self, settings: Settings, *, engine: Engine | None = None, sessions: sessionmaker | None = None,
                 read_sessions: sessionmaker | None = None) -> None:
        self.settings = settings
        load_models()  # every table mapped before the first flush, whichever domains this process touches
        self._engine = engine
        self._sessions = sessions
        self._read_sessions = read_sessions
        # Built at start, so a bad serial setting stops the CLI or the app at once instead of a batch later.
        self.serial_scheme()

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None, **parts: Any) -> Runtime:
        """Settings from defaults, environment and overrides; `parts` are the injected engine or factories."""
        return cls(Settings.load(overrides), **parts)

    @property
    def engine(self) -> Engine:
        """The engine of SERIALTRACE_DATABASE_URL (or the injected one)."""
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def sessions(self) -> sessionmaker:
        """Sessions for actions that write: on SQLite each transaction takes the write lock at BEGIN."""
        if self._sessions is None:
            self._sessions = make_session_factory(self.engine)
        return self._sessions

    @property
    def read_sessions(self) -> sessionmaker:
        """Sessions for actions that only read, which must not wait behind writers."""
        if self._read_sessions is None:
            self._read_sessions = make_session_factory(self.engine, read_only=True)
        return self._read_sessions

    def transaction(self):
        """One action, one transaction."""
        return transaction(self.sessions)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for an action that only reads: it never waits for SQLite's write lock and commits nothing."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            # Rolled back, not committed: a read has nothing to keep, and a stray write is dropped, not saved.
            session.rollback()
            session.close()

    def serial_scheme(self) -> SerialScheme:
        """The configured serial scheme; ConfigError naming the SERIALTRACE_SERIAL_* variable at fault."""
        s = self.settings
        try:
            return make_scheme(s.serial_scheme, secret=s.serial_key, pattern=s.serial_pattern,
                               prefix=s.serial_prefix, check=s.serial_check)
        except SerialSchemeError as exc:
            raise ConfigError(f"SERIALTRACE_SERIAL_{exc.field.upper()}: {exc.message}") from None
