"""The engineers' pages: the test queue, and the case page with its test bench form and dispositions.

Every action is one transaction; a refused one shows the page again with the reason next to the field it names,
the typed values kept, and changes nothing.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta

from ...accounts.enums import Role
from ...accounts.models import User
from ...config import business_today
from ...errors import DomainError, NotFound, ValidationError
from ...warranty import attachments as attachments_service
from ...warranty import bench as bench_service
from ...warranty import codes as codes_service
from ...warranty import dispositions as disposition_service
from ...warranty import queries as warranty_queries
from ...warranty import service as warranty_service
from ...warranty import workflow
from ...warranty.enums import (
    DISPOSITION_LABELS,
    DISPOSITION_STATE_LABELS,
    FAILURE_LIST_LABELS,
    PRIORITY_LABELS,
    UNIT_CASE_STATE_LABELS,
    VERDICT_LABELS,
    DispositionState,
    UnitCaseState,
)
from ..auth import PAGE_ROLES, current_user, requires, requires_page
from ..database import commit, db
from ..i18n import _, label, tr
from .claims import attachment_folder
from .common import bp, optional_id, settings, user_text

R, K = Role, UnitCaseState
# Who takes cases and records tests (admins always may); the case table's bench steps say the same.
BENCH_ROLES = (R.ENGINEER,)
# Who proposes and executes dispositions, and who approves them: the case table's steps (admins are added there).
PROPOSE_ROLES = tuple(sorted(workflow.CASE_ROLES[(K.TESTED, K.DISPOSITION_PENDING)] - {R.ADMIN}))
APPROVE_ROLES = tuple(sorted(disposition_service.APPROVERS - {R.ADMIN}))
# Cases a new test is recorded for.
TESTABLE = (K.RECEIVED, K.IN_TEST)
# The queue page shows this many cases: one query with a LIMIT, so the page stays fast with thousands open.
QUEUE_LIMIT = 200


def refused_field(exc: DomainError) -> str | None:
    """The field a refusal names, if any."""
    return exc.details.get("field") if isinstance(exc.details, dict) else None


def refusal(exc: DomainError) -> dict[str, Any]:
    """A refused action as the page shows it: the reason and the field it names; the transaction is rolled back."""
    db().rollback()
    return {"error": exc.message, "error_field": refused_field(exc)}


def _age(moment: str) -> str:
    """How long a case has waited, in the reader's words (3 days)."""
    since = datetime.fromisoformat(moment)
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    return format_timedelta(datetime.now(UTC) - since, threshold=1.1)


def _queue_page(status: int = 200, **page: Any):
    """The queue page: the ranked cases, the scan field and a refusal if there was one."""
    rows = warranty_queries.test_queue(db(), limit=QUEUE_LIMIT + 1)
    page = {"error": None, "error_field": None, "serial": "", **page}
    user = current_user()
    # Labels translated once for the page, not once a row.
    return render_template("test_queue.html", rows=rows[:QUEUE_LIMIT], more=len(rows) > QUEUE_LIMIT, age=_age,
                           states={k: str(v) for k, v in UNIT_CASE_STATE_LABELS.items()},
                           priorities={k: str(v) for k, v in PRIORITY_LABELS.items()},
                           received=str(UnitCaseState.RECEIVED),
                           may_take=user.has_role(*BENCH_ROLES), **page), status


@bp.get("/test-queue")
@requires_page("pages.test_queue")
def test_queue():
    """The engineers' queue, advance-replaced first, then priority, then age; a scanned serial opens its case."""
    serial = user_text(request.args.get("serial", ""), "serial").strip()
    if not serial:
        return _queue_page()
    found = warranty_queries.find_queue_case(db(), serial)
    if found is None:
        return _queue_page(404, serial=serial, error_field="serial",
                           error=_("%(serial)s is not in the test queue", serial=serial))
    return redirect(url_for("pages.case", case_id=found))


def _shown(value: float | None) -> str:
    """A number as the page shows it: 12 rather than 12.0, nothing for none."""
    return "" if value is None else f"{value:g}"


def _empty_form(steps: int) -> dict[str, Any]:
    return {"verdict": "", "steps": [""] * steps, "failure": dict.fromkeys(codes_service.LISTS, ""), "notes": "",
            "supersedes": ""}


def _correction_form(records: list[dict[str, Any]], record_id: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The form prefilled from the record being corrected (its steps matched to the current procedure by name)."""
    record = next((r for r in records if str(r["id"]) == record_id and not r["superseded_by"]), None)
    if record is None:
        return _empty_form(len(steps))
    done = {s["name"]: s for s in record["steps"]}

    def typed(step: dict[str, Any]) -> str:
        old = done.get(step["name"])
        if old is None:
            return ""
        if step["kind"] == "measure":
            return _shown(old["value"])
        return "pass" if old["passed"] else "fail"

    return {"verdict": record["verdict"], "steps": [typed(s) for s in steps], "failure": dict(record["codes"]),
            "notes": record["notes"], "supersedes": str(record["id"])}


def _may(unit_case: Any, user: User) -> dict[str, bool]:
    """What the reader may do on the case now: take it, test it, correct a record, propose a disposition."""
    bench = user.has_role(*BENCH_ROLES)
    mine = unit_case.engineer_id in (None, user.id) or user.role == R.ADMIN
    return {"may_take": bench and unit_case.state == K.RECEIVED,
            "may_test": bench and unit_case.state in TESTABLE and mine,
            "may_correct": bench and unit_case.state in bench_service.TESTED_STATES,
            "may_propose": unit_case.state == K.TESTED and user.has_role(*PROPOSE_ROLES)}


def _dispositions(unit_case: Any, user: User) -> list[dict[str, Any]]:
    """The case's dispositions, each with the actions the reader may take on it now."""
    pending = unit_case.state == K.DISPOSITION_PENDING
    rows = []
    for record in disposition_service.list_dispositions(db(), unit_case.id):
        row = disposition_service.disposition_read(db(), record)
        proposed = record.state == DispositionState.PROPOSED
        ready = record.state == DispositionState.APPROVED or (proposed and not record.needs_approval)
        row["may_decide"] = pending and proposed and user.has_role(*APPROVE_ROLES)
        row["may_execute"] = pending and ready and user.has_role(*PROPOSE_ROLES)
        rows.append(row)
    return rows


def _case_page(case_id: int, status: int = 200, form: dict[str, Any] | None = None, **page: Any):
    """The case page: the unit and claim, the test bench form, earlier records and the dispositions."""
    unit_case = warranty_service.get_case(db(), case_id)
    shown = warranty_queries.case_read(db(), case_id)
    procedure = shown["procedure"]
    steps = procedure["steps"] if procedure else []
    records = warranty_queries.case_records(db(), case_id)
    if form is None:
        correct = request.args.get("correct", "")
        form = _correction_form(records, correct, steps) if correct else _empty_form(len(steps))
    user = current_user()
    names = {kind: {c["code"]: c["name"] for c in items}
             for kind, items in codes_service.code_lists(db(), active_only=False).items()}
    page = {"error": None, "error_field": None, "error_form": None, "proposal": {}, **page}
    return render_template(
        "case.html", case=shown, procedure=procedure, records=records, form=form, shown=_shown,
        states=UNIT_CASE_STATE_LABELS, verdicts=VERDICT_LABELS,
        list_labels=FAILURE_LIST_LABELS, code_lists=codes_service.code_lists(db()),
        code_name=lambda kind, code: names.get(kind, {}).get(code, code),
        files=_case_files(unit_case.claim_id, case_id, records), may_attach=user.has_role(*PAGE_ROLES["pages.case"]),
        dispositions=_dispositions(unit_case, user), disposition_kinds=DISPOSITION_LABELS,
        disposition_states=DISPOSITION_STATE_LABELS, **_may(unit_case, user), **page), status


@bp.get("/cases/<int:case_id>")
@requires_page("pages.case")
def case(case_id: int):
    """One returned unit's case: the test bench form, its test records and dispositions."""
    return _case_page(case_id)


@bp.post("/cases/<int:case_id>/take")
@requires(*BENCH_ROLES)
def case_take(case_id: int):
    """Take a received case into test; another engineer's case is refused (409) with the reason."""
    try:
        bench_service.take_case(db(), case_id=case_id, author=current_user())
        commit()
    except DomainError as exc:
        failed = refusal(exc)
        if request.form.get("from") == "case":
            return _case_page(case_id, exc.status_code, **failed)
        return _queue_page(exc.status_code, **failed)
    # No fragment: a page opened at one skips autofocus, and the first step should have focus.
    return redirect(url_for("pages.case", case_id=case_id))


def _typed_form(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The test form as typed, to show again after a refusal."""
    return {"verdict": _form_text("verdict"), "notes": user_text(request.form.get("notes", ""), "notes").strip(),
            "supersedes": _form_text("supersedes"),
            "failure": {kind: _form_text(f"failure.{kind}") for kind in codes_service.LISTS},
            "steps": [_form_text(f"steps[{i}].{'value' if s['kind'] == 'measure' else 'passed'}")
                      for i, s in enumerate(steps)]}


def _test_of(form: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The typed form as the service takes it; a measured value that is no number is a 422 naming its field."""
    return {"verdict": form["verdict"], "notes": form["notes"],
            "failure": {kind: code for kind, code in form["failure"].items() if code},
            "steps": [_step_result(i, step, typed) for i, (step, typed) in enumerate(zip(steps, form["steps"],
                                                                                       strict=True))],
            "supersedes": optional_id(form["supersedes"], "supersedes")}


def _procedure_version(procedure: dict[str, Any] | None) -> None:
    """409 when the form was filled against another procedure version than the current one (0: none), checked
    before the steps are read by position, so no value lands on another version's step."""
    typed = _form_text("procedure_version")
    given = int(typed) if typed.isascii() and typed.isdigit() and len(typed) < 10 else None
    if typed and given is None:
        raise ValidationError(_("procedure_version must be a version number"), details={"field": "procedure_version"})
    bench_service.ensure_procedure_version(procedure["version"] if procedure else None, given)


def _form_text(name: str) -> str:
    return user_text(request.form.get(name, ""), name).strip()


def _step_result(index: int, step: dict[str, Any], typed: str) -> dict[str, Any]:
    """One step as the service takes it: a measured value as a number, pass/fail as passed."""
    if step["kind"] != "measure":
        if typed not in ("pass", "fail"):
            raise ValidationError(_("step %(name)s: choose pass or fail", name=step["name"]),
                                  details={"field": f"steps[{index}].passed"})
        return {"name": step["name"], "passed": typed == "pass"}
    try:
        value = float(typed.replace(",", "."))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValidationError(_("step %(name)s: type the measured value as a number, not %(value)r",
                                name=step["name"], value=typed), details={"field": f"steps[{index}].value"})
    return {"name": step["name"], "value": value}


@bp.post("/cases/<int:case_id>/tests")
@requires(*BENCH_ROLES)
def case_test(case_id: int):
    """Record a test (or a correction superseding an earlier record); a refusal keeps everything typed."""
    procedure = warranty_queries.case_read(db(), warranty_service.get_case(db(), case_id).id)["procedure"]
    steps = procedure["steps"] if procedure else []
    form: dict[str, Any] | None = None
    try:
        form = _typed_form(steps)
        _procedure_version(procedure)
        test = _test_of(form, steps)
        tested = bench_service.record_test(db(), case_id=case_id, author=current_user(),
                                           bill_no_fault=settings().warranty_bill_no_fault, **test)
        commit()
    except DomainError as exc:
        if form is not None and refused_field(exc) == "procedure_version":
            # The steps typed belong to another version: the current one's are filled in afresh.
            form["steps"] = [""] * len(steps)
        return _case_page(case_id, exc.status_code, form=form, error_form="test", **refusal(exc))
    flash(_("test record %(id)s saved: %(verdict)s", id=tested.record.id,
            verdict=label(tested.record.verdict, VERDICT_LABELS)), "ok")
    for warning in tested.warnings:
        flash(tr(warning["message"]), "error")
    return redirect(url_for("pages.case", case_id=case_id, _anchor=f"record-{tested.record.id}"))


def _disposition_action(case_id: int, action, **kept: Any) -> Any:
    """Run a disposition action as one transaction and show the case again; a refusal shows the reason and keeps
    what was typed."""
    try:
        done = action()
        commit()
    except DomainError as exc:
        return _case_page(case_id, exc.status_code, error_form="disposition", **kept, **refusal(exc))
    flash(done, "ok")
    return redirect(url_for("pages.case", case_id=case_id, _anchor="dispositions"))


@bp.post("/cases/<int:case_id>/dispositions")
@requires(*PROPOSE_ROLES)
def disposition_propose(case_id: int):
    """Propose what happens to the tested unit."""
    kind, value, notes = _form_text("kind"), _form_text("value"), _form_text("notes")

    def propose() -> str:
        record = disposition_service.propose(db(), case_id=case_id, kind=kind, value=value or None, notes=notes,
                                             author=current_user(),
                                             approval_value=settings().warranty_approval_value)
        if record.needs_approval:
            return _("%(kind)s proposed; quality must approve it", kind=label(record.kind, DISPOSITION_LABELS))
        return _("%(kind)s proposed", kind=label(record.kind, DISPOSITION_LABELS))

    return _disposition_action(case_id, propose, proposal={"kind": kind, "value": value, "notes": notes})


@bp.post("/cases/<int:case_id>/dispositions/<int:disposition_id>/decide")
@requires(*APPROVE_ROLES)
def disposition_decide(case_id: int, disposition_id: int):
    """Quality approves or rejects a proposed disposition (a rejection says why)."""
    approve, reason = request.form.get("decision") == "approve", _form_text("reason")

    def decide() -> str:
        _ensure_of_case(case_id, disposition_id)
        record = disposition_service.decide(db(), disposition_id=disposition_id, approve=approve, reason=reason,
                                            author=current_user())
        return _("disposition %(id)s approved", id=record.id) if approve else _("disposition %(id)s rejected",
                                                                                id=record.id)

    return _disposition_action(case_id, decide)


@bp.post("/cases/<int:case_id>/dispositions/<int:disposition_id>/execute")
@requires(*PROPOSE_ROLES)
def disposition_execute(case_id: int, disposition_id: int):
    """Carry out a disposition: the unit's status and events change in the same transaction."""

    def execute() -> str:
        _ensure_of_case(case_id, disposition_id)
        record = disposition_service.execute(db(), disposition_id=disposition_id, author=current_user(),
                                             today=business_today(settings()))
        return _("%(kind)s done", kind=label(record.kind, DISPOSITION_LABELS))

    return _disposition_action(case_id, execute)


def _ensure_of_case(case_id: int, disposition_id: int) -> None:
    """404 when the disposition belongs to another case than the page's."""
    if disposition_service.get_disposition(db(), disposition_id).case_id != case_id:
        raise NotFound(_("case %(case)s has no disposition %(id)s", case=case_id, id=disposition_id))


def _case_files(claim_id: int, case_id: int, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The files kept with this case or one of its test records."""
    mine = {r["id"] for r in records}
    return [a for a in attachments_service.list_attachments(db(), claim_id)
            if a["case_id"] == case_id or a["test_record_id"] in mine]


@bp.post("/cases/<int:case_id>/attachments")
@requires_page("pages.case")
def case_attach(case_id: int):
    """Keep photos or documents with the case, or with one of its test records (size and type checked)."""
    unit_case = warranty_service.get_case(db(), case_id)
    files = [f for f in request.files.getlist("file") if f and f.filename]
    try:
        if not files:
            raise ValidationError(_("choose a file to attach"), details={"field": "file"})
        record = optional_id(_form_text("test_record_id"), "test_record_id")
        for upload in files:
            attachments_service.add_attachment(
                db(), claim_id=unit_case.claim_id, case_id=case_id, test_record_id=record, filename=upload.filename,
                data=upload.read(settings().attachment_max_bytes + 1), author=current_user(),
                folder=attachment_folder(), max_bytes=settings().attachment_max_bytes)
        commit()
    except DomainError as exc:
        return _case_page(case_id, exc.status_code, error_form="attachment", **refusal(exc))
    flash(_("%(count)s file(s) attached", count=len(files)), "ok")
    return redirect(url_for("pages.case", case_id=case_id, _anchor="attachments"))
