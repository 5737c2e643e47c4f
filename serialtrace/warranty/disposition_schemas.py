"""Shapes of dispositions, claim comments and attachments: requests in, answers out."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from ..trace.schemas import Text
from .comments import BODY_MAX
from .dispositions import NOTES_MAX, VALUE_MAX

_FILE = WithJsonSchema({"type": "string", "format": "binary"})
_ID_TEXT = WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,10}$"})
# Text the database can hold: no NUL, no lone surrogates (free text may have several lines).
Kind = Text(length=24)
Notes = Text(length=NOTES_MAX, controls=True)
Body = Text(length=BODY_MAX, controls=True)


class DispositionCreate(BaseModel):
    """POST /cases/{id}/dispositions: what should happen to the tested unit."""

    kind: Kind = Field(description="restock_refurbished, repair_return, repair_swap_pool, "
                                                 "return_to_supplier, scrap, return_as_is or hold_for_analysis")
    value: Decimal | None = Field(None, ge=0, le=VALUE_MAX, decimal_places=2,
                                  description="the unit's value; the product's price when left out")
    notes: Notes = Field("", description="why; for return_to_supplier name the supplier")


class DispositionDecision(BaseModel):
    """POST /dispositions/{id}/decision: quality approves or rejects (with a reason) a proposed disposition."""

    approve: bool
    reason: Notes = Field("", description="required to reject")


class DispositionRead(BaseModel):
    """A disposition with who proposed, decided and executed it, and when."""

    id: int
    case_id: int
    kind: str
    state: str = Field(description="proposed, approved, rejected or executed")
    value: str | None
    needs_approval: bool
    notes: str
    proposed_by: str | None
    proposed_at: str | None
    decided_by: str | None
    decided_at: str | None
    decision_reason: str
    executed_by: str | None
    executed_at: str | None


class DispositionList(BaseModel):
    """The dispositions of a case, oldest first."""

    items: list[DispositionRead]


class CommentCreate(BaseModel):
    """POST /claims/{id}/comments: a comment for staff (internal) or for the customer."""

    body: Body
    visibility: Literal["internal", "customer"] = "internal"


class CommentRead(BaseModel):
    """A comment on a claim."""

    id: int
    claim_id: int
    body: str
    visibility: str
    author: str
    at: str


class AttachmentUpload(BaseModel):
    """POST /claims/{id}/attachments: one file (JPEG, PNG, WebP, PDF, text or CSV) as multipart/form-data, optionally
    for one of the claim's cases or test records."""

    file: Annotated[Any, _FILE]
    case_id: Annotated[Any, _ID_TEXT] = None
    test_record_id: Annotated[Any, _ID_TEXT] = None


class AttachmentRead(BaseModel):
    """A file kept with a claim; download it from GET /attachments/{id}."""

    id: int
    claim_id: int
    case_id: int | None
    test_record_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool = Field(description="a JPEG, PNG or WebP image a page may show inline")
    author: str
    at: str


class AttachmentList(BaseModel):
    """A claim's attachments, oldest first."""

    items: list[AttachmentRead]


class AttachmentQuery(BaseModel):
    """GET /attachments/{id}: inline=true shows a JPEG, PNG or WebP image in the page; anything else downloads."""

    inline: bool = False
