"""Stored values of the labelling domain."""

from __future__ import annotations

from enum import StrEnum


class PrintJobState(StrEnum):
    QUEUED = "queued"
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"
