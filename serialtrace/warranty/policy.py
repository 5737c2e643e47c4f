"""Rules of the complaint process: which stage each claim state belongs to, SLA targets per stage and priority."""

from __future__ import annotations

from ..accounts.enums import Role
from .enums import ClaimState, Priority, Stage

C = ClaimState
HOUR = 3600.0

# The stage whose task a claim state belongs to; states without one need no work (draft, resolved, closed,
# cancelled). Moving between two states of one stage keeps its task (triage <-> waiting for the customer).
STAGE_OF_STATE: dict[ClaimState, Stage] = {
    C.REGISTERED: Stage.TRIAGE,
    C.TRIAGE: Stage.TRIAGE,
    C.WAITING_CUSTOMER: Stage.TRIAGE,
    C.AWAITING_RETURN: Stage.RETURN,
    C.REPLACEMENT_SHIPPED: Stage.RETURN,
    C.IN_INSPECTION: Stage.INSPECTION,
    C.DECIDED: Stage.DECISION,
    C.FULFILLING: Stage.FULFILMENT,
    C.PENDING_VERIFICATION: Stage.VERIFICATION,
    C.SETTLED: Stage.FULFILMENT,
    C.BILLED: Stage.FULFILMENT,
}

# Waiting for the customer: the claim's resolution clock pauses while the customer owes an answer or the unit; the
# stage's clock pauses only for an answer (chasing a unit that does not come back is the return stage's own work,
# with its own deadline).
RESOLUTION_PAUSED: frozenset[ClaimState] = frozenset({C.WAITING_CUSTOMER, C.AWAITING_RETURN})
STAGE_PAUSED: frozenset[ClaimState] = frozenset({C.WAITING_CUSTOMER})
# The consumer-law deadline shown beside the business clocks, in calendar days from registration, never paused,
# unless the settings say otherwise (warranty_statutory_days; 0: none): 45 days, the longest repair the Russian
# consumer-protection law allows.
STATUTORY_DAYS = 45
# The customer's resolution clock stops here: resolved, or a working replacement handed over (advance replacement).
RESOLUTION_STOPS: frozenset[ClaimState] = frozenset({C.REPLACEMENT_SHIPPED, C.PENDING_VERIFICATION, C.SETTLED,
                                                     C.BILLED, C.RESOLVED, C.CLOSED, C.CANCELLED})
# States that end every clock and task of the cycle.
FINISHED_STATES: frozenset[ClaimState] = frozenset({C.RESOLVED, C.CLOSED, C.CANCELLED})

# Who works stage tasks (everyone with a worklist): a claim is handed only to one of them.
STAGE_WORKERS: frozenset[str] = frozenset({Role.WAREHOUSE, Role.COORDINATOR, Role.ENGINEER, Role.QUALITY,
                                           Role.SUPERVISOR, Role.ADMIN})

_P = Priority
# Business hours per stage and priority; on a 9-hour day P3 triage is the same day, P3 resolution ten days.
STAGE_TARGET_HOURS: dict[Stage, dict[Priority, float]] = {
    Stage.TRIAGE: {_P.P1: 2, _P.P2: 4, _P.P3: 9, _P.P4: 18},
    Stage.RETURN: {_P.P1: 27, _P.P2: 45, _P.P3: 90, _P.P4: 90},
    Stage.INSPECTION: {_P.P1: 4, _P.P2: 9, _P.P3: 18, _P.P4: 36},
    Stage.DECISION: {_P.P1: 2, _P.P2: 4, _P.P3: 9, _P.P4: 18},
    Stage.FULFILMENT: {_P.P1: 9, _P.P2: 18, _P.P3: 27, _P.P4: 45},
    Stage.VERIFICATION: {_P.P1: 9, _P.P2: 18, _P.P3: 36, _P.P4: 54},
}
RESOLUTION_TARGET_HOURS: dict[Priority, float] = {_P.P1: 18, _P.P2: 45, _P.P3: 90, _P.P4: 180}


def stage_of(state: str) -> Stage | None:
    """The stage of a claim state, or None when the state needs no work."""
    return STAGE_OF_STATE.get(ClaimState(state))


def stage_target(stage: Stage, priority: str) -> float:
    """A stage's SLA target in business seconds at `priority`."""
    return STAGE_TARGET_HOURS[stage][Priority(priority)] * HOUR


def resolution_target(priority: str) -> float:
    """The claim's resolution target in business seconds at `priority`."""
    return RESOLUTION_TARGET_HOURS[Priority(priority)] * HOUR
