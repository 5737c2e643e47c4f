"""The test bench's service: taking a case, recording a test against the procedure, the verdict moving the claim on
(settled, billed with the product's price, decided), corrections, and every refusal changing nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from serialtrace.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.warranty import bench, codes, models, queries
from serialtrace.warranty.models import Claim, ClaimEvent, UnitCase

from .bench_setup import good_steps, make_bench

FAILURE = {"symptom": "no_power", "mode": "solder_joint_crack", "cause": "manufacturing", "location": "main_board",
           "action": "resolder"}


@pytest.fixture
def desk(session, make_batch):
    """A priced product with a procedure and shipped units to claim."""
    return make_bench(session, make_batch)


def _snapshot(session) -> tuple:
    """Everything a refused bench action must leave as it was."""
    counts = tuple(session.scalar(select(func.count()).select_from(t)) for t in (
        models.TestRecord, models.TestStepResult, UnitEvent, ClaimEvent))
    return (counts, tuple(session.execute(select(UnitCase.state, UnitCase.engineer_id, UnitCase.verdict)
                                          .order_by(UnitCase.id)).all()),
            tuple(session.execute(select(Claim.state, Claim.billed_amount).order_by(Claim.id)).all()),
            tuple(session.execute(select(Unit.status).order_by(Unit.id)).scalars()))


def _unit_events(session, case) -> list[str]:
    return list(session.scalars(select(UnitEvent.kind).where(UnitEvent.unit_id == case.unit_id)
                                .order_by(UnitEvent.id)))


def test_take_moves_a_received_case_and_its_unit_into_test(session, desk):
    claim, case = desk.claim()
    engineer = desk.people["engineer"]
    taken = bench.take_case(session, case_id=case.id, author=engineer)
    assert (taken.state, taken.engineer_id) == ("in_test", engineer.id) and taken.taken_at is not None
    assert session.scalar(select(Unit.status).where(Unit.id == case.unit_id)) == "in_test"
    assert _unit_events(session, case)[-1] == "status"
    read = queries.case_read(session, case.id)
    assert (read["state"], read["engineer"]) == ("in_test", "engineer")
    before = _snapshot(session)
    assert bench.take_case(session, case_id=case.id, author=engineer).state == "in_test"
    assert _snapshot(session) == before


def test_a_second_engineer_gets_409_naming_who_has_the_case(session, desk):
    _, case = desk.claim()
    bench.take_case(session, case_id=case.id, author=desk.people["engineer2"])
    before = _snapshot(session)
    with pytest.raises(Conflict) as err:
        bench.take_case(session, case_id=case.id, author=desk.people["engineer"])
    assert str(err.value) == f"case {case.id} is already in test with Second Engineer"
    with pytest.raises(Conflict, match="Second Engineer"):
        bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(),
                          author=desk.people["engineer"])
    assert _snapshot(session) == before


def test_take_refuses_a_case_not_received_and_a_role_not_on_the_bench(session, desk):
    _, expected = desk.claim(receive=False)
    _, received = desk.claim()
    before = _snapshot(session)
    with pytest.raises(InvalidTransition, match="only a received case"):
        bench.take_case(session, case_id=expected.id, author=desk.people["engineer"])
    with pytest.raises(PermissionDenied):
        bench.take_case(session, case_id=received.id, author=desk.people["warehouse"])
    with pytest.raises(NotFound):
        bench.take_case(session, case_id=999999, author=desk.people["engineer"])
    assert _snapshot(session) == before


@pytest.mark.parametrize(("verdict", "bill_no_fault", "state", "billed"), [
    ("confirmed_defect", True, "settled", False),
    ("transport_damage", True, "settled", False),
    ("not_covered", True, "billed", True),
    ("no_fault_found", True, "billed", True),
    ("no_fault_found", False, "settled", False),
    ("not_covered", False, "billed", True),
])
def test_the_verdict_settles_or_bills_an_advance_replaced_claim(session, desk, verdict, bill_no_fault, state,
                                                                billed):
    claim, case = desk.claim()
    engineer = desk.people["engineer"]
    done = bench.record_test(session, case_id=case.id, verdict=verdict, steps=good_steps(), failure=FAILURE,
                             notes="cracked joint near U3", author=engineer, bill_no_fault=bill_no_fault)
    assert done.claim.state == state and done.warnings == []
    assert (done.claim.billed_amount, done.claim.billed_at is not None) == (
        (Decimal("120.00"), True) if billed else (None, False))
    assert (done.case.state, done.case.verdict, done.case.engineer_id) == ("tested", verdict, engineer.id)
    record = done.record
    assert (record.verdict, record.failure_mode, record.root_cause, record.location, record.action, record.symptom) \
        == (verdict, "solder_joint_crack", "manufacturing", "main_board", "resolder", "no_power")
    assert record.procedure_id is not None and record.engineer_id == engineer.id
    steps = session.execute(select(models.TestStepResult.name, models.TestStepResult.value,
                                   models.TestStepResult.passed, models.TestStepResult.unit)
                            .where(models.TestStepResult.record_id == record.id)
                            .order_by(models.TestStepResult.position)).all()
    assert [tuple(s) for s in steps] == [("Power on", None, True, ""), ("Supply current", 15.0, True, "mA")]
    assert _unit_events(session, case)[-2:] == ["status", "tested"]
    timeline = [(e["kind"], e["from"], e["to"], e.get("verdict")) for e in queries.claim_read(
        session, done.claim, role=None)["timeline"]][-4:]
    # Receiving the unit took the claim to pending_verification; taking it into test made the engineer the
    # verification's owner; the verdict settles or bills it.
    assert timeline == [("case_state", "received", "in_test", None), ("assignment", None, None, None),
                        ("test_record", None, None, verdict), ("state_change", "pending_verification", state, None)]


def test_a_measure_outside_its_limits_fails_the_step_not_the_record(session, desk):
    _, case = desk.claim()
    done = bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(25.5),
                             author=desk.people["engineer"])
    passed = session.scalars(select(models.TestStepResult.passed).where(
        models.TestStepResult.record_id == done.record.id).order_by(models.TestStepResult.position)).all()
    assert passed == [True, False]
    # A limit is inclusive, and a measure may have one limit only.
    low_only = [{"name": "A", "kind": "measure", "low": 1, "high": None, "unit": "V"}]
    assert [bench.judge_steps(low_only, [{"name": "A", "value": v}])[0]["passed"] for v in (1, 0.99, 1e9)] == [
        True, False, True]


def test_a_product_without_a_price_is_billed_with_no_amount_and_a_warning(session, make_batch):
    desk = make_bench(session, make_batch, price=None)
    claim, case = desk.claim()
    done = bench.record_test(session, case_id=case.id, verdict="not_covered", steps=good_steps(),
                             author=desk.people["engineer"])
    assert (done.claim.state, done.claim.billed_amount) == ("billed", None) and done.claim.billed_at is not None
    assert [w["code"] for w in done.warnings] == ["no_price"]
    assert str(done.warnings[0]["message"]) == f"claim {claim.number} is billed without an amount: product PR-100 " \
                                               "has no price"


def test_the_standard_path_goes_in_inspection_then_decided(session, desk):
    claim, case = desk.claim(advance=False)
    assert claim.state == "in_inspection"
    done = bench.record_test(session, case_id=case.id, verdict="not_covered", steps=good_steps(),
                             author=desk.people["engineer"])
    assert (done.claim.state, done.claim.billed_amount) == ("decided", None)


def test_no_procedure_means_no_steps(session, make_batch):
    desk = make_bench(session, make_batch, procedure=False)
    _, case = desk.claim()
    before = _snapshot(session)
    with pytest.raises(ValidationError) as err:
        bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(),
                          author=desk.people["engineer"])
    assert err.value.details == {"field": "steps"} and _snapshot(session) == before
    done = bench.record_test(session, case_id=case.id, verdict="confirmed_defect", author=desk.people["engineer"])
    assert done.record.procedure_id is None and done.claim.state == "settled"


@pytest.mark.parametrize(("kw", "error", "field", "words"), [
    ({"verdict": "broken"}, ValidationError, "verdict", "unknown verdict 'broken'"),
    ({"steps": [{"name": "Power on", "passed": True}]}, ValidationError, "steps", "missing Supply current"),
    ({"steps": [{"name": "Power on", "passed": True}, {"name": "Smell", "passed": True}]}, ValidationError,
     "steps[1].name", "'Smell' is not a step of the procedure"),
    ({"steps": [{"name": "Power on", "passed": True, "value": 3}, {"name": "Supply current", "value": 15}]},
     ValidationError, "steps[0].value", "takes no value"),
    ({"steps": [{"name": "Power on"}, {"name": "Supply current", "value": 15}]}, ValidationError,
     "steps[0].passed", "give passed"),
    ({"steps": [{"name": "Power on", "passed": True}, {"name": "Supply current"}]}, ValidationError,
     "steps[1].value", "finite number"),
    ({"steps": [{"name": "Power on", "passed": True}, {"name": "Supply current", "value": float("inf")}]},
     ValidationError, "steps[1].value", "finite number"),
    ({"steps": [{"name": "Power on", "passed": True}, {"name": "Power on", "passed": True}]}, ValidationError,
     "steps[1].name", "given twice"),
    ({"failure": {"mode": "gremlins"}}, ValidationError, "failure.mode", "unknown"),
    ({"failure": {"cause": "aliens"}}, ValidationError, "failure.cause", "unknown"),
    ({"failure": {"colour": "red"}}, ValidationError, "failure.colour", "not a failure-code list"),
], ids=["verdict", "missing-step", "unknown-step", "value-for-pass-fail", "no-passed", "no-value", "inf", "twice",
        "mode", "cause", "list"])
def test_a_bad_test_is_refused_naming_the_field_and_changes_nothing(session, desk, kw, error, field, words):
    _, case = desk.claim()
    before = _snapshot(session)
    args = {"verdict": "confirmed_defect", "steps": good_steps(), "failure": FAILURE, **kw}
    with pytest.raises(error) as err:
        bench.record_test(session, case_id=case.id, author=desk.people["engineer"], **args)
    assert err.value.details["field"] == field and words in str(err.value)
    assert _snapshot(session) == before


def test_a_retired_failure_code_is_refused(session, desk):
    _, case = desk.claim()
    codes.update_code(session, kind="location", code="main_board", active=False)
    before = _snapshot(session)
    with pytest.raises(ValidationError, match="retired") as err:
        bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(), failure=FAILURE,
                          author=desk.people["engineer"])
    assert err.value.details == {"field": "failure.location"} and _snapshot(session) == before


def test_a_case_not_in_test_and_a_role_off_the_bench_are_refused(session, desk):
    _, expected = desk.claim(receive=False)
    _, received = desk.claim()
    before = _snapshot(session)
    with pytest.raises(ValidationError, match="received or in-test"):
        bench.record_test(session, case_id=expected.id, verdict="confirmed_defect", steps=good_steps(),
                          author=desk.people["engineer"])
    for role in ("warehouse", "coordinator", "quality"):
        with pytest.raises(PermissionDenied):
            bench.record_test(session, case_id=received.id, verdict="confirmed_defect", steps=good_steps(),
                              author=desk.people[role])
    assert _snapshot(session) == before
    done = bench.record_test(session, case_id=received.id, verdict="confirmed_defect", steps=good_steps(),
                             author=desk.people["engineer"])
    before = _snapshot(session)
    with pytest.raises(ValidationError, match="tested"):
        bench.record_test(session, case_id=received.id, verdict="confirmed_defect", steps=good_steps(),
                          author=desk.people["engineer"])
    assert _snapshot(session) == before and done.case.state == "tested"


def test_a_correction_supersedes_the_record_both_stay_and_a_like_outcome_keeps_the_claim(session, desk):
    claim, case = desk.claim()
    engineer = desk.people["engineer"]
    first = bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(),
                              author=engineer)
    second = bench.record_test(session, case_id=case.id, verdict="transport_damage", steps=good_steps(),
                               author=engineer, supersedes=first.record.id, notes="box crushed")
    assert second.record.supersedes_id == first.record.id and second.case.verdict == "transport_damage"
    assert (second.case.state, second.claim.state) == ("tested", "settled")
    records = queries.case_records(session, case.id)
    assert [(r["id"], r["verdict"], r["superseded_by"]) for r in records] == [
        (second.record.id, "transport_damage", None), (first.record.id, "confirmed_defect", second.record.id)]
    tests = [(e["record_id"], e["verdict"], e["supersedes_id"], e["reason"])
             for e in queries.claim_read(session, second.claim, role=None)["timeline"]
             if e["kind"] in ("test", "test_record")]
    assert tests == [(first.record.id, "confirmed_defect", None, ""),
                     (second.record.id, "transport_damage", first.record.id, "box crushed")]
    before = _snapshot(session)
    with pytest.raises(Conflict, match="already corrected"):
        bench.record_test(session, case_id=case.id, verdict="not_covered", steps=good_steps(), author=engineer,
                          supersedes=first.record.id)
    assert _snapshot(session) == before


def test_a_correction_of_another_cases_record_or_of_an_untested_case_is_refused(session, desk):
    _, case_a = desk.claim()
    _, case_b = desk.claim()
    engineer = desk.people["engineer"]
    first = bench.record_test(session, case_id=case_a.id, verdict="confirmed_defect", steps=good_steps(),
                              author=engineer)
    before = _snapshot(session)
    with pytest.raises(InvalidTransition, match="only a tested case"):
        bench.record_test(session, case_id=case_b.id, verdict="confirmed_defect", steps=good_steps(),
                          author=engineer, supersedes=first.record.id)
    bench.record_test(session, case_id=case_b.id, verdict="confirmed_defect", steps=good_steps(), author=engineer)
    before = _snapshot(session)
    with pytest.raises(ValidationError) as err:
        bench.record_test(session, case_id=case_b.id, verdict="not_covered", steps=good_steps(), author=engineer,
                          supersedes=first.record.id)
    assert err.value.details == {"field": "supersedes"} and "not a test record of case" in str(err.value)
    with pytest.raises(ValidationError):
        bench.record_test(session, case_id=case_b.id, verdict="not_covered", steps=good_steps(), author=engineer,
                          supersedes=10**12)
    assert _snapshot(session) == before


def test_test_records_are_append_only_in_the_database(session, desk):
    _, case = desk.claim()
    done = bench.record_test(session, case_id=case.id, verdict="confirmed_defect", steps=good_steps(),
                             author=desk.people["engineer"])
    session.commit()
    with pytest.raises(Exception, match="(?i)append"):
        with session.begin_nested():
            session.execute(models.TestRecord.__table__.update().where(models.TestRecord.id == done.record.id)
                            .values(notes="edited"))
