"""Who may read and move claims over the API: the same roles as the claim page and the workflow table."""

from __future__ import annotations

import pytest

from serialtrace.accounts.enums import Role
from serialtrace.web.auth import PAGE_ROLES

from ..warranty.tested_case import make_tested

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


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
