"""Dispositions of tested units, claim comments and attachments: /cases/<id>/dispositions, /dispositions/<id>/...,
/claims/<id>/comments, /claims/<id>/attachments and /attachments/<id>."""

from __future__ import annotations

from pathlib import Path

from flask import jsonify, request
from flask_openapi3 import Tag

from ...accounts.enums import Role
from ...config import business_today
from ...errors import ValidationError
from ...warranty import attachments, comments, dispositions, workflow
from ...warranty.disposition_schemas import (
    AttachmentList,
    AttachmentQuery,
    AttachmentRead,
    AttachmentUpload,
    CommentCreate,
    CommentRead,
    DispositionCreate,
    DispositionDecision,
    DispositionList,
    DispositionRead,
)
from ...warranty.enums import UnitCaseState
from ..auth import CLAIM_READERS, current_user, requires
from ..database import commit, db
from ..downloads import stored_file_response
from ..i18n import _
from . import bp, errors, runtime
from .paths import AttachmentPath, CasePath, ClaimPath, DispositionPath

TAG = Tag(name="dispositions", description="what happens to a tested unit: proposed, approved by quality, executed")
FILES = Tag(name="claim files", description="comments and attachments of a claim")
K = UnitCaseState


def _roles(step: tuple[UnitCaseState, UnitCaseState]) -> list[Role]:
    # The case table's roles of the step, so the route and the service agree; admins pass every @requires anyway.
    return [r for r in Role if r in workflow.CASE_ROLES[step] and r != Role.ADMIN]


PROPOSERS = _roles((K.TESTED, K.DISPOSITION_PENDING))
EXECUTORS = _roles((K.DISPOSITION_PENDING, K.DISPOSED))
APPROVERS = [r for r in Role if r in dispositions.APPROVERS and r != Role.ADMIN]
WRITERS = [r for r in Role if r in comments.COMMENTERS and r != Role.ADMIN]


def _folder() -> Path:
    """Where attachments are kept: the instance folder's attachments/."""
    return Path(runtime().settings.instance_dir) / "attachments"


def _disposition(disposition_id: int) -> dict:
    return dispositions.disposition_read(db(), dispositions.get_disposition(db(), disposition_id))


@bp.post("/cases/<int:id>/dispositions", tags=[TAG],
         responses={201: DispositionRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*PROPOSERS)
def post_case_disposition(path: CasePath, body: DispositionCreate):
    """Propose a disposition for a tested case (the case becomes disposition_pending); scrap and values above the
    configured limit need quality's approval. 409 when the case is not tested."""
    record = dispositions.propose(db(), case_id=path.id, kind=body.kind, value=body.value, notes=body.notes,
                                  author=current_user(),
                                  approval_value=runtime().settings.warranty_approval_value)
    commit()
    return jsonify(_disposition(record.id)), 201


@bp.get("/cases/<int:id>/dispositions", tags=[TAG],
        responses={200: DispositionList, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_case_dispositions(path: CasePath):
    """The dispositions of a case, oldest first (rejected ones stay)."""
    return jsonify({"items": [dispositions.disposition_read(db(), d)
                              for d in dispositions.list_dispositions(db(), path.id)]})


@bp.post("/dispositions/<int:id>/decision", tags=[TAG],
         responses={200: DispositionRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*APPROVERS)
def post_disposition_decision(path: DispositionPath, body: DispositionDecision):
    """Quality approves or rejects a proposed disposition; a rejection needs a reason and sends the case back to
    tested. 409 when it is not proposed."""
    dispositions.decide(db(), disposition_id=path.id, approve=body.approve, reason=body.reason,
                        author=current_user())
    commit()
    return jsonify(_disposition(path.id))


@bp.post("/dispositions/<int:id>/execute", tags=[TAG],
         responses={200: DispositionRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*EXECUTORS)
def post_disposition_execute(path: DispositionPath):
    """Carry out an approved disposition (or one that needs none): the unit's status and event, a shipment back to
    the customer where it says so, the case disposed, in one transaction. 409 when it was executed already, was
    rejected or still waits for approval."""
    dispositions.execute(db(), disposition_id=path.id, author=current_user(),
                         today=business_today(runtime().settings))
    commit()
    return jsonify(_disposition(path.id))


@bp.post("/claims/<int:id>/comments", tags=[FILES],
         responses={201: CommentRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*WRITERS)
def post_claim_comment(path: ClaimPath, body: CommentCreate):
    """Add a comment to the claim's timeline: internal (staff) or for the customer."""
    comment = comments.add_comment(db(), claim_id=path.id, body=body.body, visibility=body.visibility,
                                   author=current_user())
    commit()
    return jsonify({"id": comment.id, "claim_id": comment.claim_id, "body": comment.body,
                    "visibility": comment.visibility, "author": comment.author, "at": comment.at.isoformat()}), 201


def _form_id(field: str) -> int | None:
    """An optional id sent as a form field; anything but digits is a 422 naming it."""
    raw = (request.form.get(field) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise ValidationError(_("field %(name)s must be a whole number", name=field), details={"field": field})
    return int(raw)


@bp.post("/claims/<int:id>/attachments", tags=[FILES],
         responses={201: AttachmentRead, **errors(400, 401, 403, 404, 409, 413, 415, 422)})
@requires(*WRITERS)
def post_claim_attachment(path: ClaimPath, form: AttachmentUpload):
    """Keep a file with the claim (optionally with one of its cases or test records): at most the configured size
    (413) and JPEG, PNG, WebP, PDF, text or CSV by its content, whatever it is called or declared to be (415)."""
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError(_("send the file as multipart/form-data field %(field)s", field="file"),
                              details={"field": "file"})
    limit = runtime().settings.attachment_max_bytes
    # One byte past the limit is enough to know it is over, without reading the rest.
    data = upload.read(limit + 1)
    kept = attachments.add_attachment(db(), claim_id=path.id, filename=upload.filename, data=data,
                                      author=current_user(), folder=_folder(), max_bytes=limit,
                                      case_id=_form_id("case_id"), test_record_id=_form_id("test_record_id"))
    commit()
    return jsonify(attachments.attachment_read(kept)), 201


@bp.get("/claims/<int:id>/attachments", tags=[FILES],
        responses={200: AttachmentList, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_claim_attachments(path: ClaimPath):
    """The claim's attachments, oldest first."""
    return jsonify({"items": attachments.list_attachments(db(), path.id)})


@bp.get("/attachments/<int:id>", tags=[FILES], responses={
    200: {"description": "the file, as stored", "content": {"application/octet-stream": {"schema": {
        "type": "string", "format": "binary"}}}}, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_attachment(path: AttachmentPath, query: AttachmentQuery):
    """Download an attachment as a file (Content-Disposition: attachment); inline=true shows a JPEG, PNG or WebP
    image in the page instead."""
    attachment, file = attachments.attachment_path(db(), path.id, folder=_folder())
    inline = query.inline and attachments.is_inline_image(attachment.content_type)
    return stored_file_response(file, attachment.content_type, attachment.filename, inline=inline)
