"""The claim and unit-case state machines and their role table, as data, without a database."""

from collections import deque

import pytest

from serialtrace.accounts.enums import Role
from serialtrace.errors import InvalidTransition, PermissionDenied, ValidationError
from serialtrace.warranty.enums import ClaimState, UnitCaseState
from serialtrace.warranty.workflow import (
    CASE_FINAL,
    CASE_ROLES,
    CASE_TRANSITIONS,
    CLAIM_FINAL,
    CLAIM_ROLES,
    CLAIM_TRANSITIONS,
    SYSTEM_STEPS,
    allowed_transitions,
    ensure_transition,
    may,
)

C, K, R = ClaimState, UnitCaseState, Role
MACHINES = [("claim", ClaimState, CLAIM_TRANSITIONS, CLAIM_ROLES),
            ("case", UnitCaseState, CASE_TRANSITIONS, CASE_ROLES)]
CLAIM_STEPS = [(s, t) for s, targets in CLAIM_TRANSITIONS.items() for t in sorted(targets)]
CASE_STEPS = [(s, t) for s, targets in CASE_TRANSITIONS.items() for t in sorted(targets)]


def _reachable(transitions, start):
    seen, todo = {start}, deque([start])
    while todo:
        for target in transitions[todo.popleft()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize(("kind", "enum", "transitions", "roles"), MACHINES)
def test_every_state_has_a_row_and_every_step_a_role_entry(kind, enum, transitions, roles):
    assert set(transitions) == set(enum)
    assert all(targets <= set(enum) and state not in targets for state, targets in transitions.items())
    # System steps have no role row: the action that takes them checks its own roles.
    manual = {(s, t) for s, targets in transitions.items() for t in targets} - (SYSTEM_STEPS.keys() if kind == "claim"
                                                                               else set())
    assert set(roles) == manual
    assert all(R.ADMIN in who and who <= set(Role) for who in roles.values())


def test_the_claim_machine_follows_the_design():
    route = [C.DRAFT, C.REGISTERED, C.TRIAGE, C.AWAITING_RETURN, C.IN_INSPECTION, C.DECIDED, C.FULFILLING,
             C.RESOLVED, C.CLOSED]
    assert all(b in CLAIM_TRANSITIONS[a] for a, b in zip(route, route[1:], strict=False))
    advance = [C.TRIAGE, C.REPLACEMENT_SHIPPED, C.PENDING_VERIFICATION, C.SETTLED, C.RESOLVED]
    assert all(b in CLAIM_TRANSITIONS[a] for a, b in zip(advance, advance[1:], strict=False))
    assert {C.BILLED, C.SETTLED} == CLAIM_TRANSITIONS[C.PENDING_VERIFICATION]
    assert C.TRIAGE in CLAIM_TRANSITIONS[C.WAITING_CUSTOMER] and C.WAITING_CUSTOMER in CLAIM_TRANSITIONS[C.TRIAGE]
    assert {s for s, targets in CLAIM_TRANSITIONS.items() if C.CANCELLED in targets} == {
        C.DRAFT, C.REGISTERED, C.TRIAGE, C.WAITING_CUSTOMER, C.AWAITING_RETURN}
    assert {s for s, targets in CLAIM_TRANSITIONS.items() if C.TRIAGE in targets} == {
        C.REGISTERED, C.WAITING_CUSTOMER, C.RESOLVED, C.CLOSED}


def test_the_case_machine_follows_the_design():
    route = [K.EXPECTED, K.RECEIVED, K.IN_TEST, K.TESTED, K.DISPOSITION_PENDING, K.DISPOSED]
    assert all(b in CASE_TRANSITIONS[a] for a, b in zip(route, route[1:], strict=False))
    assert {K.NOT_RETURNED, K.WRONG_UNIT} <= CASE_TRANSITIONS[K.EXPECTED]


@pytest.mark.parametrize(("current", "target"), CLAIM_STEPS)
def test_every_allowed_claim_step_passes_for_the_system_admin_and_its_roles(current, target):
    ensure_transition(current, target)
    for role in CLAIM_ROLES.get((current, target), ()):
        ensure_transition(current, target, role=role)
        assert target in allowed_transitions(current, role)


@pytest.mark.parametrize(("current", "target"), CASE_STEPS)
def test_every_allowed_case_step_passes_for_the_system_admin_and_its_roles(current, target):
    ensure_transition(current, target, kind="case")
    for role in CASE_ROLES[(current, target)]:
        ensure_transition(current, target, role=role, kind="case")
        assert target in allowed_transitions(current, role, kind="case")


@pytest.mark.parametrize(("current", "target", "message"), [
    (C.DRAFT, C.CLOSED, "cannot move a claim from draft to closed (allowed from draft: registered, cancelled)"),
    (C.TRIAGE, C.TRIAGE, "cannot move a claim from triage to triage (allowed from triage: waiting_customer, "
                         "awaiting_return, replacement_shipped, cancelled)"),
    (C.IN_INSPECTION, C.CANCELLED, "cannot move a claim from in_inspection to cancelled (allowed from "
                                   "in_inspection: decided)"),
    (C.REPLACEMENT_SHIPPED, C.SETTLED, "cannot move a claim from replacement_shipped to settled (allowed from "
                                       "replacement_shipped: pending_verification)"),
    (C.CANCELLED, C.TRIAGE, "cannot move a claim from cancelled to triage (allowed from cancelled: none: it is "
                            "final)"),
])
def test_refused_claim_steps_name_both_states_and_what_is_allowed(current, target, message):
    with pytest.raises(InvalidTransition) as exc:
        ensure_transition(current, target, role=R.ADMIN)
    assert str(exc.value) == message
    assert exc.value.status_code == 409 and exc.value.code == "invalid_transition"
    assert exc.value.details["state"] == current and exc.value.details["to"] == target


def test_refused_case_steps_name_both_states_and_what_is_allowed():
    with pytest.raises(InvalidTransition) as exc:
        ensure_transition(K.EXPECTED, K.IN_TEST, kind="case")
    assert str(exc.value) == ("cannot move a case from expected to in_test (allowed from expected: received, "
                              "not_returned, wrong_unit)")
    assert exc.value.details == {"kind": "case", "state": "expected", "to": "in_test",
                                 "allowed": ["received", "not_returned", "wrong_unit"]}
    with pytest.raises(InvalidTransition, match=r"allowed from disposed: none: it is final"):
        ensure_transition(K.DISPOSED, K.TESTED, kind="case")


def test_every_forbidden_pair_is_refused():
    for kind, enum, transitions, _ in MACHINES:
        for current in enum:
            for target in set(enum) - transitions[current]:
                assert not may(current, target, None, kind)
                with pytest.raises(InvalidTransition):
                    ensure_transition(current, target, kind=kind)


@pytest.mark.parametrize(("current", "target", "role", "message"), [
    (C.RESOLVED, C.TRIAGE, R.COORDINATOR, "the coordinator role may not move a claim from resolved to triage "
                                          "(roles that may: supervisor, admin)"),
    (C.AWAITING_RETURN, C.CANCELLED, R.COORDINATOR, "the coordinator role may not move a claim from "
                                                    "awaiting_return to cancelled (roles that may: supervisor, admin)"),
    (C.IN_INSPECTION, C.DECIDED, R.ENGINEER, "the engineer role may not move a claim from in_inspection to decided "
                                             "(roles that may: coordinator, supervisor, admin)"),
    (C.REGISTERED, C.TRIAGE, R.WAREHOUSE, "the warehouse role may not move a claim from registered to triage "
                                          "(roles that may: coordinator, supervisor, admin)"),
    (C.TRIAGE, C.CANCELLED, R.PRODUCTION, "the production role may not move a claim from triage to cancelled "
                                          "(roles that may: coordinator, supervisor, admin)"),
])
def test_role_refusals_are_403_naming_the_role_the_step_and_who_may(current, target, role, message):
    with pytest.raises(PermissionDenied) as exc:
        ensure_transition(current, target, role=role)
    assert str(exc.value) == message and exc.value.status_code == 403
    assert exc.value.details["role"] == role and R.ADMIN in exc.value.details["roles"]


def test_case_role_refusals():
    with pytest.raises(PermissionDenied, match=r"^the warehouse role may not move a case from received to in_test "
                                               r"\(roles that may: engineer, admin\)$"):
        ensure_transition(K.RECEIVED, K.IN_TEST, role=R.WAREHOUSE, kind="case")
    with pytest.raises(PermissionDenied, match="roles that may: quality, admin"):
        ensure_transition(K.DISPOSITION_PENDING, K.TESTED, role=R.ENGINEER, kind="case")


def test_a_forbidden_step_is_a_409_even_for_a_role_that_may_not_take_it():
    # The state decides first: the reader learns the step is impossible, not that someone else could take it.
    with pytest.raises(InvalidTransition):
        ensure_transition(C.CLOSED, C.CANCELLED, role=R.WAREHOUSE)


def test_allowed_transitions_per_role_in_route_order():
    assert allowed_transitions(C.TRIAGE, R.COORDINATOR) == [C.WAITING_CUSTOMER, C.AWAITING_RETURN, C.CANCELLED]
    assert allowed_transitions(C.TRIAGE, R.WAREHOUSE) == []
    assert allowed_transitions(C.RESOLVED, R.COORDINATOR) == [C.CLOSED]
    assert allowed_transitions(C.RESOLVED, R.SUPERVISOR) == [C.TRIAGE, C.CLOSED]
    assert allowed_transitions(C.CLOSED, R.ENGINEER) == []
    assert allowed_transitions(C.PENDING_VERIFICATION, R.ENGINEER) == []
    assert allowed_transitions(C.PENDING_VERIFICATION) == [C.SETTLED, C.BILLED]
    assert allowed_transitions(K.EXPECTED, R.WAREHOUSE, kind="case") == [K.RECEIVED, K.WRONG_UNIT]
    assert allowed_transitions(K.EXPECTED, kind="case") == [K.RECEIVED, K.NOT_RETURNED, K.WRONG_UNIT]
    for state in ClaimState:
        assert allowed_transitions(state, R.ADMIN) == [t for t in allowed_transitions(state)
                                                       if (state, t) not in SYSTEM_STEPS]


def test_final_states_have_no_targets():
    assert CLAIM_FINAL == {C.CANCELLED}
    assert CASE_FINAL == {K.DISPOSED, K.NOT_RETURNED}
    for state in CLAIM_FINAL:
        assert allowed_transitions(state) == []
    for state in CASE_FINAL:
        assert allowed_transitions(state, kind="case") == []


def test_every_state_is_reachable_from_the_start():
    assert _reachable(CLAIM_TRANSITIONS, C.DRAFT) == set(ClaimState)
    assert _reachable(CASE_TRANSITIONS, K.EXPECTED) == set(UnitCaseState)


def test_every_state_can_reach_an_end():
    for state in ClaimState:
        assert _reachable(CLAIM_TRANSITIONS, state) & {C.CLOSED, C.CANCELLED}, state
    for state in UnitCaseState:
        assert _reachable(CASE_TRANSITIONS, state) & CASE_FINAL, state


def test_unknown_states_are_validation_errors_naming_them():
    with pytest.raises(ValidationError, match=r"^unknown claim state 'lost'; use one of draft, registered") as exc:
        ensure_transition("lost", "triage")
    assert exc.value.status_code == 422 and exc.value.details == {"field": "state"}
    with pytest.raises(ValidationError, match=r"^unknown case state 'gone'; use one of expected, received"):
        ensure_transition("expected", "gone", kind="case")


def _refusals(table) -> list[tuple]:
    """(current, target, role) for every step of a role table and every role its row leaves out."""
    return [(current, target, role) for (current, target), who in table.items() for role in Role if role not in who]


@pytest.mark.parametrize(("current", "target", "role"), _refusals(CLAIM_ROLES))
def test_every_claim_step_is_refused_to_every_role_its_row_leaves_out(current, target, role):
    assert not may(current, target, role) and target not in allowed_transitions(current, role)
    with pytest.raises(PermissionDenied) as exc:
        ensure_transition(current, target, role=role)
    assert exc.value.details == {"kind": "claim", "state": current, "to": target, "role": role,
                                 "roles": [str(r) for r in Role if r in CLAIM_ROLES[(current, target)]]}


@pytest.mark.parametrize(("current", "target", "role"), _refusals(CASE_ROLES))
def test_every_case_step_is_refused_to_every_role_its_row_leaves_out(current, target, role):
    assert not may(current, target, role, "case") and target not in allowed_transitions(current, role, "case")
    with pytest.raises(PermissionDenied) as exc:
        ensure_transition(current, target, role=role, kind="case")
    assert exc.value.details == {"kind": "case", "state": current, "to": target, "role": role,
                                 "roles": [str(r) for r in Role if r in CASE_ROLES[(current, target)]]}


@pytest.mark.parametrize(("current", "target", "role"),
                         [(current, target, role) for current, target in SYSTEM_STEPS for role in Role])
def test_every_system_step_is_refused_to_every_role_naming_the_action_that_takes_it(current, target, role):
    assert not may(current, target, role) and target not in allowed_transitions(current, role)
    with pytest.raises(InvalidTransition) as exc:
        ensure_transition(current, target, role=role)
    assert exc.value.details == {"kind": "claim", "state": current, "to": target, "system": True}
    assert str(exc.value).endswith(str(SYSTEM_STEPS[(current, target)]))
    ensure_transition(current, target)
