"""Demo data: deterministic by seed, logins work, every claim state, one component lot that fails more."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import queries as accounts_queries
from serialtrace.accounts.enums import Role
from serialtrace.demo import BAD_LOT, DEMO_PASSWORD, DemoProgress, database_is_empty, load_demo
from serialtrace.migrate import upgrade
from serialtrace.runtime import Runtime
from serialtrace.trace.models import BatchInput, ComponentLot, Product, Shipment, ShipmentItem, Unit, UnitEvent
from serialtrace.trace.policy import normalise_gtin
from serialtrace.warranty import models as warranty_models
from serialtrace.warranty.enums import ClaimState
from serialtrace.warranty.models import Claim, Replacement

pytestmark = pytest.mark.slow  # loads the demo data set twice; `make check` leaves it out

UNITS = 2000


def _fresh_runtime(path) -> Runtime:
    runtime = Runtime.from_env({"database_url": f"sqlite:///{path}"})
    upgrade(runtime.engine)
    return runtime


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One demo database for the module: (runtime, summary, emptiness before loading, progress steps)."""
    runtime = _fresh_runtime(tmp_path_factory.mktemp("demo") / "a.sqlite")
    empty_before = database_is_empty(runtime)
    steps: list[DemoProgress] = []
    summary = load_demo(runtime, units=UNITS, seed=7, progress=steps.append)
    yield runtime, summary, empty_before, steps
    runtime.engine.dispose()


def _fingerprint(runtime: Runtime) -> tuple[list, list]:
    with runtime.transaction() as s:
        serials = s.scalars(select(Unit.serial).order_by(Unit.id)).all()
        claims = s.execute(select(Claim.number, Unit.serial, Claim.state, Claim.symptom)
                           .join(Unit, Unit.id == Claim.unit_id).order_by(Claim.number)).all()
    return list(serials), [tuple(c) for c in claims]


def test_database_is_empty_before_loading_and_not_after(loaded):
    runtime, _, empty_before, _ = loaded
    assert empty_before is True
    assert database_is_empty(runtime) is False


def test_demo_creates_the_requested_units_and_reports_progress(loaded):
    runtime, summary, _, steps = loaded
    with runtime.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Unit)) == UNITS
        shipped = s.scalar(select(func.count()).select_from(ShipmentItem))
        events = s.scalar(select(func.count()).select_from(UnitEvent).where(UnitEvent.kind == "shipped"))
        shipments = s.scalar(select(func.count()).select_from(Shipment))
        claims = s.scalar(select(func.count()).select_from(Claim))
        products = s.scalar(select(func.count()).select_from(Product))
    assert shipped == events and shipped > UNITS * 0.7
    assert f"{UNITS:,} units" in summary
    # Reference data first, then one step per batch with the units growing to the total, the claims last.
    first, batches, last = steps[0], steps[1:-1], steps[-1]
    assert (first.step, first.products, first.units, first.units_total) == ("reference", products, 0, UNITS)
    assert {b.step for b in batches} == {"batch"} and len(batches) == first.batches_total
    assert [b.batches for b in batches] == list(range(1, len(batches) + 1))
    assert all(a.units < b.units for a, b in zip(batches, batches[1:], strict=False))
    assert (batches[-1].units, batches[-1].units_total) == (UNITS, UNITS)
    assert (last.step, last.claims, last.shipments) == ("claims", claims, shipments)


def test_same_seed_gives_the_same_serials_and_claims_on_a_fresh_database(loaded, tmp_path):
    runtime, _, _, _ = loaded
    again = _fresh_runtime(tmp_path / "b.sqlite")
    try:
        load_demo(again, units=UNITS, seed=7)
        assert _fingerprint(again) == _fingerprint(runtime)
    finally:
        again.engine.dispose()
    serials, claims = _fingerprint(runtime)
    assert len(set(serials)) == UNITS and claims and claims[0][0] == "CL-000001"


def test_every_role_can_log_in_with_the_demo_password(loaded):
    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        for role in Role:
            user = accounts_queries.authenticate(s, username=role.value, password=DEMO_PASSWORD)
            assert user is not None and user.role == role.value
        assert accounts_queries.authenticate(s, username="admin", password="wrong-password") is None


def test_products_have_valid_gtins_and_different_warranties(loaded):
    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        products = s.scalars(select(Product)).all()
    assert 4 <= len(products) <= 6
    assert all(normalise_gtin(p.gtin) == p.gtin for p in products)
    assert len({p.warranty_months for p in products}) >= 3


def test_claims_exist_in_every_state_with_tests_and_replacements(loaded):
    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        states = set(s.scalars(select(Claim.state).distinct()).all())
        tests = s.scalar(select(func.count()).select_from(warranty_models.TestRecord))
        replacements = s.execute(select(Replacement.returned_unit_id, Replacement.replacement_unit_id)).all()
        statuses = dict(s.execute(select(Unit.id, Unit.status)).all())
    assert states == {state.value for state in ClaimState}
    assert tests > 0
    assert replacements
    assert all(statuses[new] == "shipped" for _, new in replacements)


def test_the_bad_board_lot_fails_clearly_more_than_the_rest(loaded):
    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        lot_id = s.scalar(select(ComponentLot.id).where(ComponentLot.supplier == BAD_LOT[0],
                                                       ComponentLot.part == BAD_LOT[1],
                                                       ComponentLot.lot_number == BAD_LOT[2]))
        assert lot_id is not None
        bad_batches = select(BatchInput.batch_id).where(BatchInput.component_lot_id == lot_id)
        # Units shipped to customers in the ordinary way: replacements handed out at the desk are not exposure.
        shipped_units = (select(ShipmentItem.unit_id).join(Shipment, Shipment.id == ShipmentItem.shipment_id)
                         .where(Shipment.id.not_in(select(Replacement.shipment_id)
                                                   .where(Replacement.shipment_id.is_not(None)))))

        def rate(in_bad: bool) -> float:
            cond = Unit.batch_id.in_(bad_batches) if in_bad else Unit.batch_id.not_in(bad_batches)
            units = s.scalar(select(func.count()).select_from(Unit).where(cond, Unit.id.in_(shipped_units)))
            claims = s.scalar(select(func.count(func.distinct(Claim.unit_id))).join(Unit, Unit.id == Claim.unit_id)
                              .where(cond))
            return claims / units

        bad, rest = rate(True), rate(False)
    assert bad > 3 * rest
    assert 0.05 < bad < 0.11 and 0.01 < rest < 0.02


def test_component_lots_come_from_several_suppliers(loaded):
    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        suppliers = set(s.scalars(select(ComponentLot.supplier).distinct()).all())
        parts = set(s.scalars(select(ComponentLot.part).distinct()).all())
        per_batch = s.execute(select(BatchInput.batch_id, func.count()).group_by(BatchInput.batch_id)).all()
    assert 3 <= len(suppliers) <= 4 and parts == {"board", "sensor", "housing"}
    assert {n for _, n in per_batch} <= {2, 3}


def test_returned_units_have_returned_events(loaded):
    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        returned = s.scalars(select(Unit.id).where(Unit.status.in_(["returned", "in_test", "refurbished",
                                                                    "scrapped"]))).all()
        with_event = set(s.scalars(select(UnitEvent.unit_id).where(UnitEvent.kind == "returned")).all())
    assert returned and set(returned) <= with_event


def test_the_gas_analyser_has_a_shelf_life_and_the_rest_do_not(loaded):
    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        shelf = dict(s.execute(select(Product.sku, Product.shelf_life_months)).all())
    assert shelf.pop("GA-450") == 24 and set(shelf.values()) == {None}


def test_a_claim_registered_after_the_demo_numbers_past_the_demos_claims(loaded):
    from datetime import date

    from sqlalchemy.orm import Session

    from serialtrace.warranty import service as warranty_service

    runtime, _, _, _ = loaded
    # Rolled back, so the module's other tests see the demo as it was loaded.
    with runtime.engine.connect() as conn, conn.begin() as trans:
        s = Session(bind=conn)
        highest = s.scalar(select(func.max(Claim.number)))
        serial = s.scalar(select(Unit.serial).where(Unit.status == "shipped").order_by(Unit.id).limit(1))
        done = warranty_service.register_claim(s, serial=serial, symptom="no_power", author=None,
                                               today=date(2026, 11, 30))
        assert done.claim.number == f"CL-{int(highest[3:]) + 1:06d}"
        trans.rollback()


def test_every_claim_went_through_the_state_machine_step_by_step(loaded):
    """The demo walks its claims through the services: every timeline is a path the workflow allows, ending in the
    claim's state."""
    from serialtrace.warranty import workflow
    from serialtrace.warranty.models import ClaimEvent

    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        states = dict(s.execute(select(Claim.id, Claim.state)).all())
        steps = s.execute(select(ClaimEvent.claim_id, ClaimEvent.from_state, ClaimEvent.to_state, ClaimEvent.at)
                          .where(ClaimEvent.kind == "state_change").order_by(ClaimEvent.claim_id, ClaimEvent.id)).all()
    walked: dict[int, list] = {}
    for claim_id, before, after, at in steps:
        walked.setdefault(claim_id, []).append((before, after, at))
    assert set(walked) == set(states)
    for claim_id, path in walked.items():
        assert path[0][0] is None and path[0][1] in ("draft", "registered")
        for (_, previous, at_before), (before, after, at) in zip(path, path[1:], strict=False):
            assert before == previous and workflow.may(before, after, None), (claim_id, path)
            assert at >= at_before
        assert path[-1][1] == states[claim_id]


def test_tested_claims_have_records_with_steps_codes_and_outcomes(loaded):
    from serialtrace.warranty.models import DispositionRecord, UnitCase

    runtime, _, _, _ = loaded
    with runtime.transaction() as s:
        records = s.scalars(select(warranty_models.TestRecord)).all()
        steps = dict(s.execute(select(warranty_models.TestStepResult.record_id, func.count())
                               .group_by(warranty_models.TestStepResult.record_id)).all())
        billed = s.execute(select(Claim.state, Claim.billed_amount).where(Claim.billed_at.is_not(None))).all()
        settled = s.scalars(select(Claim.billed_at).where(Claim.state == "settled")).all()
        executed = s.scalar(select(func.count()).select_from(DispositionRecord)
                            .where(DispositionRecord.state == "executed"))
        disposed = s.scalar(select(func.count()).select_from(UnitCase).where(UnitCase.state == "disposed"))
    assert records and all(steps.get(r.id) == 4 for r in records)
    assert all(r.failure_mode and r.root_cause and r.location and r.action and r.case_id for r in records)
    assert billed and all(amount is not None and amount > 0 for _, amount in billed)
    assert settled and all(at is None for at in settled)
    assert executed == disposed > 0


def test_open_claims_wait_at_every_stage_with_an_owner_and_some_are_overdue(loaded):
    from serialtrace.columns import utcnow
    from serialtrace.warranty import stages
    from serialtrace.warranty.enums import Stage
    from serialtrace.warranty.models import KnowledgeArticle, RoutingRule, StageTask, Survey, Team

    runtime, _, _, _ = loaded
    now = utcnow()
    with runtime.transaction() as s:
        tasks = s.scalars(select(StageTask).where(StageTask.closed_at.is_(None))).all()
        assert {t.stage for t in tasks} == {str(stage) for stage in Stage}
        # Every open stage has an owner: the coordinator the supervisor handed it to, in the routed team.
        office = s.scalars(select(Team).where(Team.name == "Claims office")).one()
        assert all(t.assignee_id is not None and t.team_id == office.id for t in tasks)
        assert s.scalar(select(func.count()).select_from(RoutingRule)) == 1
        breached = [stages.view_clock(s, c, now).breached for t in tasks
                    for c in stages.claim_clocks(s, s.get(Claim, t.claim_id)) if c.task_id == t.id]
        assert any(breached) and not all(breached)
        assert s.scalar(select(func.count()).select_from(KnowledgeArticle).where(KnowledgeArticle.successes > 0))
        answered = s.scalars(select(Survey.resolved).where(Survey.answered_at.is_not(None))).all()
        assert answered and any(answered)
        assert s.scalar(select(func.count()).select_from(Survey).where(Survey.mail_state == "pending")) == 0
