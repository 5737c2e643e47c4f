"""Creating print jobs: every check before a row exists, reprints checked as new jobs, downloads logged, resume."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.columns import utcnow
from serialtrace.config import Settings
from serialtrace.errors import Conflict, InvalidTransition, NotFound, ValidationError
from serialtrace.labelling.models import PrintJob
from serialtrace.labelling.service import create_print_job, record_download, reprint_print_job, resume_print_job
from serialtrace.labels import LabelError
from serialtrace.trace.models import UnitEvent

SETTINGS = Settings.load(environ={})


def _count_jobs(session) -> int:
    return session.scalar(select(func.count()).select_from(PrintJob))


def _labelled(session) -> int:
    return session.scalar(select(func.count()).select_from(UnitEvent).where(UnitEvent.kind == "labelled"))


@pytest.mark.parametrize("kwargs, field", [
    ({"first": 3}, "from"), ({"last": 7}, "to"), ({"first": 2, "last": 1}, "to"), ({"first": -1}, "from"),
    ({"printer": "printer-without-port"}, "printer"), ({"printer": "host:99999"}, "printer"),
])
def test_bad_job_input_names_the_field_and_creates_no_job(session, make_batch, kwargs, field):
    batch, _ = make_batch(3)
    kwargs = {"template": "roll-50x25", "printer": "127.0.0.1:9100", **kwargs}
    with pytest.raises((ValidationError, LabelError)) as caught:
        create_print_job(session, settings=SETTINGS, batch=batch, **kwargs)
    error = caught.value
    assert (error.details["field"] if isinstance(error, ValidationError) else error.field) == field
    assert _count_jobs(session) == 0


def test_a_template_path_too_long_to_store_gets_no_job(session, make_batch, tmp_path):
    batch, _ = make_batch(3)
    path = tmp_path / ("t" * 70 + ".json")
    path.write_text(json.dumps({"name": "long", "width_mm": 50, "height_mm": 25}))
    with pytest.raises(ValidationError, match="template name must be 1 to 64 characters") as err:
        create_print_job(session, settings=SETTINGS, batch=batch, template=str(path), printer="127.0.0.1:9100",
                         allow_path=True)
    assert err.value.details == {"field": "template"} and _count_jobs(session) == 0


def test_a_batch_without_units_gets_no_job(session, make_batch):
    batch, _ = make_batch(0, number="EMPTY")
    with pytest.raises(ValidationError, match="batch EMPTY has no units to label"):
        create_print_job(session, settings=SETTINGS, batch=batch, template="roll-50x25", printer="127.0.0.1:9100")
    assert _count_jobs(session) == 0


def test_a_printer_off_the_list_or_a_bad_dpi_or_template_is_refused_before_creating_a_job(session, make_batch):
    batch, _ = make_batch(3, number="2501A00")
    settings = Settings.load({"printers": "10.0.0.7:9100"}, environ={})
    with pytest.raises(ValidationError, match="not in SERIALTRACE_PRINTERS"):
        create_print_job(session, settings=settings, batch=batch, template="roll-50x25", printer="10.0.0.8:9100")
    with pytest.raises(LabelError, match="must be one of 203, 300, 600, got 5") as err:
        create_print_job(session, settings=settings, batch=batch, template="roll-50x25", printer="10.0.0.7:9100", dpi=5)
    assert err.value.field == "dpi"
    with pytest.raises(LabelError, match="unknown template 'nope'") as err:
        create_print_job(session, settings=settings, batch=batch, template="nope", printer="10.0.0.7:9100")
    assert err.value.field == "template"
    assert _count_jobs(session) == 0
    job = create_print_job(session, settings=settings, batch=batch, template="roll-50x25", printer="10.0.0.7:9100",
                           dpi=300)
    assert job.dpi == 300 and job.printer == "10.0.0.7:9100" and _count_jobs(session) == 1


def test_a_reprint_is_a_new_job_over_the_old_range_by_default(session, make_batch):
    batch, _ = make_batch(6, number="2501A00")
    old = create_print_job(session, settings=SETTINGS, batch=batch, template="roll-50x25", printer="127.0.0.1:9100",
                           first=1, last=4, dpi=300)
    again = reprint_print_job(session, settings=SETTINGS, job_id=old.id)
    part = reprint_print_job(session, settings=SETTINGS, job_id=old.id, first=4, last=5)
    assert (again.first_index, again.last_index, again.dpi, again.printer) == (1, 4, 300, "127.0.0.1:9100")
    assert (part.first_index, part.last_index, part.state) == (4, 5, "queued")
    assert len({old.id, again.id, part.id}) == 3


def test_a_reprint_goes_through_the_checks_of_a_new_job(session, make_batch, tmp_path):
    """A printer dropped from the allow-list, a template removed, a range past the batch: no job."""
    batch, _ = make_batch(6, number="2501A00")
    (tmp_path / "mine.json").write_text(json.dumps({"name": "mine", "width_mm": 50, "height_mm": 25}))
    before = Settings.load({"printers": "10.0.0.7:9100", "label_templates_dir": str(tmp_path)}, environ={})
    old = create_print_job(session, settings=before, batch=batch, template="roll-50x25", printer="10.0.0.7:9100")
    mine = create_print_job(session, settings=before, batch=batch, template="mine", printer="10.0.0.7:9100")
    jobs = _count_jobs(session)

    moved = Settings.load({"printers": "10.0.0.9:9100", "label_templates_dir": str(tmp_path)}, environ={})
    with pytest.raises(ValidationError,
                       match=r"printer 10.0.0.7:9100 is not in SERIALTRACE_PRINTERS \(10.0.0.9:9100\)"):
        reprint_print_job(session, settings=moved, job_id=old.id)
    (tmp_path / "mine.json").unlink()
    with pytest.raises(LabelError, match="unknown template 'mine'"):
        reprint_print_job(session, settings=before, job_id=mine.id)
    with pytest.raises(ValidationError, match="to must be a unit index from 0 to 5, got 6"):
        reprint_print_job(session, settings=before, job_id=old.id, first=2, last=6)
    assert _count_jobs(session) == jobs


def test_a_download_cannot_be_reprinted_nor_an_unknown_job(session, make_batch):
    batch, _ = make_batch(4)
    download = record_download(session, batch=batch, template="a4-3x8", output="pdf")
    with pytest.raises(ValidationError, match=f"job {download.id} was a download; download the file again"):
        reprint_print_job(session, settings=SETTINGS, job_id=download.id)
    with pytest.raises(NotFound, match="no print job 999"):
        reprint_print_job(session, settings=SETTINGS, job_id=999)
    assert _count_jobs(session) == 1


def test_a_download_is_logged_as_a_done_job_with_events(session, make_batch):
    batch, _ = make_batch(4)
    job = record_download(session, batch=batch, template="a4-3x8", output="pdf", first=1, last=2)
    assert (job.state, job.printer, job.next_index, job.done) == ("done", None, 3, 2)
    assert _labelled(session) == 2
    with pytest.raises(InvalidTransition, match="download"):
        resume_print_job(session, job.id)


def test_a_download_in_an_unknown_format_is_refused(session, make_batch):
    batch, _ = make_batch(3)
    with pytest.raises(ValidationError, match="output must be one of pdf, zpl, png, not 'gif'") as err:
        record_download(session, batch=batch, template="a4-3x8", output="gif")
    assert err.value.details == {"field": "format"}
    assert _count_jobs(session) == 0 and _labelled(session) == 0


def test_a_printing_job_resumes_only_once_its_runner_went_quiet(session, make_batch):
    batch, _ = make_batch(2)
    job = create_print_job(session, settings=SETTINGS, batch=batch, template="roll-50x25", printer="127.0.0.1:9100")
    job.state = "printing"
    session.flush()
    with pytest.raises(Conflict, match="printing right now"):
        resume_print_job(session, job.id)
    job.updated_at = utcnow() - timedelta(minutes=10)
    session.flush()
    assert resume_print_job(session, job.id).state == "queued"
