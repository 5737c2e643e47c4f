"""Alembic environment: runs against the engine handed in by `serialtrace init`, or the configured URL."""

from alembic import context

from serialtrace.config import Settings
from serialtrace.db import load_models, make_engine

metadata = load_models()

config = context.config


def run_migrations_online() -> None:
    """Migrate using a connection passed in attributes, or one made from the settings."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.load().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


def _run(connection) -> None:
    # render_as_batch lets SQLite alter tables by copying them.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `serialtrace init`")
run_migrations_online()
