"""Print jobs: chunks committed as they are confirmed, failures recorded, resume from next_index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.config import Settings
from serialtrace.errors import Conflict, InvalidTransition, ValidationError
from serialtrace.labelling import print_batch, queue_print
from serialtrace.labels import LabelData, LabelError, builtin_templates, send_zpl, zpl_bytes
from serialtrace.columns import utcnow
from serialtrace.trace.models import Unit, UnitEvent
from serialtrace.trace.printing import (PrintJob, create_print_job, ensure_printer_allowed, get_print_job,
                                        list_print_jobs, parse_printer, record_download, resume_print_job,
                                        run_print_job)
from tests.fakeprinter import FakePrinter

TEMPLATE = builtin_templates()["roll-50x25"]


def _render(rows) -> bytes:
    return zpl_bytes([LabelData("04601234560016", "2501A00", r.serial, None, "Flow meter") for r in rows], TEMPLATE)


def _sender(printer: FakePrinter):
    def send(data: bytes) -> None:
        before = len(printer.jobs)
        send_zpl(printer.host, printer.port, data, timeout=2.0, retries=0)
        printer.wait_for(before + 1)

    return send


def _by_id(session, batch) -> list[str]:
    # A job's indexes count units in id order, which need not be the order register_batch returned serials in.
    return list(session.scalars(select(Unit.serial).where(Unit.batch_id == batch.id).order_by(Unit.id)))


def _labelled(session) -> int:
    return session.scalar(select(func.count()).select_from(UnitEvent).where(UnitEvent.kind == "labelled"))


def test_failed_job_resumes_from_next_index_and_prints_every_serial_once(session, sessions, make_batch):
    batch, _ = make_batch(25, number="2501A00")
    serials = _by_id(session, batch)
    job = create_print_job(session, batch=batch, template="roll-50x25", printer="127.0.0.1:9100")
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
    job = create_print_job(session, batch=batch, template="roll-50x25", printer="127.0.0.1:9100", first=5, last=14)
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
    job = create_print_job(session, batch=batch, template="roll-50x25", printer="127.0.0.1:9100")
    session.commit()

    def broken(rows):
        raise ValueError("label 0: serial: bad")

    with pytest.raises(ValueError):
        run_print_job(sessions, job.id, render=broken, send=lambda data: None)
    session.expire_all()
    assert [(j.state, j.error) for j, _ in list_print_jobs(session)] == [("failed", "cannot render labels: label 0: serial: bad")]
    assert _labelled(session) == 0


def test_only_queued_jobs_run_and_done_jobs_cannot_resume(session, sessions, make_batch):
    batch, _ = make_batch(2)
    job = create_print_job(session, batch=batch, template="roll-50x25", printer="127.0.0.1:9100")
    session.commit()
    sent = []
    assert run_print_job(sessions, job.id, render=_render, send=sent.append).state == "done"
    with pytest.raises(Conflict, match="not queued"):
        run_print_job(sessions, job.id, render=_render, send=sent.append)
    with pytest.raises(InvalidTransition, match="reprint a range"):
        resume_print_job(session, job.id)
    assert len(sent) == 1


def test_a_printing_job_resumes_only_once_its_runner_went_quiet(session, make_batch):
    batch, _ = make_batch(2)
    job = create_print_job(session, batch=batch, template="roll-50x25", printer="127.0.0.1:9100")
    job.state = "printing"
    session.flush()
    with pytest.raises(Conflict, match="printing right now"):
        resume_print_job(session, job.id)
    job.updated_at = utcnow() - timedelta(minutes=10)
    session.flush()
    assert resume_print_job(session, job.id).state == "queued"


@pytest.mark.parametrize("kwargs, field", [
    ({"first": 3}, "from"), ({"last": 7}, "to"), ({"first": 2, "last": 1}, "to"), ({"first": -1}, "from"),
    ({"printer": "printer-without-port"}, "printer"), ({"printer": "host:99999"}, "printer"),
    ({"output": "pdf", "printer": "host:9100"}, "format"), ({"output": "gif"}, "format"),
])
def test_bad_job_input_names_the_field(session, make_batch, kwargs, field):
    batch, _ = make_batch(3)
    with pytest.raises(ValidationError) as caught:
        create_print_job(session, batch=batch, template="roll-50x25", **kwargs)
    assert caught.value.details["field"] == field


def test_parse_printer():
    assert parse_printer(" zebra-1.lan:9100 ") == ("zebra-1.lan", 9100)


def test_a_download_is_logged_as_a_done_job_with_events(session, make_batch):
    batch, _ = make_batch(4)
    job = record_download(session, batch=batch, template="a4-3x8", output="pdf", first=1, last=2)
    assert (job.state, job.printer, job.next_index, job.done) == ("done", None, 3, 2)
    assert _labelled(session) == 2
    with pytest.raises(InvalidTransition, match="download"):
        resume_print_job(session, job.id)


def test_without_an_allow_list_only_raw_port_9100_is_a_printer():
    assert ensure_printer_allowed("Zebra-1.plant.local:9100", "") == "Zebra-1.plant.local:9100"
    for target in ("10.0.0.7:22", "127.0.0.1:5432", "10.0.0.7:80"):
        with pytest.raises(ValidationError, match="must use port 9100") as err:
            ensure_printer_allowed(target, "")
        assert err.value.details == {"field": "printer"}


def test_an_allow_list_admits_exactly_its_printers():
    allowed = "10.0.0.7:9100, zebra-2:6101"
    assert ensure_printer_allowed("10.0.0.7:9100", allowed) == "10.0.0.7:9100"
    assert ensure_printer_allowed("ZEBRA-2:6101", allowed) == "ZEBRA-2:6101"
    for target in ("10.0.0.8:9100", "zebra-2:9100", "10.0.0.7:22"):
        with pytest.raises(ValidationError, match="is not in SERIALTRACE_PRINTERS") as err:
            ensure_printer_allowed(target, allowed)
        assert err.value.details == {"field": "printer"}


def _count_jobs(session) -> int:
    return session.scalar(select(func.count()).select_from(PrintJob))


def test_queue_print_refuses_a_printer_off_the_list_or_a_bad_dpi_before_creating_a_job(session, make_batch):
    batch, _ = make_batch(3, number="2501A00")
    settings = Settings.load({"printers": "10.0.0.7:9100"})
    with pytest.raises(ValidationError, match="not in SERIALTRACE_PRINTERS"):
        queue_print(session, settings, batch=batch, template="roll-50x25", printer="10.0.0.8:9100")
    with pytest.raises(LabelError, match="must be one of 203, 300, 600, got 5") as err:
        queue_print(session, settings, batch=batch, template="roll-50x25", printer="10.0.0.7:9100", dpi=5)
    assert err.value.field == "dpi"
    assert _count_jobs(session) == 0
    job = queue_print(session, settings, batch=batch, template="roll-50x25", printer="10.0.0.7:9100", dpi=300)
    assert job.dpi == 300 and job.printer == "10.0.0.7:9100" and _count_jobs(session) == 1


def test_a_job_whose_printer_left_the_allow_list_never_connects(session, sessions, make_batch):
    batch, _ = make_batch(3, number="2501A00")
    printer = FakePrinter(port=0)
    settings = Settings.load({"printers": printer.address})
    job = queue_print(session, settings, batch=batch, template="roll-50x25", printer=printer.address)
    session.commit()
    with pytest.raises(ValidationError, match="must use port 9100"):
        print_batch(sessions, Settings.load({"printers": ""}), job.id)
    assert printer.jobs == [] and get_print_job(session, job.id).state == "queued"
    done = print_batch(sessions, settings, job.id, timeout=2.0, retries=0)
    printer.wait_for(1)
    printer.close()
    assert done.state == "done" and len(printer.serials()) == 3


def test_a_job_left_printing_by_a_stopped_runner_becomes_resumable(session, make_batch):
    from datetime import timedelta

    from serialtrace.columns import utcnow
    from serialtrace.trace.printing import create_print_job, is_resumable

    batch, _ = make_batch(quantity=2, number="STUCK")
    job = create_print_job(session, batch=batch, template="roll-50x25", printer="127.0.0.1:9100")
    job.state, job.updated_at = "printing", utcnow()
    assert not is_resumable(job)
    job.updated_at = utcnow() - timedelta(minutes=6)
    assert is_resumable(job)
    job.state = "done"
    assert not is_resumable(job)
