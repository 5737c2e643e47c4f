"""The catalogs: every marked string of the sources has a Russian translation, and the shipped .mo files are current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = ROOT / "serialtrace" / "translations"
PYBABEL = Path(sys.executable).with_name("pybabel")


def _catalog(path: Path):
    with path.open("rb") as handle:
        return read_mo(handle) if path.suffix == ".mo" else read_po(handle)


def _key(message):
    return tuple(message.id) if isinstance(message.id, list | tuple) else message.id


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The template catalog extracted now from the sources, by the Makefile's own i18n-extract."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(["make", "-s", "i18n-extract", f"POT={pot}", f"PYBABEL={PYBABEL}"], cwd=ROOT, check=True,
                   env={**os.environ, "MAKEFLAGS": ""}, capture_output=True, timeout=120)
    return _catalog(pot)


def test_extraction_finds_the_strings_of_every_layer(template):
    ids = {_key(m) for m in template if m.id}
    # A template, a view, a domain error (_l), a pure package's error, a count (_n) and an enum label.
    for expected in ("Scanning station", "wrong user name or password", "no unit with serial %(serial)r",
                     "(%(ai)s) check digit is %(found)s, expected %(expected)s",
                     ("%(count)s unit", "%(count)s units"), "Shipped to customer"):
        assert expected in ids


def test_every_string_has_a_russian_translation(template):
    russian = _catalog(CATALOGS / "ru" / "LC_MESSAGES" / "messages.po")
    translated = {_key(m): m for m in russian if m.id}
    missing, fuzzy = [], []
    for message in template:
        if not message.id:
            continue
        found = translated.get(_key(message))
        strings = (found.string if isinstance(found.string, tuple) else (found.string,)) if found else ()
        if not found or not all(strings):
            missing.append(message.id)
        elif found.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"untranslated (run make i18n-update, translate, make i18n-compile): {missing}"
    assert not fuzzy, f"fuzzy translations to check: {fuzzy}"


def test_russian_plurals_have_three_forms_and_placeholders_match():
    russian = _catalog(CATALOGS / "ru" / "LC_MESSAGES" / "messages.po")
    assert russian.num_plurals == 3
    problems = []
    for message in russian:
        if not message.id:
            continue
        try:
            python_format(russian, message)
        except Exception as exc:  # noqa: BLE001 - each checker failure is collected and shown
            problems.append(f"{message.id!r}: {exc}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_shipped_compiled_catalog_matches_its_source(language):
    folder = CATALOGS / language / "LC_MESSAGES"
    def strings(message):
        return tuple(message.string) if isinstance(message.string, list | tuple) else message.string

    source = {_key(m): strings(m) for m in _catalog(folder / "messages.po") if m.id and not m.fuzzy}
    # An untranslated plural is written with the English forms: the same as no translation.
    compiled = {_key(m): strings(m) for m in _catalog(folder / "messages.mo")
                if m.id and not (isinstance(_key(m), tuple) and strings(m) == _key(m))}
    expected = {key: value for key, value in source.items()
                if value and (not isinstance(value, tuple) or all(value))}
    assert compiled == expected, "run make i18n-compile and commit the .mo files"
