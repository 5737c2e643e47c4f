"""Online backups and restores into an empty database: SQLite through its backup API, PostgreSQL through
pg_dump (custom format) and pg_restore."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from .errors import Conflict, ValidationError
from .i18n import _l
from .migrate import alembic_config, heads

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
# SQLite copies this many pages per step (4 MiB at the default page size), then pauses, so the backup's reads
# leave the disk to the app's writers in between.
PAGES_PER_STEP = 1024
PAUSE_SECONDS = 0.005
# pg_restore -l lines: "<id>; <catalog oid> <oid> <TYPE words> <schema or -> <name> <owner>".
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ")
_TOC_SCHEMA = re.compile(r"^\d+; \d+ \d+ (?:SCHEMA|COMMENT) - (?:SCHEMA )?(\S+) ")


class BackupError(ValidationError):
    """A backup or restore that cannot be done (or failed); nothing under the target was changed."""

    code = "backup_failed"


@dataclass(frozen=True)
class Summary:
    """What a backup holds or a restore wrote: kind, size in bytes, schema revision, tables and rows (when known)."""

    path: Path
    kind: str
    size: int
    revision: str
    tables: int
    rows: int | None = None


def backup(engine: Engine, path: Path, *, force: bool = False, pages: int = PAGES_PER_STEP,
           pause: float = PAUSE_SECONDS) -> Summary:
    """Write an online backup of `engine`'s database to `path`, through a temporary file beside it renamed at the
    end; an existing `path` is refused unless `force`. SQLite copies `pages` pages a step, `pause` seconds apart."""
    path = Path(path)
    if path.is_dir():
        raise BackupError(_l("%(path)s is a folder; give the backup a file name"), path=str(path))
    if path.exists() and not force:
        raise BackupError(_l("%(path)s exists; give another file name or --force to overwrite it"), path=str(path))
    if not path.parent.is_dir():
        raise BackupError(_l("the folder %(folder)s does not exist"), folder=str(path.parent))
    with _partial_file(path) as partial:
        if engine.dialect.name == "sqlite":
            summary = _backup_sqlite(_sqlite_file(engine), partial, pages=pages, pause=pause)
        elif engine.dialect.name == "postgresql":
            summary = _backup_postgresql(engine, partial)
        else:
            raise BackupError(_l("backups of %(dialect)s databases are not supported"), dialect=engine.dialect.name)
        _publish(partial, path, force=force)
    return Summary(path, summary.kind, path.stat().st_size, summary.revision, summary.tables, summary.rows)


def restore(engine: Engine, path: Path) -> Summary:
    """Restore the backup at `path` into `engine`'s database, which must be empty; the file is checked first, and
    a refused or failed restore changes nothing."""
    path = Path(path)
    kind = backup_kind(path)
    if kind != engine.dialect.name:
        raise BackupError(_l("%(path)s is a %(kind)s backup, but the database is %(dialect)s"), path=str(path),
                          kind=_KIND_NAMES[kind], dialect=_KIND_NAMES.get(engine.dialect.name, engine.dialect.name))
    if kind == "sqlite":
        return _restore_sqlite(path, _sqlite_file(engine))
    return _restore_postgresql(engine, path)


def backup_kind(path: Path) -> str:
    """"sqlite" or "postgresql", from the file's first bytes; anything else is refused."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(_l("cannot read %(path)s: %(reason)s"), path=str(path),
                          reason=exc.strerror or str(exc)) from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(_l("%(path)s is not a serialtrace backup (neither a SQLite database nor a pg_dump custom-format "
                         "file)"), path=str(path))


def schema_advice(revision: str) -> str | None:
    """What to do after restoring a backup at `revision`: None when it is this code's schema."""
    head = _head()
    if revision == head:
        return None
    return (f"the backup's schema (revision {revision}) is older than this serialtrace's ({head}): "
            "run `serialtrace init`")


_KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _head() -> str:
    return heads()[0]


def _ensure_known_revision(path: Path, revision: str | None) -> None:
    """Refuse a backup without a schema revision, or one made by a newer serialtrace than this one."""
    if not revision:
        raise BackupError(_l("%(path)s holds no serialtrace schema (no alembic_version row)"), path=str(path))
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(_l("%(path)s is at schema revision %(revision)s, which this serialtrace does not know (a "
                             "newer version made it): restore it with that version"), path=str(path),
                          revision=revision)


@contextmanager
def _partial_file(path: Path) -> Iterator[Path]:
    """A new empty file beside `path`, removed unless it was renamed to `path`: a crash leaves no half backup there."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)


def _publish(partial: Path, path: Path, *, force: bool) -> None:
    """Flush `partial` to disk and give it the name `path` in one step (never over a file that appeared meanwhile,
    unless `force`)."""
    with open(partial, "rb") as f:
        os.fsync(f.fileno())
    if force:
        os.replace(partial, path)
    else:
        try:
            os.link(partial, path)  # fails if path exists, where a rename would silently replace it
        except FileExistsError:
            raise BackupError(_l("%(path)s exists; give another file name or --force to overwrite it"),
                              path=str(path)) from None
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


# SQLite


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(_l("only a SQLite database in a file can be backed up or restored"))
    return Path(database)


def _read_only(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A connection that can neither create nor change the file at `path`."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _tables_sqlite(conn: sqlite3.Connection) -> list[str]:
    return [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]


def _revision_sqlite(conn: sqlite3.Connection) -> str | None:
    if "alembic_version" not in _tables_sqlite(conn):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _count_rows_sqlite(conn: sqlite3.Connection) -> tuple[int, int]:
    tables = _tables_sqlite(conn)
    return len(tables), sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def _backup_sqlite(source: Path, partial: Path, *, pages: int, pause: float) -> Summary:
    """Copy the live database at `source` into `partial` with the backup API, page batch by page batch."""
    if not source.is_file():
        raise BackupError(_l("there is no database at %(path)s"), path=str(source))
    with closing(_read_only(source)) as src, closing(sqlite3.connect(partial, isolation_level=None)) as dst:
        # An open read transaction pins the snapshot the backup copies. Without it every commit of the app
        # between two steps restarts the backup from page one, and one that keeps writing keeps it from ever
        # ending; in WAL mode the pinned snapshot does not block those writers.
        src.execute("BEGIN")
        revision = _revision_sqlite(src)
        if revision is None:
            raise BackupError(_l("the database at %(path)s has no schema yet; run `serialtrace init`"),
                              path=str(source))
        src.backup(dst, pages=pages, progress=lambda *_: time.sleep(pause))
        src.execute("COMMIT")
        # The copy keeps the source's WAL flag; a backup is one self-contained file.
        dst.execute("PRAGMA journal_mode=DELETE")
        tables, rows = _count_rows_sqlite(dst)
    return Summary(partial, "sqlite", 0, revision, tables, rows)


def _check_sqlite_backup(path: Path) -> sqlite3.Connection:
    """Open the backup at `path` read-only after checking it is whole: its size against the page count of its
    header, then SQLite's quick check."""
    with open(path, "rb") as f:
        data = f.read(100)
    page_size = int.from_bytes(data[16:18], "big") if len(data) == 100 else 0
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(data[28:32], "big")
    header_valid = data[24:28] == data[92:96]  # the page count is only kept up to date when these agree
    size = path.stat().st_size
    if page_size < 512 or (header_valid and size < page_size * pages) or size % page_size:
        raise BackupError(_l("%(path)s is truncated or damaged (%(size)s bytes, not a whole SQLite database)"),
                          path=str(path), size=size)
    conn = _read_only(path, immutable=True)
    try:
        result = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if result != ["ok"]:
            raise BackupError(_l("%(path)s is damaged: %(reason)s"), path=str(path), reason=result[0])
        _ensure_known_revision(path, _revision_sqlite(conn))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise BackupError(_l("%(path)s is damaged: %(reason)s"), path=str(path), reason=str(exc)) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_empty_sqlite(target: Path) -> None:
    """Refuse a target file that holds tables (naming one with rows, if any)."""
    if not target.exists() or target.stat().st_size == 0:
        return
    try:
        with closing(_read_only(target)) as conn:
            tables = _tables_sqlite(conn)
            # The data tables first: a message naming batch or unit says more than one naming alembic_version.
            for table in sorted(tables, key=lambda name: name == "alembic_version"):
                if conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
                    raise Conflict(_l("the database is not empty: table %(table)s has rows; a backup is restored "
                                      "into an empty database only"), table=table)
    except sqlite3.DatabaseError as exc:
        raise BackupError(_l("cannot read the database at %(path)s: %(reason)s"), path=str(target),
                          reason=str(exc)) from None
    if tables:
        raise Conflict(_l("the database is not empty: its schema exists (%(count)s tables, such as %(table)s); a "
                          "backup is restored into an empty database only"), count=len(tables), table=tables[0])


def _restore_sqlite(path: Path, target: Path) -> Summary:
    """Copy the checked backup at `path` into the empty database file `target` with the backup API."""
    with closing(_check_sqlite_backup(path)) as src:
        revision = _revision_sqlite(src)
        tables, rows = _count_rows_sqlite(src)
        _ensure_empty_sqlite(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(target, timeout=30, isolation_level=None)) as dst:
            src.backup(dst)  # all pages in one step: one write transaction on the target
            dst.execute("PRAGMA journal_mode=WAL")
            restored = _revision_sqlite(dst)
    if restored != revision:
        raise BackupError(_l("the restored database is at revision %(restored)s, not the backup's %(revision)s"),
                          restored=restored, revision=revision)
    return Summary(target, "sqlite", target.stat().st_size, revision, tables, rows)


# PostgreSQL


def _client(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(_l("%(command)s is not installed (or not on PATH): install the PostgreSQL client tools of "
                             "the server's version"), command=name)
    return found


def _connection_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq options of `url` for pg_dump/pg_restore (host, port, user, database and the URL's other libpq
    parameters), and the environment carrying its password, which never goes on a command line."""
    args = ["-w"]  # never prompt: cron has no terminal
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    # The search_path in `options` picks the schema, which -n names explicitly; the rest (sslmode...) is kept.
    params = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items() if k != "options"}
    conninfo = " ".join(f"{k}='{_libpq_quote(v)}'" for k, v in {"dbname": url.database or "", **params}.items())
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args + ["-d", conninfo], env


def _libpq_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a client tool; a failure becomes a BackupError naming the command and its first error lines."""
    try:
        done = subprocess.run(command, capture_output=True, env=env, check=False)
    except OSError as exc:
        raise BackupError(_l("cannot run %(command)s: %(reason)s"), command=command[0],
                          reason=exc.strerror or str(exc)) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        shown = " ".join(Path(command[0]).name if i == 0 else part for i, part in enumerate(command))
        raise BackupError(_l("%(command)s failed (exit code %(code)s): %(reason)s"), command=shown,
                          code=done.returncode, reason=" / ".join(lines[:3]) or "no message")
    return done


def _schema(engine: Engine) -> str:
    """The schema the URL's tables live in: the first of its search_path (which may not exist yet)."""
    with engine.connect() as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar()
        if current:
            return current
        path = conn.execute(text("SHOW search_path")).scalar() or ""
    for item in (part.strip() for part in path.split(",")):
        if item and item != '"$user"':
            return item.strip('"')
    raise BackupError(_l("the database URL names no schema (its search_path is empty)"))


def _table_rows_pg(engine: Engine, schema: str) -> tuple[list[str], str | None]:
    """The tables of `schema`, and the first of them that has rows."""
    with engine.connect() as conn:
        tables = list(conn.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :s ORDER BY table_name"),
            {"s": schema}).scalars())
        quoted = conn.dialect.identifier_preparer.quote
        for table in sorted(tables, key=lambda name: name == "alembic_version"):
            if conn.execute(text(f"SELECT 1 FROM {quoted(schema)}.{quoted(table)} LIMIT 1")).first():
                return tables, table
    return tables, None


def _backup_postgresql(engine: Engine, partial: Path) -> Summary:
    """pg_dump -Fc of the URL's schema into `partial`."""
    pg_dump = _client("pg_dump")
    schema = _schema(engine)
    tables, _ = _table_rows_pg(engine, schema)
    if "alembic_version" not in tables:
        raise BackupError(_l("the database has no schema yet; run `serialtrace init`"))
    with engine.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
    args, env = _connection_args(engine.url)
    _run([pg_dump, "-Fc", "-n", '"' + schema.replace('"', '""') + '"', "-f", str(partial), *args], env)
    toc = _toc(partial)
    return Summary(partial, "postgresql", 0, revision, sum(1 for line in toc if _TOC_TABLE.match(line)))


def _toc(path: Path) -> list[str]:
    """The table of contents of a custom-format dump (pg_restore -l), comment lines left out."""
    listing = _run([_client("pg_restore"), "-l", str(path)]).stdout.decode(errors="replace")
    return [line for line in listing.splitlines() if line and not line.startswith(";")]


def _check_pg_backup(path: Path) -> tuple[list[str], str, str]:
    """Read the whole dump at `path` (a truncated one fails here) and return its contents, schema and revision."""
    pg_restore = _client("pg_restore")
    try:
        toc = _toc(path)
        # Reading every data block (and writing the SQL nowhere) finds a file cut short after its table of contents.
        _run([pg_restore, "-f", os.devnull, str(path)])
    except BackupError as exc:
        raise BackupError(_l("%(path)s is truncated or damaged: %(reason)s"), path=str(path),
                          reason=exc.message) from None
    schemas = {m[1] for m in map(_TOC_TABLE.match, toc) if m}
    if len(schemas) != 1:
        raise BackupError(_l("%(path)s is not a backup of one serialtrace schema"), path=str(path))
    schema = schemas.pop()
    copy = _run([pg_restore, "-f", "-", "-a", "-n", schema, "-t", "alembic_version", str(path)]).stdout.decode()
    lines = copy.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("COPY ")), None)
    revision = lines[start + 1].strip() if start is not None and start + 1 < len(lines) else ""
    _ensure_known_revision(path, "" if revision == "\\." else revision)
    return toc, schema, revision


def _restore_postgresql(engine: Engine, path: Path) -> Summary:
    """pg_restore --no-owner -1 of the checked dump at `path` into the URL's schema, which must be empty."""
    toc, schema, revision = _check_pg_backup(path)
    target = _schema(engine)
    if target != schema:
        raise BackupError(_l("%(path)s holds the schema %(schema)s, but the database URL uses %(target)s; restore "
                             "it with a URL whose search_path is %(schema)s"), path=str(path), schema=schema,
                          target=target)
    tables, with_rows = _table_rows_pg(engine, schema)
    if with_rows:
        raise Conflict(_l("the database is not empty: table %(table)s has rows; a backup is restored into an empty "
                          "database only"), table=with_rows)
    if tables:
        raise Conflict(_l("the database is not empty: its schema exists (%(count)s tables, such as %(table)s); a "
                          "backup is restored into an empty database only"), count=len(tables), table=tables[0])
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
    # An existing (empty) schema, such as a new database's public, is kept: creating it again would fail.
    entries = [line for line in toc if not (exists and (m := _TOC_SCHEMA.match(line)) and m[1] == schema)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as listing:
        listing.write("\n".join(entries) + "\n")
    try:
        args, env = _connection_args(engine.url)
        _run([_client("pg_restore"), "--no-owner", "-1", "-L", listing.name, *args, str(path)], env)
    finally:
        os.unlink(listing.name)
    with engine.connect() as conn:
        restored = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if restored != revision:
        raise BackupError(_l("the restored database is at revision %(restored)s, not the backup's %(revision)s"),
                          restored=restored, revision=revision)
    return Summary(path, "postgresql", path.stat().st_size, revision,
                   sum(1 for line in entries if _TOC_TABLE.match(line)))
