"""Enumerations of the warranty domain."""

from enum import StrEnum

from ..i18n import _l


class ClaimState(StrEnum):
    DRAFT = "draft"
    REGISTERED = "registered"
    TRIAGE = "triage"
    WAITING_CUSTOMER = "waiting_customer"
    AWAITING_RETURN = "awaiting_return"
    IN_INSPECTION = "in_inspection"
    DECIDED = "decided"
    FULFILLING = "fulfilling"
    REPLACEMENT_SHIPPED = "replacement_shipped"
    PENDING_VERIFICATION = "pending_verification"
    SETTLED = "settled"
    BILLED = "billed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Verdict(StrEnum):
    CONFIRMED_DEFECT = "confirmed_defect"
    NO_FAULT_FOUND = "no_fault_found"
    NOT_COVERED = "not_covered"
    TRANSPORT_DAMAGE = "transport_damage"


class UnitCaseState(StrEnum):
    EXPECTED = "expected"
    RECEIVED = "received"
    IN_TEST = "in_test"
    TESTED = "tested"
    DISPOSITION_PENDING = "disposition_pending"
    DISPOSED = "disposed"
    NOT_RETURNED = "not_returned"
    WRONG_UNIT = "wrong_unit"


class Disposition(StrEnum):
    RESTOCK_REFURBISHED = "restock_refurbished"
    REPAIR_RETURN = "repair_return"
    REPAIR_SWAP_POOL = "repair_swap_pool"
    RETURN_TO_SUPPLIER = "return_to_supplier"
    SCRAP = "scrap"
    RETURN_AS_IS = "return_as_is"
    HOLD_FOR_ANALYSIS = "hold_for_analysis"


class DispositionState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"


class FailureList(StrEnum):
    """The failure-code lists: what the customer saw, what the engineer found, why, where, and what was done."""

    SYMPTOM = "symptom"
    MODE = "mode"
    CAUSE = "cause"
    LOCATION = "location"
    ACTION = "action"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Stage(StrEnum):
    """A stage of a claim that needs work: each opens a task with an owner, a deadline and a priority."""

    TRIAGE = "triage"
    RETURN = "return"
    INSPECTION = "inspection"
    DECISION = "decision"
    FULFILMENT = "fulfilment"
    VERIFICATION = "verification"


class ClockKind(StrEnum):
    """The claim's resolution clock, or a stage task's clock."""

    RESOLUTION = "resolution"
    STAGE = "stage"


STAGE_LABELS: dict[str, str] = {
    Stage.TRIAGE: _l("Triage"),
    Stage.RETURN: _l("Waiting for the return"),
    Stage.INSPECTION: _l("Inspection"),
    Stage.DECISION: _l("Decision"),
    Stage.FULFILMENT: _l("Fulfilment"),
    Stage.VERIFICATION: _l("Verification"),
}

# Labels shown on pages instead of the stored codes (value -> label, translated where shown).
CLAIM_STATE_LABELS: dict[str, str] = {
    ClaimState.DRAFT: _l("Draft"),
    ClaimState.REGISTERED: _l("Registered"),
    ClaimState.TRIAGE: _l("Triage"),
    ClaimState.WAITING_CUSTOMER: _l("Waiting for the customer"),
    ClaimState.AWAITING_RETURN: _l("Awaiting return"),
    ClaimState.IN_INSPECTION: _l("In inspection"),
    ClaimState.DECIDED: _l("Decided"),
    ClaimState.FULFILLING: _l("Fulfilling"),
    ClaimState.REPLACEMENT_SHIPPED: _l("Replacement shipped"),
    ClaimState.PENDING_VERIFICATION: _l("Pending verification"),
    ClaimState.SETTLED: _l("Settled"),
    ClaimState.BILLED: _l("Billed"),
    ClaimState.RESOLVED: _l("Resolved"),
    ClaimState.CLOSED: _l("Closed"),
    ClaimState.CANCELLED: _l("Cancelled"),
}

VERDICT_LABELS: dict[str, str] = {
    Verdict.CONFIRMED_DEFECT: _l("Defect confirmed"),
    Verdict.NO_FAULT_FOUND: _l("No fault found"),
    Verdict.NOT_COVERED: _l("Not covered by warranty"),
    Verdict.TRANSPORT_DAMAGE: _l("Transport damage"),
}

UNIT_CASE_STATE_LABELS: dict[str, str] = {
    UnitCaseState.EXPECTED: _l("Expected"),
    UnitCaseState.RECEIVED: _l("Received"),
    UnitCaseState.IN_TEST: _l("In test"),
    UnitCaseState.TESTED: _l("Tested"),
    UnitCaseState.DISPOSITION_PENDING: _l("Disposition pending"),
    UnitCaseState.DISPOSED: _l("Disposed"),
    UnitCaseState.NOT_RETURNED: _l("Not returned"),
    UnitCaseState.WRONG_UNIT: _l("Wrong unit"),
}

DISPOSITION_LABELS: dict[str, str] = {
    Disposition.RESTOCK_REFURBISHED: _l("Restock as refurbished"),
    Disposition.REPAIR_RETURN: _l("Repair and return to the customer"),
    Disposition.REPAIR_SWAP_POOL: _l("Repair into the swap pool"),
    Disposition.RETURN_TO_SUPPLIER: _l("Return to the supplier"),
    Disposition.SCRAP: _l("Scrap"),
    Disposition.RETURN_AS_IS: _l("Return as is"),
    Disposition.HOLD_FOR_ANALYSIS: _l("Hold for analysis"),
}

DISPOSITION_STATE_LABELS: dict[str, str] = {
    DispositionState.PROPOSED: _l("Proposed"),
    DispositionState.APPROVED: _l("Approved"),
    DispositionState.REJECTED: _l("Rejected"),
    DispositionState.EXECUTED: _l("Executed"),
}

FAILURE_LIST_LABELS: dict[str, str] = {
    FailureList.SYMPTOM: _l("Symptom"),
    FailureList.MODE: _l("Failure mode"),
    FailureList.CAUSE: _l("Root-cause category"),
    FailureList.LOCATION: _l("Defect location"),
    FailureList.ACTION: _l("Repair action"),
}

PRIORITY_LABELS: dict[str, str] = {
    Priority.P1: _l("P1 · critical"),
    Priority.P2: _l("P2 · high"),
    Priority.P3: _l("P3 · normal"),
    Priority.P4: _l("P4 · low"),
}

# How a complaint came in (the codes warranty.service.CHANNELS accepts).
CHANNEL_LABELS: dict[str, str] = {
    "desk": _l("At the desk"),
    "phone": _l("By phone"),
    "email": _l("By email"),
    "web": _l("On the web"),
}

# Symptom codes (what the customer saw) known so far; a code without a label is shown as it is.
SYMPTOM_LABELS: dict[str, str] = {
    "no_power": _l("Does not switch on"),
    "no_display": _l("Blank display"),
    "wrong_reading": _l("Wrong readings"),
    "no_communication": _l("No communication"),
    "leak": _l("Leak"),
    "intermittent": _l("Intermittent faults"),
    "physical_damage": _l("Physical damage"),
}

# Failure modes (what the engineer found) known so far; a code without a label is shown as it is.
FAILURE_MODE_LABELS: dict[str, str] = {
    "solder_joint_crack": _l("Cracked solder joint"),
    "sensor_drift": _l("Sensor drift"),
    "firmware_hang": _l("Firmware hang"),
    "seal_failure": _l("Seal failure"),
    "no_fault": _l("No fault"),
    "liquid_ingress": _l("Liquid ingress"),
    "overvoltage": _l("Overvoltage"),
    "cracked_housing": _l("Cracked housing"),
}
