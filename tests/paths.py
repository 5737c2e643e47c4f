"""Where the tests find the shared reference data (photos, GS1 vectors, ERP samples)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("SERIALTRACE_SHARED", Path(__file__).resolve().parent / "data" / "shared"))
BARCODES = SHARED / "data" / "barcodes"
ERP_EXPORTS = SHARED / "data" / "erp-export"
GS1_VECTORS = SHARED / "gs1-vectors" / "gs1-syntax-engine-vectors.json"
