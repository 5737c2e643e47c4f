"""The test lanes: `make check` leaves slow tests (browsers included) out, and a warning fails a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSER_TESTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "web").glob("test_*browser*.py"))


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_browser_tests_are_left_out_of_the_quick_lane():
    assert len(BROWSER_TESTS) >= 3, BROWSER_TESTS
    quick = _pytest("--collect-only", "-m", "not slow", *BROWSER_TESTS)
    assert quick.returncode == 5, quick.stdout[-2000:]  # 5: every test deselected, none collected
    full = _pytest("--collect-only", "-m", "slow", *BROWSER_TESTS)
    assert full.returncode == 0 and "tests collected" in full.stdout, full.stdout[-2000:]


def test_a_warning_in_a_test_fails_it(tmp_path):
    test = tmp_path / "test_warns.py"
    test.write_text("import warnings\n\n\ndef test_old_call():\n"
                    "    warnings.warn('old call', DeprecationWarning)\n", encoding="utf-8")
    run = _pytest("-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), str(test))
    assert run.returncode == 1, run.stdout[-2000:]
    assert "DeprecationWarning: old call" in run.stdout
