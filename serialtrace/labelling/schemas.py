"""Request and answer shapes of labels: a batch's label file and print jobs."""

from typing import Literal

from pydantic import BaseModel, Field

from ..trace import schemas as trace_schemas
from .models import PrintJob

_J = PrintJob.__table__.c
Template = trace_schemas.Text(_J.template, description="built-in or SERIALTRACE_LABEL_TEMPLATES template name "
                                                       "(default roll-50x25)")
# "from" and "to" are Python keywords: the fields are first and last, read and written under those names.
First = trace_schemas.WholeNumber(description="first unit index (by unit id within the batch)")
Last = trace_schemas.WholeNumber(description="last unit index, inclusive")


class LabelFileCreate(BaseModel):
    """POST /batches/{number}/labels: the batch's labels (or a range of them) as one file."""

    product: trace_schemas.Sku | None = Field(None, description="SKU when several products share the batch number")
    format: Literal["pdf", "zpl"] | None = Field(None, description="pdf (default) or zpl")
    template: Template | None = None
    first: First | None = Field(None, alias="from")
    last: Last | None = Field(None, alias="to")


class PrintJobCreate(BaseModel):
    """POST /print-jobs: send a batch (or a range of it) to a ZPL printer as a resumable job."""

    batch: trace_schemas.BatchNumber
    product: trace_schemas.Sku | None = Field(None, description="SKU when several products share the batch number")
    template: Template | None = None
    printer: trace_schemas.Text(_J.printer, description="HOST:PORT, raw TCP; port 9100, or one listed in "
                                                        "SERIALTRACE_PRINTERS")
    first: First | None = Field(None, alias="from")
    last: Last | None = Field(None, alias="to")


class PrintJobRead(BaseModel):
    """A print job and how far it got."""

    id: int
    batch: str
    template: str
    format: str = Field(description="zpl, pdf or png")
    printer: str | None
    first: int = Field(alias="from")
    last: int = Field(alias="to")
    next_index: int = Field(description="first unit index not yet confirmed sent")
    done: int
    total: int
    state: str = Field(description="queued, printing, done or failed")
    error: str | None
    attempts: int
    created_by: str
    created_at: str
    updated_at: str


class PrintJobList(BaseModel):
    """Recent print jobs, newest first."""

    jobs: list[PrintJobRead]
