"""The reference data in tests/data matches its checksum manifest: no file changed, missing or unlisted."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from tests.paths import BARCODES, DATA, ERP_EXPORTS, GS1_VECTORS, MANIFEST

FOLDERS = ("barcodes", "erp", "gs1_vectors")


def manifest_problems(root: Path, manifest: Path) -> list[str]:
    """Every difference between the files under `root`'s data folders and the sha256sum-format `manifest`."""
    listed: dict[str, str] = {}
    problems = []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            problems.append(f"manifest line {number} is not '<sha256>  <path>': {line!r}")
            continue
        listed[name] = digest
    present = {p.relative_to(root).as_posix() for folder in FOLDERS for p in (root / folder).rglob("*") if p.is_file()}
    for name in sorted(set(listed) - present):
        problems.append(f"missing: {name}")
    for name in sorted(present - set(listed)):
        problems.append(f"not in the manifest: {name}")
    for name in sorted(set(listed) & present):
        if hashlib.sha256((root / name).read_bytes()).hexdigest() != listed[name]:
            problems.append(f"changed: {name}")
    return problems


def test_every_data_file_matches_the_manifest():
    assert manifest_problems(DATA, MANIFEST) == []


def test_the_manifest_covers_the_folders_the_tests_read():
    names = {line.split("  ", 1)[1] for line in MANIFEST.read_text(encoding="utf-8").splitlines()}
    for path in (BARCODES / "manifest.csv", ERP_EXPORTS / "products.csv", GS1_VECTORS):
        assert path.relative_to(DATA).as_posix() in names
    # 183 photos with their expected text, the ERP samples and the GS1 vectors.
    assert len(names) > 370


def test_a_changed_missing_or_unlisted_file_is_reported(tmp_path):
    shutil.copytree(ERP_EXPORTS, tmp_path / "erp")
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    erp_lines = [line for line in lines if line.split("  ", 1)[1].startswith("erp/")]
    manifest = tmp_path / "MANIFEST.sha256"
    manifest.write_text("\n".join([*erp_lines, "not a checksum line"]) + "\n", encoding="utf-8")
    assert manifest_problems(tmp_path, manifest) == [f"manifest line {len(erp_lines) + 1} is not '<sha256>  <path>': "
                                                     "'not a checksum line'"]

    (tmp_path / "erp" / "products.csv").write_bytes(b"sku,name\n")
    (tmp_path / "erp" / "batches.csv").unlink()
    (tmp_path / "erp" / "stray.csv").write_bytes(b"x\n")
    manifest.write_text("\n".join(erp_lines) + "\n", encoding="utf-8")

    assert manifest_problems(tmp_path, manifest) == [
        "missing: erp/batches.csv",
        "not in the manifest: erp/stray.csv",
        "changed: erp/products.csv",
    ]
