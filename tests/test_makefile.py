"""The Makefile: `make run` sets up only what serving needs; the test lanes add the browser, poppler and the extras."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY = ("chromium", "poppler-utils", "'.[test]'")


def _make(*args: str, env: dict[str, str] | None = None) -> str:
    run = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True, text=True,
                         timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _dry_run(target: str) -> str:
    """What `make <target>` would run on a fresh clone (every target out of date), without running it."""
    return _make("-n", "-B", target)


def test_make_run_installs_only_what_serving_needs():
    plan = _dry_run("run")
    assert "libzbar0" in plan and "fonts-dejavu-core" in plan
    assert ".venv/bin/pip install -q -e .\n" in plan
    for part in TEST_ONLY:
        assert part not in plan, part
    assert plan.rstrip().endswith("serve --host 127.0.0.1 --port 5000")


@pytest.mark.parametrize("target", ["test", "check", "lint"])
def test_the_test_lanes_add_the_browser_poppler_and_the_test_extra(target):
    plan = _dry_run(target)
    for part in ("libzbar0", *TEST_ONLY):
        assert part in plan, part
    # Set-up first: the extras are installed before ruff runs.
    assert plan.index("'.[test]'") < plan.index("ruff check")


def _fake_tools(tmp_path: Path, installed: set[str]) -> dict[str, str]:
    """dpkg-query answering from `installed`, an apt-get that logs its arguments, a python without ensurepip."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    (bin_dir / "dpkg-query").write_text(
        "#!/bin/sh\nfor pkg; do :; done\ncase \" $INSTALLED \" in *\" $pkg \"*) printf 'install ok installed';;"
        " *) echo \"dpkg-query: no packages found matching $pkg\" >&2; exit 1;; esac\n")
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\necho \"$*\" >> {log}\n")
    (bin_dir / "debian-python").write_text("#!/bin/sh\nexit 1\n")  # `import ensurepip` fails, as without python3-venv
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "INSTALLED": " ".join(sorted(installed))}


def _apt_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "apt.log"
    return log.read_text().splitlines() if log.exists() else []


def test_missing_serving_packages_are_installed_in_one_apt_run(tmp_path):
    env = _fake_tools(tmp_path, installed={"fonts-dejavu-core"})
    out = _make("system-packages", "SUDO=", "VENV=" + str(tmp_path / "no-venv"), "PYTHON=debian-python", env=env)
    assert "installing system packages: libzbar0 python3-venv" in out
    assert _apt_calls(tmp_path) == ["update -qq", "install -y -qq libzbar0 python3-venv"]


def test_nothing_is_installed_when_every_package_is_there(tmp_path):
    env = _fake_tools(tmp_path, installed={"libzbar0", "fonts-dejavu-core", "chromium", "poppler-utils"})
    _make("system-packages", "test-system-packages", "SUDO=", env=env)
    assert _apt_calls(tmp_path) == []


def test_the_test_packages_are_their_own_target(tmp_path):
    env = _fake_tools(tmp_path, installed={"libzbar0", "fonts-dejavu-core"})
    _make("test-system-packages", "SUDO=", env=env)
    assert _apt_calls(tmp_path) == ["update -qq", "install -y -qq chromium poppler-utils"]
