"""docs/security.md, the threat model: what it calls public is what the app serves without a login, and the
settings, roles and files it names exist."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from serialtrace.accounts.enums import ROLES
from serialtrace.config import Settings

from tests.web.test_guards import UNGUARDED

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    """The text of the `## title` section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", DOC, re.MULTILINE | re.DOTALL)
    assert match, f"docs/security.md has no section {title!r}"
    return match.group(1)


def test_the_public_list_is_what_the_app_serves_without_a_login(app):
    named = set(re.findall(r"`(?:GET )?(/[^`\s]*)`", _section("What is public")))
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in UNGUARDED}
    # Flask writes `/survey/<token>` as the doc does; static files are written as a folder.
    served = {"/static/..." if rule.startswith("/static/") else rule for rule in rules}
    assert served == named, f"public routes {sorted(served)} but docs/security.md names {sorted(named)}"


def test_every_setting_it_names_exists():
    fields = {f"SERIALTRACE_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    named = set(re.findall(r"SERIALTRACE_[A-Z_]+[A-Z]", DOC))
    assert {"SERIALTRACE_SECRET_KEY", "SERIALTRACE_PROXY_FIX"} <= named
    assert named - fields == set(), "docs/security.md names settings the app does not read"


def test_the_role_table_covers_every_role():
    rows = re.findall(r"^\| (\w+)(?: \(\w+\))? \|", _section("Roles and what each may do"), re.MULTILINE)
    assert sorted(set(rows) - {"role"}) == sorted(ROLES)


def test_every_repository_path_it_names_exists():
    paths = set(re.findall(r"(?<![\w./-])((?:serialtrace|bench|docs|tests)/[\w./-]*[\w/])", DOC))
    names = set(re.findall(r"`((?:trace|web|warranty|accounts|quality)/[\w/]+\.py)`", DOC))
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    missing += sorted(n for n in names if not (ROOT / "serialtrace" / n).exists())
    assert missing == [], f"docs/security.md names files a clone does not have: {missing}"
