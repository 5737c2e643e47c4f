"""Keeps the layering of DESIGN.md true and the migrations in step with the models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from serialtrace.models import metadata
from serialtrace.migrate import heads

PACKAGE = Path(__file__).resolve().parents[1] / "serialtrace"

# What each part may import from the rest of the package (base modules are always allowed below web).
BASE = {"db", "errors", "config", "columns", "accounts", "gs1"}
ALLOWED = {
    "gs1": set(),
    "scanner": {"gs1"},
    "labels": {"gs1"},
    "serials": {"gs1"},
    # Users, tokens and roles sit under every domain: they import only the base modules, never trace.
    "accounts": {"db", "errors", "config", "columns"},
    "trace": BASE | {"serials"},
    "warranty": BASE | {"trace"},
    # Scanning stations resolve scans to units, batches and claims: above warranty, never below it.
    "station": BASE | {"trace", "warranty", "scanner"},
    "web": BASE | {"trace", "warranty", "scanner", "labels", "runtime", "models", "schema", "labelling",
            "station"},
    # Top-level composition used by web and cli: the one place trace data meets the labels package.
    "labelling": BASE | {"trace", "labels", "serials"},
}


def _files(part: str) -> list[Path]:
    """The source files of a subpackage, or the one file of a top-level module."""
    module = PACKAGE / f"{part}.py"
    return [module] if module.is_file() else sorted((PACKAGE / part).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Top-level serialtrace subpackages/modules a file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE).parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[:-1])[: len(rel) - node.level]
                parts = base + (node.module.split(".") if node.module else [])
                if not node.module:
                    parts = base + [alias.name for alias in node.names][:1]
            elif node.module and node.module.startswith("serialtrace"):
                parts = node.module.split(".")[1:]
            else:
                continue
            if parts:
                found.add(parts[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("serialtrace."):
                    found.add(alias.name.split(".")[1])
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


def test_migrations_have_one_head():
    assert len(heads()) == 1


def test_models_match_migrations(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []
