"""Failure-code lists (symptom, failure mode, root-cause category, defect location, repair action): reading them,
checking a code, and quality's changes: add, rename, retire or reactivate, and a CSV import in one transaction."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import integrity_to_conflict
from ..errors import Conflict, NotFound, ValidationError
from ..i18n import Message, _l, coded, message_of
from .enums import FAILURE_LIST_LABELS, FAILURE_MODE_LABELS, SYMPTOM_LABELS, FailureList
from .models import FailureCode

LISTS: tuple[str, ...] = tuple(str(kind) for kind in FailureList)
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
NAME_MAX = 200
# An import is a list of codes, not a data dump: bounded so a wrong file is refused before it is read through.
IMPORT_MAX_BYTES = 512 * 1024
IMPORT_MAX_ROWS = 5000
IMPORT_COLUMNS = ("list", "code", "name", "active")
# How many of an import's faults are listed in the error's details.
IMPORT_MAX_ERRORS = 50
_TRUE, _FALSE = {"1", "true", "yes", "y", ""}, {"0", "false", "no", "n"}

# Names of the seeded codes, translated where shown; a code renamed by quality shows its stored name instead.
_SEEDED_LABELS: dict[str, dict[str, str]] = {
    FailureList.SYMPTOM: {**SYMPTOM_LABELS, "noise": _l("Unusual noise"), "overheating": _l("Overheating"),
                          "other": _l("Other")},
    FailureList.MODE: {**FAILURE_MODE_LABELS, "component_failure": _l("Component failure"),
                       "connector_failure": _l("Connector failure"), "other": _l("Other")},
    FailureList.CAUSE: {
        "component": _l("Component (supplier)"), "manufacturing": _l("Manufacturing"), "design": _l("Design"),
        "firmware": _l("Firmware"), "transport": _l("Transport"), "misuse": _l("Misuse or damage by the user"),
        "installation": _l("Installation"), "wear": _l("Normal wear"), "unknown": _l("Unknown"),
        "other": _l("Other")},
    FailureList.LOCATION: {
        "main_board": _l("Main board"), "power_supply": _l("Power supply"), "sensor": _l("Sensor"),
        "display": _l("Display"), "housing": _l("Housing"), "connector": _l("Connector"), "seal": _l("Seal"),
        "firmware": _l("Firmware"), "none": _l("None"), "other": _l("Other")},
    FailureList.ACTION: {
        "none": _l("None"), "replace_board": _l("Replace board"), "replace_sensor": _l("Replace sensor"),
        "resolder": _l("Resolder"), "reflash": _l("Reflash firmware"), "replace_housing": _l("Replace housing"),
        "replace_seal": _l("Replace seal"), "clean": _l("Clean and dry"), "calibrate": _l("Calibrate"),
        "other": _l("Other")},
}


def code_name(kind: str, code: str, stored: str) -> Message:
    """The name to show for a code: the translated label of a seeded code still under its seeded name, else the
    stored name as it is."""
    label = _SEEDED_LABELS.get(kind, {}).get(code)
    if label is not None and str(label) == stored:
        return message_of(label)
    return message_of(stored)


def ensure_list(kind: str, *, field: str = "list") -> str:
    """`kind` when it names a failure-code list; else a 422 naming `field` and the lists."""
    if kind not in LISTS:
        raise ValidationError(_l("unknown failure-code list %(list)r; use one of %(allowed)s", list=kind,
                                 allowed=coded(LISTS, FAILURE_LIST_LABELS)), details={"field": field})
    return kind


def list_codes(session: Session, kind: str | None = None, *, active_only: bool = True) -> list[FailureCode]:
    """The codes of one list (or all), in list order then position; retired ones too unless `active_only`."""
    stmt = select(FailureCode).order_by(FailureCode.list, FailureCode.position, FailureCode.id)
    if kind is not None:
        stmt = stmt.where(FailureCode.list == ensure_list(kind))
    if active_only:
        stmt = stmt.where(FailureCode.active.is_(True))
    return list(session.scalars(stmt))


def code_lists(session: Session, *, active_only: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Every list as {"symptom": [{"code", "name"}], "mode": ..., ...} in position order; names are Messages
    (translated where shown); with `active_only` False (the page that manages them) each item also has "active" and
    "stored_name", the name as kept, which a rename form must start from rather than a translation."""
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in LISTS}
    for row in list_codes(session, active_only=active_only):
        item: dict[str, Any] = {"code": row.code, "name": code_name(row.list, row.code, row.name)}
        if not active_only:
            item["active"] = row.active
            item["stored_name"] = row.name
        out.setdefault(row.list, []).append(item)
    return out


def find_code(session: Session, kind: str, code: str) -> FailureCode | None:
    """The code `code` of list `kind` (active or retired), or None."""
    return session.scalars(select(FailureCode).where(FailureCode.list == kind, FailureCode.code == code)).first()


def allowed_codes(session: Session, kind: str) -> Any:
    """The active codes of list `kind` with their names, for a message that says what to use."""
    rows = list_codes(session, kind)
    return coded([r.code for r in rows], {r.code: code_name(kind, r.code, r.name) for r in rows})


def ensure_code(session: Session, kind: str, code: str, *, field: str) -> FailureCode:
    """The active code `code` of list `kind`; unknown or retired is a 422 naming `field` and the codes to use."""
    row = find_code(session, ensure_list(kind), code)
    if row is None:
        raise ValidationError(_l("unknown %(list)s code %(code)r in %(field)s; use one of %(allowed)s",
                                 list=coded(kind, FAILURE_LIST_LABELS), code=code, field=field,
                                 allowed=allowed_codes(session, kind)), details={"field": field})
    if not row.active:
        raise ValidationError(_l("%(list)s code %(code)r in %(field)s is retired; use one of %(allowed)s",
                                 list=coded(kind, FAILURE_LIST_LABELS), code=code, field=field,
                                 allowed=allowed_codes(session, kind)), details={"field": field})
    return row


def _check_code(code: str, *, field: str = "code") -> str:
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        raise ValidationError(_l("%(field)s %(code)r is not a code: 1 to 64 lower-case letters, digits, _ . or -, "
                                 "starting with a letter or digit", field=field, code=code), details={"field": field})
    return code


def _check_name(name: str, *, field: str = "name") -> str:
    text = (name or "").strip() if isinstance(name, str) else ""
    if not text:
        raise ValidationError(_l("%(field)s is required", field=field), details={"field": field})
    if len(text) > NAME_MAX:
        raise ValidationError(_l("%(field)s has at most %(max)s characters", field=field, max=NAME_MAX),
                              details={"field": field})
    return text


def _next_position(session: Session, kind: str) -> int:
    return (session.scalar(select(func.max(FailureCode.position)).where(FailureCode.list == kind)) or 0) + 1


def _taken(kind: str, code: str) -> Message:
    """The sentence for a code list `kind` already has."""
    return _l("the %(list)s list already has the code %(code)r", list=coded(kind, FAILURE_LIST_LABELS), code=code)


def _insert(session: Session, row: FailureCode) -> None:
    """Add and flush a new code; one another request added since the look (the unique list and code) is a 409
    naming it, with the session as it was."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise integrity_to_conflict(exc, _taken(row.list, row.code), details={"field": "code"}) from exc


def add_code(session: Session, *, kind: str, code: str, name: str) -> FailureCode:
    """Add an active code at the end of list `kind`; a code the list already has is a 409 naming it. Flushes."""
    ensure_list(kind)
    _check_code(code)
    name = _check_name(name)
    if find_code(session, kind, code) is not None:
        raise Conflict(_taken(kind, code), details={"field": "code"})
    row = FailureCode(list=kind, code=code, name=name, active=True, position=_next_position(session, kind))
    _insert(session, row)
    return row


def update_code(session: Session, *, kind: str, code: str, name: str | None = None,
                active: bool | None = None) -> FailureCode:
    """Rename a code and/or retire (active False) or reactivate it; codes are never deleted, as records use them.
    Flushes."""
    ensure_list(kind)
    row = find_code(session, kind, code)
    if row is None:
        raise NotFound(_l("the %(list)s list has no code %(code)r", list=coded(kind, FAILURE_LIST_LABELS), code=code))
    if name is not None:
        row.name = _check_name(name)
    if active is not None:
        row.active = active
    session.flush()
    return row


@dataclass
class Imported:
    """What a CSV import did: codes added and codes changed (renamed, retired or reactivated)."""

    added: int
    updated: int
    unchanged: int


def _fault(faults: list[dict[str, Any]], line: int, column: str, message: Message) -> None:
    faults.append({"line": line, "column": column, "message": message})


def _read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The CSV's rows by line number, after checking the header; a bad header is a 422 naming line 1."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ValidationError(_l("the file is empty; the first line must be list,code,name[,active]"),
                              details={"line": 1, "field": "file"}) from None
    except csv.Error as exc:
        raise ValidationError(_l("line 1 is not CSV: %(why)s", why=str(exc)),
                              details={"line": 1, "field": "file"}) from None
    if header[:3] != list(IMPORT_COLUMNS[:3]) or header[3:] not in ([], ["active"]):
        raise ValidationError(_l("line 1 must be the header list,code,name[,active], not %(header)s",
                                 header=",".join(header)), details={"line": 1, "field": "file"})
    rows = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= IMPORT_MAX_ROWS:
                raise ValidationError(_l("the file has more than %(max)s codes", max=IMPORT_MAX_ROWS),
                                      details={"line": reader.line_num, "field": "file"})
            rows.append((reader.line_num, dict(zip(header, [c.strip() for c in cells], strict=False))
                         | {"_cells": str(len(cells))}))
    except csv.Error as exc:
        raise ValidationError(_l("line %(line)s is not CSV: %(why)s", line=reader.line_num, why=str(exc)),
                              details={"line": reader.line_num, "field": "file"}) from None
    return rows


def _check_row(line: int, row: Mapping[str, str], width: int, seen: set[tuple[str, str]],
               faults: list[dict[str, Any]]) -> tuple[str, str, str, bool | None] | None:
    """One row's values, or None with its faults added (each naming the line and the column)."""
    if int(row["_cells"]) != width:
        _fault(faults, line, "", _l("line %(line)s has %(cells)s cells, the header %(width)s", line=line,
                                    cells=row["_cells"], width=width))
        return None
    kind, code, name, flag = row["list"], row["code"], row["name"], row.get("active", "").lower()
    ok = True
    for column, check in (("list", lambda: ensure_list(kind, field="list")), ("code", lambda: _check_code(code)),
                          ("name", lambda: _check_name(name))):
        try:
            check()
        except ValidationError as exc:
            _fault(faults, line, column, _l("line %(line)s, column %(column)s: %(why)s", line=line, column=column,
                                            why=exc.message))
            ok = False
    if flag not in _TRUE | _FALSE:
        _fault(faults, line, "active", _l("line %(line)s, column active: %(value)r is not true or false", line=line,
                                          value=row.get("active")))
        ok = False
    if ok and (kind, code) in seen:
        _fault(faults, line, "code", _l("line %(line)s, column code: %(code)r is listed twice for %(list)s",
                                        line=line, code=code, list=kind))
        ok = False
    seen.add((kind, code))
    return (kind, code, name.strip(), None if "active" not in row else flag in _TRUE) if ok else None


def import_codes(session: Session, data: bytes | str) -> Imported:
    """Import codes from CSV (header list,code,name[,active]): new codes are added, known ones renamed and retired
    or reactivated as the file says. Every row is checked first; any fault is a 422 naming the line and column
    (details.errors lists them) and nothing is changed. Flushes; the caller commits the one transaction."""
    if len(data) > IMPORT_MAX_BYTES:
        raise ValidationError(_l("the file is over %(max)s bytes", max=IMPORT_MAX_BYTES), details={"field": "file"})
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(_l("the file is not UTF-8 text"), details={"field": "file"}) from None
    rows = _read_rows(data)
    if not rows:
        raise ValidationError(_l("the file lists no codes"), details={"line": 2, "field": "file"})
    width = 3 + ("active" in rows[0][1])
    faults: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    values = [_check_row(line, row, width, seen, faults) for line, row in rows]
    if faults:
        first = faults[0]
        raise ValidationError(first["message"], details={
            "field": first["column"] or "file", "line": first["line"], "column": first["column"],
            "errors": [{"line": f["line"], "column": f["column"], "message": str(f["message"])}
                       for f in faults[:IMPORT_MAX_ERRORS]]})
    added = updated = unchanged = 0
    # One savepoint for the file: a code added meanwhile by another request undoes the rows before it too.
    with session.begin_nested():
        for kind, code, name, active in (v for v in values if v is not None):
            row = find_code(session, kind, code)
            if row is None:
                _insert(session, FailureCode(list=kind, code=code, name=name,
                                             active=True if active is None else active,
                                             position=_next_position(session, kind)))
                added += 1
            elif row.name != name or (active is not None and row.active != active):
                row.name = name
                row.active = row.active if active is None else active
                updated += 1
            else:
                unchanged += 1
    return Imported(added=added, updated=updated, unchanged=unchanged)
