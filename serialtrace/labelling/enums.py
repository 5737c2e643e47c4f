"""Stored values of the labelling domain."""

from __future__ import annotations

from enum import StrEnum


class PrintJobState(StrEnum):
    """Where a print job is: waiting for a runner, being sent, sent in full, or stopped with a reason."""

    QUEUED = "queued"
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"
