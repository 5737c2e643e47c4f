"""Enumerations of the trace domain; StrEnum so stored values read well in SQL."""

from enum import StrEnum


class BatchStatus(StrEnum):
    RELEASED = "released"
    ON_HOLD = "on_hold"
    RECALLED = "recalled"


class UnitStatus(StrEnum):
    IN_STOCK = "in_stock"
    SHIPPED = "shipped"
    RETURNED = "returned"
    IN_TEST = "in_test"
    REFURBISHED = "refurbished"
    SCRAPPED = "scrapped"
    SWAP_POOL = "swap_pool"


class EventKind(StrEnum):
    PRODUCED = "produced"
    LABELLED = "labelled"
    SHIPPED = "shipped"
    RETURNED = "returned"
    REPLACED = "replaced"
    TESTED = "tested"
    DISPOSED = "disposed"
    MOVED = "moved"
    INSTALLED = "installed"
    REMOVED = "removed"
    SOLD = "sold"
    STATUS = "status"
    NOTE = "note"


class WarrantyStart(StrEnum):
    SHIPMENT = "shipment"
    SALE = "sale"
