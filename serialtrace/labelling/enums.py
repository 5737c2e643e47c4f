"""Stored values of the labelling domain."""

from __future__ import annotations

from enum import StrEnum

from ..i18n import _l


class PrintJobState(StrEnum):
    """Where a print job is: waiting for a runner, being sent, sent in full, or stopped with a reason."""

    QUEUED = "queued"
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"


# What each print job state is called on a page.
PRINT_JOB_STATE_LABELS: dict[str, str] = {
    PrintJobState.QUEUED: _l("Queued"),
    PrintJobState.PRINTING: _l("Printing"),
    PrintJobState.DONE: _l("Printed"),
    PrintJobState.FAILED: _l("Failed"),
}
