"""Who may read and move claims over the API: the same roles as the claim page and the workflow table."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from serialtrace.accounts.enums import Role
from serialtrace.warranty.models import Claim, ClaimEvent
from serialtrace.warranty.workflow import CLAIM_ROLES, CLAIM_TRANSITIONS, SYSTEM_STEPS
from serialtrace.web.auth import PAGE_ROLES

from ..warranty.tested_case import make_tested
from tests import images

JPEG = images.JPEG


@pytest.fixture
def settings_overrides(tmp_path):
    return {"instance_dir": str(tmp_path)}


@pytest.fixture
def tested(session, make_batch, users):
    made = make_tested(session, make_batch, users["warehouse"])
    session.commit()
    return made


def _reads(api, tested) -> list[str]:
    """Every read route of a claim's data: the claim, its case, test records, dispositions and files."""
    import io

    made = api("engineer").post(f"/api/v1/claims/{tested.claim.id}/attachments", content_type="multipart/form-data",
                                data={"file": (io.BytesIO(JPEG), "a.jpg", "image/jpeg")})
    assert made.status_code == 201, made.json
    case = tested.case.id
    return [f"/api/v1/claims/{tested.claim.id}", f"/api/v1/cases/{case}", f"/api/v1/cases/{case}/tests",
            f"/api/v1/cases/{case}/dispositions", f"/api/v1/claims/{tested.claim.id}/attachments",
            f"/api/v1/attachments/{made.json['id']}"]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_claim_data_is_read_by_the_roles_of_the_claim_page(api, tested, role):
    readers = {*PAGE_ROLES["pages.claim"], Role.ADMIN}
    answers = {url: api(role).get(url) for url in _reads(api, tested)}
    expected = 200 if role in readers else 403
    assert {url: a.status_code for url, a in answers.items()} == dict.fromkeys(answers, expected)
    if expected == 403:
        assert all(a.json["error"] == "forbidden" for a in answers.values())


def _claim_at(session, claim_id: int, state: str) -> tuple:
    """Put the claim in `state` (committed for the app); returns what a refusal must leave as it was."""
    session.execute(update(Claim).where(Claim.id == claim_id).values(state=state))
    session.commit()
    return _claim_now(session, claim_id)


def _claim_now(session, claim_id: int) -> tuple:
    session.expire_all()
    return (session.get(Claim, claim_id).state,
            session.scalar(select(func.count()).select_from(ClaimEvent).where(ClaimEvent.claim_id == claim_id)))


def test_every_claim_step_over_the_api_answers_as_the_workflow_table_says_for_every_role(api, session, tested):
    """Each step of the table, for each role: 403 when its row leaves the role out, 409 naming the action for a
    system step, and never either for a role the row names; refusals change nothing."""
    claim_id, wrong = tested.claim.id, []
    for current, targets in CLAIM_TRANSITIONS.items():
        for target in sorted(targets):
            for role in Role:
                before = _claim_at(session, claim_id, current)
                answer = api(role.value).post(f"/api/v1/claims/{claim_id}/transitions",
                                              json={"to": str(target), "reason": "role sweep"})
                if (current, target) in SYSTEM_STEPS:
                    expected = 409 if (answer.json.get("details") or {}).get("system") else "409 system"
                elif role in CLAIM_ROLES[(current, target)]:
                    expected = answer.status_code if answer.status_code not in (401, 403) else "not 403"
                else:
                    expected = 403
                refused = answer.status_code in (403, 409)
                if answer.status_code != expected or (refused and _claim_now(session, claim_id) != before):
                    wrong.append((str(current), str(target), role.value, answer.status_code, expected))
    assert wrong == []
