"""Taking a case into test makes the engineer the owner of the claim's unowned inspection or verification task,
with a timeline row; an owned task keeps its owner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from serialtrace.warranty import bench, queries, stages
from serialtrace.warranty.models import ClaimEvent, SlaClock

from .bench_setup import make_bench


@pytest.fixture
def desk(session, make_batch):
    return make_bench(session, make_batch)


def _assignments(session, claim) -> list[tuple[str, str]]:
    return [tuple(r) for r in session.execute(select(ClaimEvent.author, ClaimEvent.reason).where(
        ClaimEvent.claim_id == claim.id, ClaimEvent.kind == "assignment").order_by(ClaimEvent.id))]


@pytest.mark.parametrize(("advance", "stage"), [(True, "verification"), (False, "inspection")])
def test_the_engineer_taking_the_case_owns_the_open_bench_stage(session, desk, advance, stage):
    claim, case = desk.claim(advance=advance)
    engineer = desk.people["engineer"]
    task = stages.open_task(session, claim.id)
    assert (task.stage, task.assignee_id) == (stage, None)
    clocks = [(c.elapsed_seconds, c.state, c.due_at) for c in session.scalars(select(SlaClock))]
    bench.take_case(session, case_id=case.id, author=engineer)
    assert stages.open_task(session, claim.id).assignee_id == engineer.id
    assert _assignments(session, claim) == [("engineer", "took the case into test")]
    read = queries.claim_read(session, claim, role=None)
    assert read["stage"]["assignee"] == "engineer" and read["timeline"][-1]["kind"] == "assignment"
    # The clocks are not touched.
    assert [(c.elapsed_seconds, c.state, c.due_at) for c in session.scalars(select(SlaClock))] == clocks


def test_a_task_someone_owns_keeps_its_owner(session, desk):
    claim, case = desk.claim(advance=False)
    stages.reassign(session, claim_id=claim.id, username="engineer2", reason="knows the model",
                    author=desk.people["supervisor"])
    bench.take_case(session, case_id=case.id, author=desk.people["engineer"])
    assert stages.open_task(session, claim.id).assignee_id == desk.people["engineer2"].id
    assert [r for _, r in _assignments(session, claim)] == ["- → engineer2: knows the model"]
