"""README: every path it names exists in a clone, and its table of roles says what the code allows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from serialtrace.accounts.enums import ROLES, Role
from serialtrace.runtime import Runtime
from serialtrace.web import create_app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Paths inside the repository, as README writes them in text, code spans, links and commands.
REPO_PATH = re.compile(r"(?<![\w./-])((?:tests|docs|serialtrace|bench|\.ci)/[\w./-]*[\w/])")
# Commands of the examples that read a file the reader has to have.
READS_A_FILE = re.compile(r"^serialtrace (?:import|scan) (\S+)", re.MULTILINE)
TICK = "✓"


def test_every_repository_path_in_the_readme_exists():
    paths = set(REPO_PATH.findall(README))
    assert {"docs/station.png", "tests/data/erp/products.csv"} <= paths
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert missing == [], f"README names paths a clone does not have: {missing}"


def test_example_commands_read_files_that_exist():
    files = READS_A_FILE.findall(README)
    assert len(files) >= 2, files
    missing = [f for f in files if not (ROOT / f).is_file()]
    assert missing == [], f"README's examples read files a clone does not have: {missing}"


def test_the_screenshot_is_a_png_of_a_desktop_page():
    data = (ROOT / "docs" / "station.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 1024 and height >= 600, (width, height)


def _role_table() -> list[tuple[str, list[tuple[str | None, str]], set[str]]]:
    """(what, [(method or None, path)], roles ticked) for each row of README's table of roles."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| what | where |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    assert header[2:] == list(ROLES), header
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        items = [(m or None, p) for m, p in re.findall(r"`(?:(GET|POST) )?(/[^`\s]*)`", cells[1])]
        roles = {role for role, cell in zip(ROLES, cells[2:], strict=True) if cell.startswith(TICK)}
        rows.append((cells[0], items, roles))
    return rows


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """(method, path as README writes it, roles allowed) of every route that checks the role, from the app."""
    path = tmp_path_factory.mktemp("readme") / "app.sqlite"
    app = create_app(runtime=Runtime.from_env({"database_url": f"sqlite:///{path}", "serial_key": "readme-key"}))
    out = []
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "required_roles", None)
        if roles is None:
            continue  # public: the login, the static files, the OpenAPI document
        allowed = set(ROLES) if not roles else {str(r) for r in roles} | {Role.ADMIN.value}
        shown = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, shown, allowed))
    return out


def test_the_table_of_roles_says_what_the_code_allows(rules):
    wrong = []
    for what, items, ticked in _role_table():
        assert items, f"row {what!r} names no page or API call"
        for method, path in items:
            found = [allowed for m, p, allowed in rules if p == path and method in (None, m)]
            assert found, f"row {what!r}: no route {method or ''} {path}".replace("  ", " ")
            wrong += [(what, method, path, sorted(allowed)) for allowed in found if allowed != ticked]
    assert wrong == [], f"README's table of roles disagrees with the code: {wrong}"


def test_every_guarded_route_is_in_the_table_of_roles(rules):
    listed = {(method, path) for _, items, _ in _role_table() for method, path in items}
    missing = sorted({(m, p) for m, p, _ in rules if (m, p) not in listed and (None, p) not in listed})
    assert missing == [], f"routes README's table of roles does not list: {missing}"
