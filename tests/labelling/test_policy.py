"""Print-job rules without a database: printer addresses, the allow-list, ranges, outputs, resumability."""

from __future__ import annotations

from datetime import timedelta

import pytest

from serialtrace.columns import utcnow
from serialtrace.errors import ValidationError
from serialtrace.labelling.models import PrintJob
from serialtrace.labelling.policy import (
    ensure_dpi,
    ensure_output,
    ensure_printer_allowed,
    ensure_range,
    is_resumable,
    parse_printer,
    png_filename,
)
from serialtrace.labels import LabelError


def test_parse_printer():
    assert parse_printer(" zebra-1.lan:9100 ") == ("zebra-1.lan", 9100)


@pytest.mark.parametrize("text", ["printer-without-port", "host:99999", "host:0", ":9100", "-bad:9100", ""])
def test_a_printer_that_is_not_host_and_port_is_refused(text):
    with pytest.raises(ValidationError, match="must be HOST:PORT") as err:
        parse_printer(text)
    assert err.value.details == {"field": "printer"}


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


@pytest.mark.parametrize("first, last, field, message", [
    (3, None, "from", "from must be a unit index from 0 to 2, got 3"),
    (None, 7, "to", "to must be a unit index from 0 to 2, got 7"),
    (2, 1, "to", "the range 2..1 is empty"),
    (-1, None, "from", "got -1"),
    (True, None, "from", "got True"),
])
def test_a_range_outside_the_batch_names_from_or_to(first, last, field, message):
    with pytest.raises(ValidationError, match=message) as err:
        ensure_range(3, first, last)
    assert err.value.details == {"field": field}


def test_the_default_range_is_the_whole_batch():
    assert ensure_range(3, None, None) == (0, 2)


@pytest.mark.parametrize("output, printer, message", [
    ("gif", None, "output must be one of pdf, zpl, png, not 'gif'"),
    ("pdf", "host:9100", "printers take ZPL; PDF and PNG are downloads"),
    ("png", "host:9100", "printers take ZPL"),
])
def test_outputs_a_printer_cannot_take_are_refused(output, printer, message):
    with pytest.raises(ValidationError, match=message) as err:
        ensure_output(output, printer)
    assert err.value.details == {"field": "format"}


def test_resolutions_printers_do_not_have_are_refused():
    assert ensure_dpi(300) == 300
    for dpi in (5, True, "203"):
        with pytest.raises(LabelError, match="must be one of 203, 300, 600") as err:
            ensure_dpi(dpi)
        assert err.value.field == "dpi"


def test_a_job_left_printing_by_a_stopped_runner_becomes_resumable():
    job = PrintJob(batch_id=1, template="roll-50x25", printer="127.0.0.1:9100", first_index=0, last_index=1,
                   next_index=0)
    job.state, job.updated_at = "printing", utcnow()
    assert not is_resumable(job)
    job.updated_at = utcnow() - timedelta(minutes=6)
    assert is_resumable(job)
    job.state = "done"
    assert not is_resumable(job)
    job.state, job.printer = "failed", None
    assert not is_resumable(job)


def test_png_file_names_cannot_leave_the_folder():
    assert png_filename("../../etc/passwd") == "_.._etc_passwd.png"
    assert png_filename("SN-1") == "SN-1.png" and png_filename("") == "_.png"
