"""POST /api/v1/failure-codes when another request added the same code meanwhile: a 409 naming the code."""

from __future__ import annotations

from ..warranty.test_code_races import raced  # noqa: F401 (fixture)


def test_the_api_answers_409_for_a_code_taken_meanwhile(api, raced):  # noqa: F811
    answer = api("quality").post("/api/v1/failure-codes", json={"list": "symptom", "code": "no_power", "name": "Dead"})
    assert (answer.status_code, answer.json["details"]) == (409, {"field": "code"})
