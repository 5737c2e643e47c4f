"""Print jobs: chunks committed as they are confirmed, failures recorded, resume from next_index."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from serialtrace.config import Settings
from serialtrace.errors import Conflict, InvalidTransition, ValidationError
from serialtrace.labelling.queries import get_print_job, list_print_jobs
from serialtrace.labelling.runner import print_batch, run_print_job
from serialtrace.labelling.service import create_print_job, resume_print_job
from serialtrace.labels import LabelData, builtin_templates, send_zpl, zpl_bytes
from serialtrace.trace.models import Unit, UnitEvent

from tests.fakeprinter import FakePrinter

TEMPLATE = builtin_templates()["roll-50x25"]
# No allow-list: port 9100 on any host, which is where the fake printers listen.
SETTINGS = Settings.load(environ={})


def _render(rows) -> bytes:
    return zpl_bytes([LabelData("04601234560016", "2501A00", r.serial, None, "Flow meter") for r in rows], TEMPLATE)


def _sender(printer: FakePrinter):
    def send(data: bytes) -> None:
        before = len(printer.jobs)
        send_zpl(printer.host, printer.port, data, timeout=2.0, retries=0)
        printer.wait_for(before + 1)

    return send


def _job(session, batch, **kw):
    return create_print_job(session, settings=SETTINGS, batch=batch, template="roll-50x25", printer="127.0.0.1:9100",
                            **kw)


def _by_id(session, batch) -> list[str]:
    # A job's indexes count units in id order, which need not be the order register_batch returned serials in.
    return list(session.scalars(select(Unit.serial).where(Unit.batch_id == batch.id).order_by(Unit.id)))


def _labelled(session) -> int:
    return session.scalar(select(func.count()).select_from(UnitEvent).where(UnitEvent.kind == "labelled"))


def test_failed_job_resumes_from_next_index_and_prints_every_serial_once(session, sessions, make_batch):
    batch, _ = make_batch(25, number="2501A00")
    serials = _by_id(session, batch)
    job = _job(session, batch)
    session.commit()
    first = FakePrinter(limit=2)
    failed = run_print_job(sessions, job.id, render=_render, send=_sender(first), chunk=10)
    assert failed.state == "failed" and failed.next_index == 20 and failed.attempts == 1
    assert "cannot reach printer" in failed.error
    assert len(first.labels) == 20 and _labelled(session) == 20

    resume_print_job(session, job.id)
    session.commit()
    second = FakePrinter()
    done = run_print_job(sessions, job.id, render=_render, send=_sender(second), chunk=10)
    second.close()
    assert done.state == "done" and done.next_index == 25 and done.attempts == 2 and done.error == ""
    printed = first.serials() + second.serials()
    assert len(first.labels) + len(second.labels) == 25
    assert printed == serials
    assert _labelled(session) == 25


def test_a_range_is_sent_in_chunks_and_only_its_units_are_labelled(session, sessions, make_batch):
    batch, _ = make_batch(20, number="2501A01")
    serials = _by_id(session, batch)
    job = _job(session, batch, first=5, last=14)
    session.commit()
    printer = FakePrinter()
    steps = []
    done = run_print_job(sessions, job.id, render=_render, send=_sender(printer), chunk=4, progress=steps.append)
    printer.close()
    assert done.state == "done" and (done.done, done.total) == (10, 10)
    assert [len(j.split(b"^XA")) - 1 for j in printer.jobs] == [4, 4, 2] and steps == [4, 4, 2]
    assert printer.serials() == serials[5:15]
    events = session.scalars(select(UnitEvent).where(UnitEvent.kind == "labelled")).all()
    assert len(events) == 10 and {e.payload["job_id"] for e in events} == {job.id}


def test_a_render_error_fails_the_job_and_is_raised(session, sessions, make_batch):
    batch, _ = make_batch(3)
    job = _job(session, batch)
    session.commit()

    def broken(rows):
        raise ValueError("label 0: serial: bad")

    with pytest.raises(ValueError):
        run_print_job(sessions, job.id, render=broken, send=lambda data: None)
    session.expire_all()
    assert [(j.state, j.error) for j, _ in list_print_jobs(session)] == [
        ("failed", "cannot render labels: label 0: serial: bad")]
    assert _labelled(session) == 0


def test_only_queued_jobs_run_and_done_jobs_cannot_resume(session, sessions, make_batch):
    batch, _ = make_batch(2)
    job = _job(session, batch)
    session.commit()
    sent = []
    assert run_print_job(sessions, job.id, render=_render, send=sent.append).state == "done"
    with pytest.raises(Conflict, match="not queued"):
        run_print_job(sessions, job.id, render=_render, send=sent.append)
    with pytest.raises(InvalidTransition, match="reprint a range"):
        resume_print_job(session, job.id)
    assert len(sent) == 1


def test_a_job_whose_printer_left_the_allow_list_never_connects(session, sessions, make_batch):
    batch, _ = make_batch(3, number="2501A00")
    printer = FakePrinter(port=0)
    settings = Settings.load({"printers": printer.address}, environ={})
    job = create_print_job(session, settings=settings, batch=batch, template="roll-50x25", printer=printer.address)
    session.commit()
    with pytest.raises(ValidationError, match="must use port 9100"):
        print_batch(sessions, Settings.load({"printers": ""}, environ={}), job.id)
    assert printer.jobs == [] and get_print_job(session, job.id).state == "queued"
    done = print_batch(sessions, settings, job.id, timeout=2.0, retries=0)
    printer.wait_for(1)
    printer.close()
    assert done.state == "done" and len(printer.serials()) == 3
