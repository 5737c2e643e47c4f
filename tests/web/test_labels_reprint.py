"""Reprinting a range from the labels page goes through every check of a new print job: nothing is queued when
the job's printer has left SERIALTRACE_PRINTERS, its template is gone, or the range is past the batch."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from serialtrace.labelling.models import PrintJob
from serialtrace.web import create_app

from .conftest import csrf_from
from tests.fakeprinter import FakePrinter


@pytest.fixture
def printer():
    """A fake ZPL printer on a free port."""
    printer = FakePrinter(port=0)
    yield printer
    printer.close()


@pytest.fixture
def settings_overrides(printer, tmp_path):
    """The app may print to the fake printer and reads label templates from the test's folder."""
    return {"printers": printer.address, "label_templates_dir": str(tmp_path)}


@pytest.fixture
def job(session, login, printer, make_batch, tmp_path):
    """A done print job of batch 2501A00 (6 units) on an allowed printer, with a template from the folder."""
    make_batch(6, number="2501A00")
    session.commit()
    (tmp_path / "mine.json").write_text(json.dumps({"name": "mine", "width_mm": 50, "height_mm": 25}))
    client = login("production")
    token = csrf_from(client.get("/labels").get_data(as_text=True))
    html = client.post("/labels/print", data={"csrf_token": token, "batch": "2501A00", "template": "mine",
                                              "printer": printer.address}, follow_redirects=True).get_data(as_text=True)
    job_id = int(re.search(r"print job (\d+): 6 labels sent", html).group(1))
    printer.wait_for(1)
    return client, token, job_id, printer


def _jobs(session) -> int:
    return session.scalar(select(func.count()).select_from(PrintJob))


def _reprint(client, token, job_id, **form):
    return client.post(f"/labels/jobs/{job_id}/reprint", data={"csrf_token": token, **form})


def test_a_reprint_to_a_printer_no_longer_allowed_queues_nothing(session, make_runtime, job, tmp_path):
    client, token, job_id, printer = job
    before = _jobs(session)
    # The server restarted with another printer list; the same browser session carries on.
    restarted = create_app(runtime=make_runtime(printers="10.0.0.9:9100", label_templates_dir=str(tmp_path)))
    client, cookie = restarted.test_client(), client.get_cookie("session")
    client.set_cookie(cookie.key, cookie.value)
    resp = _reprint(client, token, job_id, **{"from": "1", "to": "2"})
    assert resp.status_code == 422
    assert f"printer {printer.address} is not in SERIALTRACE_PRINTERS (10.0.0.9:9100)" in resp.get_data(as_text=True)
    assert _jobs(session) == before and len(printer.jobs) == 1


def test_a_reprint_with_a_template_that_is_gone_queues_nothing(session, runtime, job, tmp_path):
    client, token, job_id, printer = job
    before = _jobs(session)
    (tmp_path / "mine.json").unlink()
    resp = _reprint(client, token, job_id)
    assert resp.status_code == 422 and "unknown template" in resp.get_data(as_text=True)
    assert _jobs(session) == before and len(printer.jobs) == 1


def test_a_reprint_past_the_batch_queues_nothing(session, job):
    client, token, job_id, printer = job
    before = _jobs(session)
    resp = _reprint(client, token, job_id, **{"from": "5", "to": "6"})
    assert resp.status_code == 422 and "to must be a unit index from 0 to 5, got 6" in resp.get_data(as_text=True)
    assert _jobs(session) == before and len(printer.jobs) == 1


def test_a_reprint_that_passes_every_check_prints_the_range(session, job):
    client, token, job_id, printer = job
    html = client.post(f"/labels/jobs/{job_id}/reprint", data={"csrf_token": token, "from": "4", "to": "5"},
                       follow_redirects=True).get_data(as_text=True)
    assert f"print job {job_id + 1}: 2 labels sent to {printer.address}" in html
    printer.wait_for(2)
    assert len(printer.serials()) == 8
    assert session.scalars(select(PrintJob).order_by(PrintJob.id.desc())).first().total == 2
