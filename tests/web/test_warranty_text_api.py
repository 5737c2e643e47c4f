"""Text the database cannot hold (NUL, lone surrogates) in the warranty API: a 422 naming the field on SQLite and
PostgreSQL alike, nothing changed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from serialtrace.warranty.models import Claim, ClaimEvent, Comment, DispositionRecord, UnitCase
from serialtrace.warranty.models import TestRecord as Record

from ..warranty.tested_case import make_tested

BAD = ["a\x00b", "\x00", "x\ud800y"]


@pytest.fixture
def tested(session, make_batch, users):
    made = make_tested(session, make_batch, users["warehouse"])
    session.commit()
    return made


def _counts(session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(t))
                 for t in (Claim, UnitCase, ClaimEvent, Record, DispositionRecord, Comment))


def _calls(tested, bad: str) -> list[tuple[str, str, str, dict, str]]:
    """(role, url, field, body) of every warranty input with free text, serials or codes, `bad` in `field`."""
    claim, case = tested.claim.id, tested.case.id
    register = {"serial": tested.serials[1], "symptom": "no_power"}
    test = {"verdict": "confirmed_defect", "notes": ""}
    return [
        ("warehouse", "/api/v1/claims", "description", {**register, "description": bad}),
        ("warehouse", "/api/v1/claims", "serial", {**register, "serial": bad}),
        ("warehouse", "/api/v1/claims", "symptom", {**register, "symptom": bad}),
        ("coordinator", f"/api/v1/claims/{claim}/transitions", "reason", {"to": "decided", "reason": bad}),
        ("coordinator", f"/api/v1/claims/{claim}/transitions", "to", {"to": bad}),
        ("warehouse", f"/api/v1/claims/{claim}/replace", "replacement_serial", {"replacement_serial": bad}),
        ("warehouse", f"/api/v1/cases/{case}/receive", "serial", {"serial": bad}),
        ("engineer", f"/api/v1/cases/{case}/tests", "notes", {**test, "notes": bad}),
        ("engineer", f"/api/v1/cases/{case}/tests", "failure.mode", {**test, "failure": {"mode": bad}}),
        ("engineer", f"/api/v1/cases/{case}/tests", "steps[0].name", {**test, "steps": [{"name": bad}]}),
        ("engineer", f"/api/v1/cases/{case}/dispositions", "notes", {"kind": "scrap", "notes": bad}),
        ("engineer", f"/api/v1/claims/{claim}/comments", "body", {"body": bad}),
        ("quality", "/api/v1/failure-codes", "name", {"list": "mode", "code": "x_1", "name": bad}),
    ]


@pytest.mark.parametrize("bad", BAD)
def test_nul_and_lone_surrogates_are_a_422_naming_the_field(api, session, tested, bad):
    before = _counts(session)
    # json.dumps escapes a lone surrogate as \ud800, as a client's JSON would carry it.
    answers = [(field, api(role).post(url, data=json.dumps(body), content_type="application/json"))
               for role, url, field, body in _calls(tested, bad)]
    got = [(field, a.status_code, ((a.json or {}).get("details") or {}).get("field")) for field, a in answers]
    assert got == [(field, 422, field) for field, _ in answers]
    assert _counts(session) == before
