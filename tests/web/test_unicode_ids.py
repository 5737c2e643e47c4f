"""Record numbers typed in forms: digits other than ASCII 0-9 (², ٣) and numbers past the id range are a 422
naming the field, never a 500, and change nothing."""

from __future__ import annotations

import pytest

from .conftest import csrf_from
from .test_bench_pages import _records, _state, _test_form, cases, settings_overrides  # noqa: F401 (fixtures)

NOT_IDS = ["²", "٣", "1²", "99999999999999999999"]


@pytest.mark.parametrize("typed", NOT_IDS)
def test_a_correction_of_a_record_number_not_in_ascii_digits_is_a_422(login, session, cases, typed):  # noqa: F811
    ids, _ = cases
    client = login("engineer")
    page = client.get(f"/cases/{ids[0]}").get_data(as_text=True)
    resp = client.post(f"/cases/{ids[0]}/tests", data={"csrf_token": csrf_from(page),
                                                         **_test_form(supersedes=typed)})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "supersedes" in html.split('id="form-error">')[1].split("</")[0]
    assert _records(session) == 0 and _state(session, ids[0]) == "received"
