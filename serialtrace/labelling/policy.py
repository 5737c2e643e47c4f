"""Rules for print jobs, with no database: printer addresses and the SERIALTRACE_PRINTERS allow-list, unit
ranges, outputs, resolutions and when a job may be resumed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ..errors import ValidationError
from ..i18n import _l
from ..labels import LabelError
from ..labels.templates import DPIS
from .enums import PrintJobState

# What a job produces: ZPL goes to a printer or a file, PDF and PNG are downloads only.
OUTPUTS = ("pdf", "zpl", "png")
# Raw ZPL printing; without SERIALTRACE_PRINTERS a job may target this port on any host and nothing else.
RAW_PRINT_PORT = 9100
# A runner refreshes updated_at after every chunk; a "printing" job silent for longer than this lost its runner.
STALE_AFTER = timedelta(minutes=5)
# Job ids are 32-bit integer keys; a larger id cannot exist.
MAX_JOB_ID = 2**31 - 1
# The print_job.template column.
TEMPLATE_NAME_MAX = 64
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,252}")
_UNSAFE_FILENAME = re.compile(r"[^0-9A-Za-z._-]")


class JobProgress(Protocol):
    """What `is_resumable` reads of a print job."""

    printer: str | None
    state: str
    updated_at: datetime


def parse_printer(text: str) -> tuple[str, int]:
    """Split "host:port" into its parts; ValidationError when it is not a host name or address and a port."""
    host, sep, port = (text or "").strip().rpartition(":")
    if not sep or not _HOST.fullmatch(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError(_l("printer %(text)r must be HOST:PORT, for example 10.0.0.7:9100", text=text),
                              details={"field": "printer"})
    return host, int(port)


def ensure_printer_allowed(printer: str, allowed: str) -> str:
    """The printer as HOST:PORT when the allow-list (comma-separated HOST:PORT) admits it; ValidationError if not.

    An empty allow-list admits port 9100 on any host, so a job cannot be pointed at another service.
    """
    host, port = parse_printer(printer)
    target = f"{host}:{port}"
    entries = [e.strip() for e in (allowed or "").split(",") if e.strip()]
    if entries:
        permitted = {f"{h.lower()}:{p}" for h, p in (parse_printer(e) for e in entries)}
        if target.lower() not in permitted:
            raise ValidationError(_l("printer %(target)s is not in SERIALTRACE_PRINTERS (%(value)s)", target=target,
                                     value=', '.join(entries)),
                                  details={"field": "printer"})
    elif port != RAW_PRINT_PORT:
        raise ValidationError(_l("printer %(target)s must use port %(raw_print_port)s; list other printers in "
                                 "SERIALTRACE_PRINTERS", target=target, raw_print_port=RAW_PRINT_PORT),
                              details={"field": "printer"})
    return target


def ensure_range(total: int, first: int | None, last: int | None) -> tuple[int, int]:
    """The unit index range first..last (default the whole batch of `total`); ValidationError naming from/to."""
    if total == 0:
        raise ValidationError(_l("the batch has no units to label"), details={"field": "batch"})
    first = 0 if first is None else first
    last = total - 1 if last is None else last
    for name, value in (("from", first), ("to", last)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < total:
            raise ValidationError(_l("%(name)s must be a unit index from 0 to %(value)s, got %(value2)r", name=name,
                                     value=total - 1, value2=value),
                                  details={"field": name})
    if last < first:
        raise ValidationError(_l("the range %(first)s..%(last)s is empty", first=first, last=last),
                              details={"field": "to"})
    return first, last


def ensure_output(output: str, printer: str | None) -> None:
    """A known output, and ZPL when a printer takes it; ValidationError naming the format otherwise."""
    if output not in OUTPUTS:
        raise ValidationError(_l("output must be one of %(value)s, not %(output)r", value=', '.join(OUTPUTS),
                                 output=output),
                              details={"field": "format"})
    if printer is not None and output != "zpl":
        raise ValidationError(_l("printers take ZPL; PDF and PNG are downloads"), details={"field": "format"})


def ensure_template_name(name: str) -> str:
    """A template reference short enough to store on the job."""
    if not name or len(name) > TEMPLATE_NAME_MAX:
        raise ValidationError(_l("template name must be 1 to %(template_name_max)s characters",
                                 template_name_max=TEMPLATE_NAME_MAX),
                              details={"field": "template"})
    return name


def ensure_dpi(dpi: int) -> int:
    """A resolution ZPL printers come in; LabelError naming dpi otherwise."""
    if isinstance(dpi, bool) or dpi not in DPIS:
        raise LabelError("dpi", f"must be one of {', '.join(map(str, DPIS))}, got {dpi!r}")
    return dpi


def is_resumable(job: JobProgress, *, stale_after: timedelta = STALE_AFTER, now: datetime | None = None) -> bool:
    """True for a printer job that failed, waits, or was left "printing" by a runner that stopped."""
    if job.printer is None or job.state == PrintJobState.DONE:
        return False
    now = now or datetime.now(UTC)
    return job.state != PrintJobState.PRINTING or _aware(job.updated_at) <= now - stale_after


def png_filename(serial: str) -> str:
    """A file name for a serial's PNG; characters a file system could read as a path become `_`."""
    name = _UNSAFE_FILENAME.sub("_", serial).lstrip(".") or "_"
    return f"{name}.png"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
