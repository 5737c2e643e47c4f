"""Failure-code lists: the seeded set, checking a code, adding, renaming, retiring, and the all-or-nothing import."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from serialtrace.errors import Conflict, NotFound, ValidationError
from serialtrace.i18n import Message
from serialtrace.trace import service as trace_service
from serialtrace.warranty import codes, service
from serialtrace.warranty.models import FailureCode

TODAY = date(2025, 6, 2)


def _rows(session) -> list[tuple]:
    return list(session.execute(select(FailureCode.list, FailureCode.code, FailureCode.name, FailureCode.active)
                                .order_by(FailureCode.id)).all())


def test_code_lists_give_the_five_seeded_lists_with_translatable_names(session):
    lists = codes.code_lists(session)
    assert list(lists) == ["symptom", "mode", "cause", "location", "action"]
    assert lists["symptom"][0] == {"code": "no_power", "name": "Does not switch on"}
    assert isinstance(lists["symptom"][0]["name"], Message) and lists["symptom"][0]["name"].msgid == \
        "Does not switch on"
    assert [c["code"] for c in lists["mode"]][:2] == ["solder_joint_crack", "sensor_drift"]
    assert len(lists["cause"]) == 10 and len(lists["action"]) == 10


def test_a_renamed_seeded_code_shows_its_stored_name(session):
    codes.update_code(session, kind="symptom", code="no_power", name="Dead")
    assert codes.code_lists(session)["symptom"][0] == {"code": "no_power", "name": "Dead"}


def test_ensure_code_refuses_unknown_and_retired_codes_naming_the_field(session):
    assert codes.ensure_code(session, "mode", "sensor_drift", field="failure.mode").code == "sensor_drift"
    with pytest.raises(ValidationError) as err:
        codes.ensure_code(session, "mode", "gremlins", field="failure.mode")
    assert err.value.details == {"field": "failure.mode"}
    assert "unknown" in str(err.value) and "'gremlins'" in str(err.value) and "sensor_drift" in str(err.value)
    codes.update_code(session, kind="mode", code="sensor_drift", active=False)
    with pytest.raises(ValidationError) as err:
        codes.ensure_code(session, "mode", "sensor_drift", field="failure.mode")
    assert "retired" in str(err.value) and err.value.details == {"field": "failure.mode"}
    assert "sensor_drift" not in [c["code"] for c in codes.code_lists(session)["mode"]]
    assert {"code": "sensor_drift", "name": "Sensor drift", "active": False, "stored_name": "Sensor drift"} in \
        codes.code_lists(session, active_only=False)["mode"]
    codes.update_code(session, kind="mode", code="sensor_drift", active=True)
    assert codes.ensure_code(session, "mode", "sensor_drift", field="failure.mode").active


def test_add_code_appends_and_refuses_duplicates_and_bad_input(session):
    row = codes.add_code(session, kind="cause", code="supplier_esd", name="ESD damage at the supplier")
    assert row.position == max(r.position for r in codes.list_codes(session, "cause"))
    assert codes.code_lists(session)["cause"][-1] == {"code": "supplier_esd", "name": "ESD damage at the supplier"}
    before = _rows(session)
    for kw, error, field in [
        ({"kind": "cause", "code": "supplier_esd", "name": "again"}, Conflict, "code"),
        ({"kind": "colour", "code": "red", "name": "Red"}, ValidationError, "list"),
        ({"kind": "cause", "code": "Bad Code", "name": "x"}, ValidationError, "code"),
        ({"kind": "cause", "code": "ok_code", "name": "  "}, ValidationError, "name"),
        ({"kind": "cause", "code": "ok_code", "name": "x" * 201}, ValidationError, "name"),
    ]:
        with pytest.raises(error) as err:
            codes.add_code(session, **kw)
        assert err.value.details["field"] == field
    assert _rows(session) == before


def test_update_of_an_unknown_code_is_not_found(session):
    with pytest.raises(NotFound):
        codes.update_code(session, kind="cause", code="nope", name="x")


def test_import_adds_renames_retires_in_one_go(session):
    done = codes.import_codes(session, "\ufefflist,code,name,active\n"
                                       "cause,esd,ESD damage,true\n"
                                       "cause,design,Design flaw,\n"
                                       "mode,no_fault,No fault,false\n"
                                       "\n"
                                       "action,reflash,Reflash firmware,yes\n".encode())
    assert (done.added, done.updated, done.unchanged) == (1, 2, 1)
    assert codes.find_code(session, "cause", "esd").name == "ESD damage"
    assert codes.find_code(session, "cause", "design").name == "Design flaw"
    assert codes.find_code(session, "mode", "no_fault").active is False


def test_import_without_active_column_keeps_the_active_flag(session):
    codes.update_code(session, kind="mode", code="no_fault", active=False)
    done = codes.import_codes(session, "list,code,name\nmode,no_fault,Nothing wrong\n")
    row = codes.find_code(session, "mode", "no_fault")
    assert (done.updated, row.name, row.active) == (1, "Nothing wrong", False)


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("list,code,name\ncause,esd,ESD\ncolour,red,Red\n", 3, "list", "unknown failure-code list 'colour'"),
    ("list,code,name\ncause,esd,ESD\ncause,Bad Code,x\n", 3, "code", "is not a code"),
    ("list,code,name\ncause,esd,\n", 2, "name", "column name"),
    ("list,code,name,active\ncause,esd,ESD,maybe\n", 2, "active", "'maybe' is not true or false"),
    ("list,code,name\ncause,esd,ESD\ncause,esd,ESD again\n", 3, "code", "listed twice"),
    ("list,code,name\ncause,esd,ESD,extra\n", 2, "", "has 4 cells, the header 3"),
    ("code,list,name\ncause,esd,ESD\n", 1, "file", "header"),
    ("", 1, "file", "empty"),
    ("list,code,name\n", 2, "file", "no codes"),
], ids=["list", "code", "name", "active", "twice", "cells", "header", "empty", "no-rows"])
def test_a_bad_import_names_line_and_column_and_changes_nothing(session, text, line, column, words):
    before = _rows(session)
    with pytest.raises(ValidationError) as err:
        codes.import_codes(session, text)
    assert err.value.details["line"] == line and err.value.details["field"] == (column or "file")
    assert words in str(err.value)
    if column != "file":
        assert str(err.value).startswith(f"line {line}")
    assert _rows(session) == before


def test_import_lists_every_fault_and_keeps_the_good_rows_out(session):
    before = _rows(session)
    with pytest.raises(ValidationError) as err:
        codes.import_codes(session, "list,code,name\ncause,good_one,Good\ncolour,x,X\ncause,Bad,Y\n")
    assert [(e["line"], e["column"]) for e in err.value.details["errors"]] == [(3, "list"), (4, "code")]
    assert _rows(session) == before and codes.find_code(session, "cause", "good_one") is None


def test_import_is_bounded(session):
    with pytest.raises(ValidationError) as err:
        codes.import_codes(session, b"x" * (codes.IMPORT_MAX_BYTES + 1))
    assert "over 524288 bytes" in str(err.value)
    rows = "".join(f"cause,c{i},Code {i}\n" for i in range(codes.IMPORT_MAX_ROWS + 1))
    with pytest.raises(ValidationError) as err:
        codes.import_codes(session, "list,code,name\n" + rows)
    assert "more than 5000 codes" in str(err.value)
    with pytest.raises(ValidationError, match="not UTF-8"):
        codes.import_codes(session, "list,code,name\ncause,x,\xe9\n".encode("latin-1"))


def test_register_claim_takes_symptoms_from_the_active_list(session, make_batch):
    _, serials = make_batch(quantity=2)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=TODAY)
    codes.add_code(session, kind="symptom", code="rattles", name="Rattles")
    claim = service.register_claim(session, serial=serials[0], symptom="rattles", author=None, today=TODAY).claim
    assert claim.symptom == "rattles"
    codes.update_code(session, kind="symptom", code="rattles", active=False)
    with pytest.raises(ValidationError) as err:
        service.register_claim(session, serial=serials[1], symptom="rattles", author=None, today=TODAY)
    assert err.value.details == {"field": "symptom"}
    assert str(err.value).startswith("unknown symptom 'rattles'; use one of no_power")
