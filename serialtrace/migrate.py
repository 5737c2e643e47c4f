"""Create or upgrade the database schema through the Alembic migrations shipped in the package."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from .errors import AppendOnly

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration (or `revision`), in one transaction."""
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision`, in one transaction."""
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic upgrade or downgrade to `revision` in one transaction."""
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        # SQLite changes a column's type by copying the table and dropping the old one, which the foreign keys of
        # rows pointing at it forbid: its documented procedure turns them off around the change (outside any
        # transaction, where the pragma takes effect) and checks them before committing.
        raw = conn.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def heads() -> list[str]:
    """The migration heads (there must be exactly one)."""
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


# History tables (unit events, the scan log, the warranty's timelines) are append-only in the database itself,
# so no caller (Core update(), raw SQL, a console, a later bug) can rewrite the past. A migration that creates
# such a table calls make_append_only(table) after creating it, and drop_append_only(table) before dropping it.
# On SQLite a batch_alter_table copy of the table drops its triggers: call make_append_only again after one.
# The statements are part of the revisions that use them: change them only together with a new revision.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,40}")


def _checked(table: str) -> str:
    """The table name, refused unless it is a plain lower-case identifier (it is spliced into DDL)."""
    if not isinstance(table, str) or not _IDENTIFIER.fullmatch(table):
        raise ValueError(f"not a plain table name: {table!r}")
    return table


def append_only_ddl(table: str, dialect: str) -> list[str]:
    """Statements that make `table` refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) from any caller."""
    table = _checked(table)
    message = AppendOnly.TEMPLATE.format(table=table)
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_append_only_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                for action in ("UPDATE", "DELETE")]
    if dialect == "postgresql":
        # restrict_violation is an integrity error, as SQLite's RAISE(ABORT) is: one path in db turns both into
        # AppendOnly.
        return [
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION USING MESSAGE = '{message}', ERRCODE = 'restrict_violation'; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
            f"CREATE TRIGGER {table}_append_only_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
        ]
    raise ValueError(f"append-only tables are not implemented for {dialect!r}")


def drop_append_only_ddl(table: str, dialect: str) -> list[str]:
    """Statements that undo append_only_ddl(table, dialect)."""
    table = _checked(table)
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only_{action}" for action in ("update", "delete")]
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP FUNCTION IF EXISTS {table}_append_only()"]
    raise ValueError(f"append-only tables are not implemented for {dialect!r}")


def make_append_only(table: str) -> None:
    """In a migration: make `table` refuse UPDATE and DELETE, whatever the caller."""
    for statement in append_only_ddl(table, op.get_bind().dialect.name):
        op.execute(statement)


def drop_append_only(table: str) -> None:
    """In a migration: let `table` be changed again (before dropping or rebuilding it)."""
    for statement in drop_append_only_ddl(table, op.get_bind().dialect.name):
        op.execute(statement)


def append_only_tables(connection: Connection) -> set[str]:
    """Tables of the connected database that carry every append-only trigger."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        rows = connection.exec_driver_sql("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'").all()
    elif dialect == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace").all()
    else:
        raise ValueError(f"append-only tables are not implemented for {dialect!r}")
    triggers: dict[str, set[str]] = {}
    for table, name in rows:
        triggers.setdefault(table, set()).add(name)
    # The trigger names append_only_ddl creates are the statements' first words after CREATE TRIGGER.
    return {table for table, names in triggers.items() if _IDENTIFIER.fullmatch(table)
            and {s.split()[2] for s in append_only_ddl(table, dialect) if s.startswith("CREATE TRIGGER")} <= names}
