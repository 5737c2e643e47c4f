"""The labels package stays pure: it imports nothing from serialtrace but gs1, and no Flask/SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import serialtrace.labels

PACKAGE = Path(serialtrace.labels.__file__).parent
FORBIDDEN = ("flask", "sqlalchemy", "sqlmodel")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_labels_imports_only_gs1_from_serialtrace_and_no_web_or_database():
    for path in PACKAGE.glob("*.py"):
        for name in _imports(path):
            if name.startswith("serialtrace"):
                assert name == "serialtrace" or name.startswith("serialtrace.gs1"), (path.name, name)
            assert not name.startswith(FORBIDDEN), (path.name, name)


def test_public_api_names():
    for name in ("LabelData", "LabelTemplate", "LabelError", "PrinterError", "builtin_templates", "load_template",
                 "render_pdf", "render_zpl", "render_png", "render_svg", "send_zpl", "quarantine_label"):
        assert hasattr(serialtrace.labels, name), name
