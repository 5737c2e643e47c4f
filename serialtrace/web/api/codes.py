"""Failure-code lists: GET /failure-codes for everyone; quality and admins add, rename, retire and import codes."""

from __future__ import annotations

from flask import jsonify, request
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from ...accounts.enums import Role
from ...errors import ValidationError
from ...warranty import codes
from ...warranty.schemas import (
    FailureCodeCreate,
    FailureCodeImportRead,
    FailureCodeRead,
    FailureCodesQuery,
    FailureCodesRead,
    FailureCodeUpdate,
)
from ..auth import requires
from ..database import commit, db
from ..i18n import _, tr
from . import bp, errors

TAG = Tag(name="failure codes", description="code lists: symptom, failure mode, root cause, location, repair action")
# Body types taken as the CSV file itself.
IMPORT_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")


class CodePath(BaseModel):
    """A code of a list in the URL."""

    list: str = Field(description="symptom, mode, cause, location or action")
    code: str = Field(description="the code")


def _code(row) -> dict:
    return {"list": row.list, "code": row.code, "name": row.name, "active": row.active}


@bp.get("/failure-codes", tags=[TAG], responses={200: FailureCodesRead, **errors(401, 409, 422)})
@requires()
def get_failure_codes(query: FailureCodesQuery):
    """The five code lists, each code with its name in the reader's language; ?all=true adds retired codes."""
    lists = codes.code_lists(db(), active_only=not query.all)
    return jsonify({kind: [{**item, "name": tr(item["name"])} for item in items] for kind, items in lists.items()})


@bp.post("/failure-codes", tags=[TAG], responses={201: FailureCodeRead, **errors(400, 401, 403, 409, 413, 422)})
@requires(Role.QUALITY)
def post_failure_code(body: FailureCodeCreate):
    """Add a code at the end of a list; 409 when the list already has it."""
    row = codes.add_code(db(), kind=body.list, code=body.code, name=body.name)
    commit()
    return jsonify(_code(row)), 201


@bp.patch("/failure-codes/<list>/<code>", tags=[TAG],
          responses={200: FailureCodeRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.QUALITY)
def patch_failure_code(path: CodePath, body: FailureCodeUpdate):
    """Rename a code, retire it (active false: no longer offered, records keep it) or reactivate it."""
    row = codes.update_code(db(), kind=codes.ensure_list(path.list), code=path.code, name=body.name,
                            active=body.active)
    commit()
    return jsonify(_code(row))


def _upload() -> bytes:
    """The CSV file: the multipart field `file`, or the request body itself; read only to one byte past the import's
    bound, which the service then refuses naming it."""
    limit = codes.IMPORT_MAX_BYTES + 1
    upload = request.files.get("file")
    if upload is not None:
        return upload.read(limit)
    if request.mimetype not in IMPORT_TYPES or not request.content_length:
        raise ValidationError(_("send the CSV file as the body (Content-Type: text/csv) or as the multipart field "
                                "file"), details={"field": "file"})
    return request.stream.read(limit)


@bp.post("/failure-codes/import", tags=[TAG],
         responses={200: FailureCodeImportRead, **errors(400, 401, 403, 409, 413, 422)},
         openapi_extensions={"requestBody": {"content": {
             "text/csv": {"schema": {"type": "string", "description": "list,code,name[,active] then one code a line"}},
             "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                 "file": {"type": "string", "format": "binary"}}}}}}})
@requires(Role.QUALITY)
def post_failure_code_import():
    """Import codes from CSV (header list,code,name[,active]): new codes added, known ones renamed, retired or
    reactivated; every row is checked first and any fault (422 naming its line and column) changes nothing."""
    done = codes.import_codes(db(), _upload())
    commit()
    return jsonify({"added": done.added, "updated": done.updated, "unchanged": done.unchanged})
