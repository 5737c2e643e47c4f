"""Enumerations of the warranty domain."""

from enum import StrEnum


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


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
