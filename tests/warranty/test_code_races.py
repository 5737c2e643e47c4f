"""Two quality users adding the same failure code at once: the database's unique constraint answers, as a 409
naming the code, never a 500; the loser's request changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from serialtrace.errors import Conflict
from serialtrace.warranty import codes
from serialtrace.warranty.models import FailureCode


@pytest.fixture
def raced(monkeypatch):
    """The other request's code is committed after this one looked: the look finds nothing."""
    monkeypatch.setattr(codes, "find_code", lambda session, kind, code: None)


def _rows(session) -> list[tuple]:
    return list(session.execute(select(FailureCode.list, FailureCode.code, FailureCode.name, FailureCode.active)
                                .order_by(FailureCode.id)).all())


def test_adding_a_code_taken_meanwhile_is_a_409_naming_the_code(session, raced):
    before = _rows(session)
    with pytest.raises(Conflict) as refused:
        codes.add_code(session, kind="symptom", code="no_power", name="Dead")
    assert refused.value.details == {"field": "code"} and "'no_power'" in refused.value.message
    assert _rows(session) == before


def test_importing_a_code_taken_meanwhile_is_a_409_and_imports_nothing(session, raced):
    before = _rows(session)
    with pytest.raises(Conflict) as refused:
        codes.import_codes(session, "list,code,name\nmode,brand_new,Brand new\nsymptom,no_power,Dead\n")
    assert refused.value.details == {"field": "code"} and "'no_power'" in refused.value.message
    assert _rows(session) == before

