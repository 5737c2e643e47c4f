"""Keeps the layering of DESIGN.md true and the migrations in step with the models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from serialtrace.db import load_models
from serialtrace.migrate import heads

metadata = load_models()

PACKAGE = Path(__file__).resolve().parents[1] / "serialtrace"

# What each part may import from the rest of the package (base modules are always allowed below web).
BASE = {"db", "errors", "config", "columns", "accounts", "gs1", "i18n", "mail"}
ALLOWED = {
    # The pure packages may mark messages for translation: i18n is standard library only.
    "gs1": {"i18n"},
    "scanner": {"gs1", "i18n"},
    "labels": {"gs1", "i18n"},
    "serials": {"gs1", "i18n"},
    # Users, tokens and roles sit under every domain: they import only the base modules, never trace.
    "accounts": {"db", "errors", "config", "columns", "i18n"},
    # Scans name units: trace reads the pure scanner's parse to find the unit a label names.
    "trace": BASE | {"serials", "scanner"},
    "warranty": BASE | {"trace"},
    # Scanning stations resolve scans to units, batches and claims: above warranty, never below it.
    "station": BASE | {"trace", "warranty", "scanner", "serials"},
    # The dashboard's queries, holds and recalls read claims and verdicts: above warranty, beside station.
    "quality": BASE | {"trace", "warranty"},
    "web": BASE | {"trace", "warranty", "scanner", "labels", "runtime", "labelling",
            "station", "quality"},
    # Top-level composition used by web and cli: the one place trace data meets the labels package.
    "labelling": BASE | {"trace", "labels", "serials"},
    # Root modules. The base imports only what is below it; errors and columns nothing at all.
    "__init__": set(),
    "errors": {"i18n"},
    "columns": set(),
    # The translation marker and Message type: standard library only, so every part may use it.
    "i18n": set(),
    "config": {"errors"},
    # Outgoing mail over SMTP: the settings only, so any part may notify people.
    "mail": {"config"},
    "db": {"errors", "i18n"},
    "migrate": {"errors"},
    # Backups and restores: the engine's database, checked against the packaged migrations.
    "backup": {"errors", "i18n", "migrate"},
    # Composition roots: the settings and sessions, the packaged migrations (db.load_models() finds the tables by name).
    "runtime": BASE | {"serials"},
    "migrations": {"config", "db", "errors", "migrate"},
    # The top: demo data made through the services, and the console script (cli/, a module per command group).
    "demo": BASE | {"trace", "warranty", "station", "labelling", "runtime", "labels", "serials", "scanner"},
    "cli": BASE | {"trace", "warranty", "station", "quality", "labelling", "runtime", "labels", "serials", "scanner",
            "migrate", "demo", "web", "backup"},
}


def _files(part: str) -> list[Path]:
    """The source files of a subpackage, or the one file of a top-level module."""
    module = PACKAGE / f"{part}.py"
    return [module] if module.is_file() else sorted((PACKAGE / part).rglob("*.py"))


def _part(path: Path) -> str:
    """The part a source file belongs to: its top-level subpackage, or its root module's name."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    """Top-level serialtrace subpackages/modules a file imports."""
    return _imported_parts(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).parts)


def _imported_parts(source: str, rel: tuple[str, ...]) -> set[str]:
    """Top-level parts imported by `source`, the file at `rel` below the package, lazy and relative imports included."""
    return {name[0] for name in _imported_names(source, rel)}


def _imported_names(source: str, rel: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Every serialtrace name `source` imports, as a path below the package: ("web", "ui", "common")."""
    package = ["serialtrace", *rel[:-1]]  # the package the file is in (its folder)
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > len(package):
                raise AssertionError(f"{'/'.join(rel)}: relative import beyond the top-level package")
            base = package[: len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            # `from X import a, b` may import the modules X.a and X.b: every name counts, not the first one only.
            names = [module + [alias.name] for alias in node.names]
        else:
            continue
        found.update(tuple(name[1:]) for name in names if name[0] == "serialtrace" and len(name) > 1)
    return found


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_dependency_direction(part):
    bad = []
    files = _files(part)
    assert files, f"no source files for {part}"
    for path in files:
        extra = _imports(path) - ALLOWED[part] - {part}
        if extra:
            bad.append(f"{path.relative_to(PACKAGE)} imports {sorted(extra)}")
    assert not bad, "\n".join(bad)


def test_every_module_has_a_rule():
    """A new root module or package must be placed in the layering, not slip past the direction test."""
    parts = {_part(path) for path in PACKAGE.rglob("*.py")}
    assert parts - set(ALLOWED) == set(), "parts without an ALLOWED entry"
    stale = {name for allowed in ALLOWED.values() for name in allowed} | set(ALLOWED)
    assert stale - parts == set(), "ALLOWED names parts that do not exist"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (part -> parts it imports) as a path that returns to its start, or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None


def test_parts_import_each_other_without_cycles():
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        part = _part(path)
        graph.setdefault(part, set()).update(_imports(path) - {part})
    cycle = _cycle(graph)
    assert cycle is None, f"import cycle between parts: {' -> '.join(cycle)}"


def test_the_allowed_directions_have_no_cycle():
    cycle = _cycle({part: allowed - {part} for part, allowed in ALLOWED.items()})
    assert cycle is None, f"ALLOWED permits a cycle: {' -> '.join(cycle)}"


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("rel, source, parts", [
    ("cli/lookup.py", "from .. import accounts, trace", {"accounts", "trace"}),
    ("cli/lookup.py", "from ..trace import queries as trace_queries", {"trace"}),
    ("cli/__init__.py", "from . import batches, lookup", {"cli"}),
    ("web/auth.py", "from .. import accounts", {"accounts"}),
    ("web/auth.py", "from .. import (\n    db,\n    errors,\n)", {"db", "errors"}),
    ("web/auth.py", "from . import errors", {"web"}),
    ("web/auth.py", "from ..trace.models import Unit", {"trace"}),
    ("web/api/units.py", "from .. import auth", {"web"}),
    ("web/api/units.py", "from ... import station, warranty", {"station", "warranty"}),
    ("web/api/units.py", "from ...trace import queries", {"trace"}),
    ("labels/gs1data.py", "from serialtrace import gs1, scanner", {"gs1", "scanner"}),
    ("labels/gs1data.py", "import serialtrace.trace.models as m\nimport serialtrace", {"trace"}),
    ("trace/__init__.py", "from . import models", {"trace"}),
    ("demo.py", "def make():\n    from .warranty import service\n", {"warranty"}),
    ("demo.py", "import json\nfrom sqlalchemy import select", set()),
])
def test_imports_are_read_relative_and_absolute(rel, source, parts):
    assert _imported_parts(source, tuple(rel.split("/"))) == parts


def test_a_relative_import_above_the_package_is_reported():
    with pytest.raises(AssertionError, match="beyond the top-level package"):
        _imported_parts("from ... import db", ("cli", "lookup.py"))


def _web_side(side: str) -> list[Path]:
    """The files of web/<side>/ (or the one file web/<side>.py)."""
    folder = PACKAGE / "web" / side
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [p for p in [folder.with_suffix(".py")] if p.is_file()]


@pytest.mark.parametrize("side, other", [("ui", "api"), ("api", "ui")])
def test_pages_and_api_do_not_import_each_other(side, other):
    """web/ui and web/api stand side by side on the shared web modules (auth, database, printing ...)."""
    files = _web_side(side)
    assert files, f"no source files for web/{side}"
    bad = [str(path.relative_to(PACKAGE)) for path in files
           if any(name[:2] == ("web", other)
                  for name in _imported_names(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).parts))]
    assert bad == [], f"these import web/{other}"


@pytest.mark.parametrize("rel, source, reaches_api", [
    ("web/ui/labels.py", "from ..api import batches", True),
    ("web/ui/labels.py", "from .. import api", True),
    ("web/ui/labels.py", "from ..printing import start_job", False),
    ("web/ui/labels.py", "from serialtrace.web.api.units import x", True),
])
def test_imports_of_the_api_are_seen_from_the_pages(rel, source, reaches_api):
    names = _imported_names(source, tuple(rel.split("/")))
    assert any(name[:2] == ("web", "api") for name in names) is reaches_api


def test_only_web_imports_flask():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] in ("web",):
            continue
        text = path.read_text(encoding="utf-8")
        if "import flask" in text or "from flask" in text:
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_pure_packages_import_no_database_code():
    for part in ("gs1", "scanner", "labels", "serials"):
        for path in (PACKAGE / part).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "sqlalchemy" not in text and "sqlmodel" not in text, path


# Pure modules inside a domain package: numbers in, frozen dataclasses out, so the dashboard, API and CLI share them.
PURE_MODULES = ("trace/analytics.py", "warranty/sla.py")


def test_pure_modules_import_no_database_or_web_code():
    for name in PURE_MODULES:
        tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        roots = {module.split(".")[0] for module in imported}
        assert not roots & {"sqlalchemy", "sqlmodel", "flask", "flask_openapi3", "flask_babel"}, name
        # errors is pure too (it imports only i18n): a pure module may refuse input naming the field.
        assert {module for module in imported if module.startswith("serialtrace")} <= {"serialtrace.i18n",
                                                                                       "serialtrace.errors"}, name


def test_migrations_have_one_head():
    assert len(heads()) == 1


def test_models_match_migrations(engine):
    with engine.connect() as conn:
        # Types are compared too: a column the models make String(64) and a migration String(100) is a difference.
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []
