"""The claim and unit-case state machines as data: allowed targets, the roles that may take each step. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Literal

from ..accounts.enums import ROLE_LABELS, Role
from ..errors import InvalidTransition, PermissionDenied, ValidationError
from ..i18n import Message, _l, coded
from .enums import CLAIM_STATE_LABELS, UNIT_CASE_STATE_LABELS, ClaimState, UnitCaseState

C, K, R = ClaimState, UnitCaseState, Role
Kind = Literal["claim", "case"]

CLAIM_TRANSITIONS: dict[ClaimState, frozenset[ClaimState]] = {
    C.DRAFT: frozenset({C.REGISTERED, C.CANCELLED}),
    C.REGISTERED: frozenset({C.TRIAGE, C.CANCELLED}),
    # Ask the customer, have the unit sent in, or hand out a replacement at once (advance replacement).
    C.TRIAGE: frozenset({C.WAITING_CUSTOMER, C.AWAITING_RETURN, C.REPLACEMENT_SHIPPED, C.CANCELLED}),
    C.WAITING_CUSTOMER: frozenset({C.TRIAGE, C.CANCELLED}),
    C.AWAITING_RETURN: frozenset({C.IN_INSPECTION, C.CANCELLED}),
    C.IN_INSPECTION: frozenset({C.DECIDED}),
    C.DECIDED: frozenset({C.FULFILLING}),
    C.FULFILLING: frozenset({C.RESOLVED}),
    C.REPLACEMENT_SHIPPED: frozenset({C.PENDING_VERIFICATION}),
    # The returned unit's verdict settles the claim at no charge, or bills the customer (not covered, never returned).
    C.PENDING_VERIFICATION: frozenset({C.SETTLED, C.BILLED}),
    # A corrected verdict moves a claim between settled and billed (a system step).
    C.SETTLED: frozenset({C.RESOLVED, C.BILLED}),
    C.BILLED: frozenset({C.RESOLVED, C.SETTLED}),
    # Reopening goes back to triage and starts a new SLA cycle.
    C.RESOLVED: frozenset({C.CLOSED, C.TRIAGE}),
    C.CLOSED: frozenset({C.TRIAGE}),
    C.CANCELLED: frozenset(),
}

CASE_TRANSITIONS: dict[UnitCaseState, frozenset[UnitCaseState]] = {
    # The receiving scan gives received, or wrong_unit when the serial is not the expected one; the return deadline
    # passing gives not_returned.
    K.EXPECTED: frozenset({K.RECEIVED, K.WRONG_UNIT, K.NOT_RETURNED}),
    # The expected unit may still arrive after a wrong one, or never.
    K.WRONG_UNIT: frozenset({K.RECEIVED, K.NOT_RETURNED}),
    K.RECEIVED: frozenset({K.IN_TEST}),
    K.IN_TEST: frozenset({K.TESTED}),
    K.TESTED: frozenset({K.DISPOSITION_PENDING}),
    # A proposal quality turns down goes back to tested for another proposal.
    K.DISPOSITION_PENDING: frozenset({K.DISPOSED, K.TESTED}),
    K.DISPOSED: frozenset(),
    # A unit arriving after its claim was billed for it comes in on a reopened claim, as a new case.
    K.NOT_RETURNED: frozenset(),
}

# Claims whose cases take no more work: receiving, testing, queueing, deadlines (a closed claim is reopened first).
INACTIVE_CLAIM_STATES: frozenset[ClaimState] = frozenset({C.CLOSED, C.CANCELLED})
# States with no way out.
CLAIM_FINAL: frozenset[ClaimState] = frozenset(s for s, targets in CLAIM_TRANSITIONS.items() if not targets)
CASE_FINAL: frozenset[UnitCaseState] = frozenset(s for s, targets in CASE_TRANSITIONS.items() if not targets)

# Who may take each step. Coordinators and supervisors triage and decide, the warehouse registers at the desk, receives
# and ships replacements, engineers test, quality rules on dispositions, supervisors reopen and cancel late; admins
# are added to every row below.
_DESK = frozenset({R.WAREHOUSE, R.COORDINATOR, R.SUPERVISOR})
_OFFICE = frozenset({R.COORDINATOR, R.SUPERVISOR})
_SUPERVISOR = frozenset({R.SUPERVISOR})
_WAREHOUSE = frozenset({R.WAREHOUSE, R.SUPERVISOR})
_BENCH = frozenset({R.ENGINEER})

_CLAIM_ROLES: dict[tuple[ClaimState, ClaimState], frozenset[Role]] = {
    (C.DRAFT, C.REGISTERED): _DESK,
    (C.DRAFT, C.CANCELLED): _DESK,
    (C.REGISTERED, C.TRIAGE): _OFFICE,
    (C.REGISTERED, C.CANCELLED): _OFFICE,
    (C.TRIAGE, C.WAITING_CUSTOMER): _OFFICE,
    (C.TRIAGE, C.AWAITING_RETURN): _OFFICE,
    (C.TRIAGE, C.CANCELLED): _OFFICE,
    (C.WAITING_CUSTOMER, C.TRIAGE): _OFFICE,
    (C.WAITING_CUSTOMER, C.CANCELLED): _OFFICE,
    # The unit is on its way: only a supervisor may still cancel.
    (C.AWAITING_RETURN, C.CANCELLED): _SUPERVISOR,
    (C.IN_INSPECTION, C.DECIDED): _OFFICE,
    (C.DECIDED, C.FULFILLING): _OFFICE,
    (C.FULFILLING, C.RESOLVED): _DESK,
    (C.SETTLED, C.RESOLVED): _OFFICE,
    (C.BILLED, C.RESOLVED): _OFFICE,
    (C.RESOLVED, C.CLOSED): _OFFICE,
    (C.RESOLVED, C.TRIAGE): _SUPERVISOR,
    (C.CLOSED, C.TRIAGE): _SUPERVISOR,
}

# Steps no role takes by hand: the action named takes them as the system (role None), so what the step stands for
# (a replacement shipped, the unit back, a verdict, a bill) always happened. They have no row above.
SYSTEM_STEPS: dict[tuple[ClaimState, ClaimState], Message] = {
    (C.TRIAGE, C.REPLACEMENT_SHIPPED): _l("by handing out a replacement (scan it on the claim)"),
    (C.AWAITING_RETURN, C.IN_INSPECTION): _l("by the receiving scan of the returned unit"),
    (C.REPLACEMENT_SHIPPED, C.PENDING_VERIFICATION): _l("by the receiving scan of the returned unit"),
    (C.PENDING_VERIFICATION, C.SETTLED): _l("by the test verdict"),
    (C.PENDING_VERIFICATION, C.BILLED): _l("by the test verdict or the passed return deadline"),
    # A correction of the verdict bills a settled claim or withdraws the bill (bench.record_test).
    (C.SETTLED, C.BILLED): _l("by correcting the test verdict"),
    (C.BILLED, C.SETTLED): _l("by correcting the test verdict"),
}
# Who may hand out a replacement, the action that takes triage -> replacement_shipped.
REPLACE_ROLES: frozenset[Role] = _DESK | {R.ADMIN}

_CASE_ROLES: dict[tuple[UnitCaseState, UnitCaseState], frozenset[Role]] = {
    (K.EXPECTED, K.RECEIVED): _WAREHOUSE,
    (K.EXPECTED, K.WRONG_UNIT): _WAREHOUSE,
    (K.EXPECTED, K.NOT_RETURNED): _OFFICE,
    (K.WRONG_UNIT, K.RECEIVED): _WAREHOUSE,
    (K.WRONG_UNIT, K.NOT_RETURNED): _OFFICE,
    (K.RECEIVED, K.IN_TEST): _BENCH,
    (K.IN_TEST, K.TESTED): _BENCH,
    (K.TESTED, K.DISPOSITION_PENDING): _BENCH | {R.QUALITY},
    # Executing a disposition; the policy adds quality's approval for scrap and high values.
    (K.DISPOSITION_PENDING, K.DISPOSED): _BENCH | {R.QUALITY},
    (K.DISPOSITION_PENDING, K.TESTED): frozenset({R.QUALITY}),
}

CLAIM_ROLES: dict[tuple[ClaimState, ClaimState], frozenset[Role]] = {
    step: roles | {R.ADMIN} for step, roles in _CLAIM_ROLES.items()}
CASE_ROLES: dict[tuple[UnitCaseState, UnitCaseState], frozenset[Role]] = {
    step: roles | {R.ADMIN} for step, roles in _CASE_ROLES.items()}

_MACHINES: dict[str, tuple[type[StrEnum], Mapping, Mapping, dict[str, str]]] = {
    "claim": (ClaimState, CLAIM_TRANSITIONS, CLAIM_ROLES, CLAIM_STATE_LABELS),
    "case": (UnitCaseState, CASE_TRANSITIONS, CASE_ROLES, UNIT_CASE_STATE_LABELS),
}


def _machine(kind: str) -> tuple[type[StrEnum], Mapping, Mapping, dict[str, str]]:
    try:
        return _MACHINES[kind]
    except KeyError:
        raise ValueError(f"unknown state machine {kind!r}; use claim or case") from None


def state_of(value: str, kind: Kind = "claim") -> StrEnum:
    """`value` as a claim (or case) state; an unknown state is a ValidationError naming it."""
    enum, _, _, labels = _machine(kind)
    try:
        return enum(value)
    except ValueError:
        allowed = coded(list(enum), labels)
        message = (_l("unknown claim state %(value)r; use one of %(allowed)s", value=value, allowed=allowed)
                   if kind == "claim" else
                   _l("unknown case state %(value)r; use one of %(allowed)s", value=value, allowed=allowed))
        raise ValidationError(message, details={"field": "state"}) from None


def _ordered(states: Iterable[StrEnum], enum: type[StrEnum]) -> list[StrEnum]:
    # In the enum's order, which follows the route a claim or case takes, so lists read as the route.
    chosen = set(states)
    return [member for member in enum if member in chosen]


def may(current: str, target: str, role: str | None, kind: Kind = "claim") -> bool:
    """True when the table allows `current` -> `target` and `role` may take that step by hand (None: the system,
    any step, system steps included)."""
    _, transitions, roles, _ = _machine(kind)
    here, there = state_of(current, kind), state_of(target, kind)
    if there not in transitions[here]:
        return False
    return role is None or role in roles.get((here, there), frozenset())


def may_replace(current: str, role: str | None) -> bool:
    """True when `role` may hand out a replacement on a claim in `current` (registered goes through triage first)."""
    return current in (C.REGISTERED, C.TRIAGE) and (role is None or role in REPLACE_ROLES)


def allowed_transitions(current: str, role: str | None = None, kind: Kind = "claim") -> list[StrEnum]:
    """The states `role` may move a claim (or case) in `current` to by hand, in route order (system steps left out);
    None: every allowed target."""
    enum, transitions, _, _ = _machine(kind)
    here = state_of(current, kind)
    return [there for there in _ordered(transitions[here], enum) if may(here, there, role, kind)]


def ensure_transition(current: str, target: str, *, role: str | None = None, kind: Kind = "claim") -> None:
    """Raise InvalidTransition (409) unless the table allows `current` -> `target` and, for a `role`, the step is
    not a system step (the message names the action that takes it); PermissionDenied (403) unless `role` may take
    that step; `role` None is the system (replacements, receiving scans, deadlines, verdicts), no role check."""
    enum, transitions, roles, labels = _machine(kind)
    here, there = state_of(current, kind), state_of(target, kind)
    details = {"kind": kind, "state": str(here), "to": str(there)}
    if there not in transitions[here]:
        targets = _ordered(transitions[here], enum)
        params = {"current": coded(here, labels), "target": coded(there, labels),
                  "allowed": coded(targets, labels) if targets else _l("none: it is final")}
        message = (_l("cannot move a claim from %(current)s to %(target)s (allowed from %(current)s: %(allowed)s)",
                      **params) if kind == "claim" else
                   _l("cannot move a case from %(current)s to %(target)s (allowed from %(current)s: %(allowed)s)",
                      **params))
        raise InvalidTransition(message, details=details | {"allowed": [str(s) for s in targets]})
    if role is None:
        return
    if kind == "claim" and (here, there) in SYSTEM_STEPS:
        message = _l("a claim moves from %(current)s to %(target)s only %(by)s", current=coded(here, labels),
                     target=coded(there, labels), by=SYSTEM_STEPS[(here, there)])
        raise InvalidTransition(message, details=details | {"system": True})
    ensure_role(here, there, role, roles[(here, there)], kind=kind)


def ensure_replace_role(role: str | None) -> None:
    """PermissionDenied (403) naming the roles that may, unless `role` (None: the system) may hand out a
    replacement."""
    if role is not None:
        ensure_role(C.TRIAGE, C.REPLACEMENT_SHIPPED, role, REPLACE_ROLES)


def ensure_role(current: StrEnum, target: StrEnum, role: str, allowed: frozenset[Role], *,
                kind: Kind = "claim") -> None:
    """PermissionDenied (403) naming the role, the step and the roles that may, unless `role` is in `allowed`."""
    if role in allowed:
        return
    labels = _machine(kind)[3]
    permitted = [str(r) for r in Role if r in allowed]
    params = {"role": coded(role, ROLE_LABELS), "current": coded(current, labels), "target": coded(target, labels),
              "roles": coded(permitted, ROLE_LABELS)}
    message = (_l("the %(role)s role may not move a claim from %(current)s to %(target)s (roles that may: "
                  "%(roles)s)", **params) if kind == "claim" else
               _l("the %(role)s role may not move a case from %(current)s to %(target)s (roles that may: "
                  "%(roles)s)", **params))
    raise PermissionDenied(message, details={"kind": kind, "state": str(current), "to": str(target),
                                             "role": str(role), "roles": permitted})
