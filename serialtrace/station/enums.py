"""Stored values of the station domain: what a scan came to (the scan log's result column)."""

from __future__ import annotations

from enum import StrEnum

from ..i18n import _l


class ScanResult(StrEnum):
    """What a scan matched, or why it matched nothing."""

    UNIT = "unit"
    BATCH = "batch"
    CLAIM = "claim"
    LOT = "lot"
    PRODUCT = "product"
    CHOOSE = "choose"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    AMBIGUOUS = "ambiguous"
    MISMATCH = "mismatch"
    REPEAT = "repeat"


# What each result is called on a page (the scan log, the station's recent scans).
SCAN_RESULT_LABELS: dict[str, str] = {
    ScanResult.UNIT: _l("Unit found"),
    ScanResult.BATCH: _l("Batch found"),
    ScanResult.CLAIM: _l("Claim found"),
    ScanResult.LOT: _l("Component lot found"),
    ScanResult.PRODUCT: _l("Product found"),
    ScanResult.CHOOSE: _l("Several matches"),
    ScanResult.NOT_FOUND: _l("Not found"),
    ScanResult.INVALID: _l("Unreadable"),
    ScanResult.AMBIGUOUS: _l("Ambiguous reading"),
    ScanResult.MISMATCH: _l("Label and unit disagree"),
    ScanResult.REPEAT: _l("Scanned twice"),
}
