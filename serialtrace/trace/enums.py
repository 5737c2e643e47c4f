"""Enumerations of the trace domain; StrEnum so stored values read well in SQL."""

from enum import StrEnum

from ..i18n import _l


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
    # Sent back to the supplier (a warranty claim of ours against them): it left, it is not ours to ship.
    SENT_TO_SUPPLIER = "sent_to_supplier"


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


class ReplacementWarranty(StrEnum):
    """A replacement's warranty: the returned unit's goes on, or a new one starts at the replacement's shipment."""

    CONTINUE = "continue"
    RESTART = "restart"


# Labels shown on pages instead of the stored codes (value -> label, translated where shown).
BATCH_STATUS_LABELS: dict[str, str] = {
    BatchStatus.RELEASED: _l("Released"),
    BatchStatus.ON_HOLD: _l("On hold"),
    BatchStatus.RECALLED: _l("Recalled"),
}

UNIT_STATUS_LABELS: dict[str, str] = {
    UnitStatus.IN_STOCK: _l("In stock"),
    UnitStatus.SHIPPED: _l("Shipped to customer"),
    UnitStatus.RETURNED: _l("Returned"),
    UnitStatus.IN_TEST: _l("In test"),
    UnitStatus.REFURBISHED: _l("Refurbished"),
    UnitStatus.SCRAPPED: _l("Scrapped"),
    UnitStatus.SWAP_POOL: _l("In the swap pool"),
    UnitStatus.SENT_TO_SUPPLIER: _l("Sent to the supplier"),
}

EVENT_KIND_LABELS: dict[str, str] = {
    EventKind.PRODUCED: _l("Produced"),
    EventKind.LABELLED: _l("Labelled"),
    EventKind.SHIPPED: _l("Shipment"),
    EventKind.RETURNED: _l("Return"),
    EventKind.REPLACED: _l("Replacement"),
    EventKind.TESTED: _l("Test"),
    EventKind.DISPOSED: _l("Disposition"),
    EventKind.MOVED: _l("Moved"),
    EventKind.INSTALLED: _l("Installed into"),
    EventKind.REMOVED: _l("Removed from"),
    EventKind.SOLD: _l("Sale registered"),
    EventKind.STATUS: _l("Status change"),
    EventKind.NOTE: _l("Note"),
}

WARRANTY_START_LABELS: dict[str, str] = {
    WarrantyStart.SHIPMENT: _l("From the shipment date"),
    WarrantyStart.SALE: _l("From the sale date"),
}

# The dossier's warranty status (trace.policy.WarrantyStatus.status).
WARRANTY_STATUS_LABELS: dict[str, str] = {
    "in_warranty": _l("In warranty"),
    "expired": _l("Warranty expired"),
    "not_started": _l("Warranty not started"),
    "unknown": _l("Warranty unknown"),
}
