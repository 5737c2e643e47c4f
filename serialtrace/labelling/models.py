"""The print_job table: a range of a batch's units sent to a printer, or rendered to a file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, SQLModel

from ..columns import utcnow
from .enums import PrintJobState


class PrintJob(SQLModel, table=True):
    """Labels for units first_index..last_index (by unit id within the batch); next_index is the first not yet sent."""

    __tablename__ = "print_job"
    __table_args__ = (
        CheckConstraint("first_index >= 0 AND last_index >= first_index", name="ck_print_job_range"),
        CheckConstraint("next_index >= first_index AND next_index <= last_index + 1", name="ck_print_job_next"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    template: str = Field(sa_type=String(64))
    output: str = Field(default="zpl", sa_type=String(8))
    printer: str | None = Field(default=None, sa_type=String(260))
    dpi: int = 203
    first_index: int
    last_index: int
    next_index: int
    state: str = Field(default=PrintJobState.QUEUED, sa_type=String(16), index=True)
    error: str = ""
    attempts: int = 0
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_by: str = Field(default="", sa_type=String(100))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def total(self) -> int:
        """Labels in the job's range."""
        return self.last_index - self.first_index + 1

    @property
    def done(self) -> int:
        """Labels confirmed sent."""
        return self.next_index - self.first_index
