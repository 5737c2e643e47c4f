"""Where the tests find their reference data (photos, GS1 vectors, ERP samples), kept under tests/data."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MANIFEST = DATA / "MANIFEST.sha256"
BARCODES = DATA / "barcodes"
ERP_EXPORTS = DATA / "erp"
GS1_VECTORS = DATA / "gs1_vectors" / "gs1-syntax-engine-vectors.json"
