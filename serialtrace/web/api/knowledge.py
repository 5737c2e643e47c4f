"""The knowledge base: /knowledge, /knowledge/<id> with its versions and files, and a claim's /suggestions and
/solutions."""

from __future__ import annotations

from pathlib import Path

from flask import jsonify, request
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from ...accounts.enums import Role
from ...errors import ValidationError
from ...warranty import knowledge
from ...warranty.knowledge_schemas import (
    KnowledgeCreate,
    KnowledgeEdit,
    KnowledgeFileQuery,
    KnowledgeFileRead,
    KnowledgeList,
    KnowledgeQuery,
    KnowledgeRead,
    KnowledgeUpload,
    KnowledgeVersionList,
    SolutionCreate,
    SuggestionList,
)
from ..auth import CLAIM_READERS, current_user, requires
from ..database import commit, db
from ..downloads import stored_file_response
from ..i18n import _
from . import bp, errors, runtime
from .paths import ClaimPath

TAG = Tag(name="knowledge", description="solutions by product family and symptom, suggested for claims")
# The service's roles, admins left out: they pass every @requires anyway.
WRITERS = [r for r in Role if r in knowledge.WRITERS and r != Role.ADMIN]
SOLVERS = [r for r in Role if r in knowledge.SOLVERS and r != Role.ADMIN]


class ArticlePath(BaseModel):
    """A knowledge article in the URL."""

    id: int = Field(description="the article's id")


class KnowledgeFilePath(BaseModel):
    """A knowledge article's file in the URL."""

    id: int = Field(description="the file's id")


def folder() -> Path:
    """Where the articles' files are kept: the instance folder's knowledge/."""
    return Path(runtime().settings.instance_dir) / knowledge.FOLDER


def _read(article_id: int) -> dict:
    return knowledge.article_read(db(), knowledge.get_article(db(), article_id), files=True)


@bp.get("/knowledge", tags=[TAG], responses={200: KnowledgeList, **errors(401, 403, 409, 422)})
@requires(*CLAIM_READERS)
def get_knowledge(query: KnowledgeQuery):
    """Articles with the family and symptom given, whose title or text holds q; most successful first."""
    rows = knowledge.list_articles(db(), family=query.family, symptom=query.symptom, q=query.q,
                                   include_retired=query.retired)
    return jsonify({"items": [knowledge.article_read(db(), a) for a in rows]})


@bp.post("/knowledge", tags=[TAG], responses={201: KnowledgeRead, **errors(400, 401, 403, 409, 413, 422)})
@requires(*WRITERS)
def post_knowledge(body: KnowledgeCreate):
    """Write an article: title required, symptom an active symptom code or empty, product family one some product
    uses or empty (any)."""
    article = knowledge.create_article(db(), title=body.title, body=body.body, product_family=body.product_family,
                                       symptom=body.symptom, author=current_user())
    commit()
    return jsonify(_read(article.id)), 201


@bp.get("/knowledge/<int:id>", tags=[TAG], responses={200: KnowledgeRead, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_knowledge_article(path: ArticlePath):
    """The article's current text and version, its successes and files."""
    return jsonify(_read(path.id))


@bp.post("/knowledge/<int:id>", tags=[TAG], responses={200: KnowledgeRead, **errors(400, 401, 403, 404, 409, 413,
                                                                                   422)})
@requires(*WRITERS)
def post_knowledge_article(path: ArticlePath, body: KnowledgeEdit):
    """Save the next version (title, body, family, symptom as given, the rest kept) from `version`, 409 when the
    article moved on since; `active` retires or restores it."""
    article = knowledge.get_article(db(), path.id)
    if body.version != article.version:
        raise knowledge.stale(article.version, body.version)
    if any(v is not None for v in (body.title, body.body, body.product_family, body.symptom)):
        knowledge.edit_article(db(), path.id, title=article.title if body.title is None else body.title,
                               body=article.body if body.body is None else body.body, expected_version=body.version,
                               product_family=body.product_family, symptom=body.symptom, author=current_user())
    if body.active is not None:
        knowledge.set_active(db(), path.id, body.active, author=current_user())
    commit()
    return jsonify(_read(path.id))


@bp.get("/knowledge/<int:id>/versions", tags=[TAG],
        responses={200: KnowledgeVersionList, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_knowledge_versions(path: ArticlePath):
    """Every saved version of the article, newest first; none is ever changed."""
    return jsonify({"items": [knowledge.version_read(v) for v in knowledge.list_versions(db(), path.id)]})


@bp.post("/knowledge/<int:id>/files", tags=[TAG],
         responses={201: KnowledgeFileRead, **errors(400, 401, 403, 404, 409, 413, 415, 422)})
@requires(*WRITERS)
def post_knowledge_file(path: ArticlePath, form: KnowledgeUpload):
    """Add a picture or file to the article: at most the configured size (413), JPEG, PNG, WebP, PDF, text or CSV by
    its content (415)."""
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError(_("send the file as multipart/form-data field %(field)s", field="file"),
                              details={"field": "file"})
    limit = runtime().settings.attachment_max_bytes
    # One byte past the limit is enough to know it is over, without reading the rest.
    kept = knowledge.add_file(db(), article_id=path.id, filename=upload.filename, data=upload.read(limit + 1),
                              author=current_user(), folder=folder(), max_bytes=limit)
    commit()
    return jsonify(knowledge.file_read(kept)), 201


@bp.get("/knowledge/files/<int:id>", tags=[TAG], responses={
    200: {"description": "the file, as stored", "content": {"application/octet-stream": {"schema": {
        "type": "string", "format": "binary"}}}}, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_knowledge_file(path: KnowledgeFilePath, query: KnowledgeFileQuery):
    """Download an article's file (Content-Disposition: attachment); inline=true shows a JPEG, PNG or WebP image."""
    row, file = knowledge.file_path(db(), path.id, folder=folder())
    inline = query.inline and knowledge.attachments.is_inline_image(row.content_type)
    return stored_file_response(file, row.content_type, row.filename, inline=inline)


@bp.get("/claims/<int:id>/suggestions", tags=[TAG], responses={200: SuggestionList, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_claim_suggestions(path: ClaimPath):
    """Active articles for the claim's product family and symptom (or any): most successful first, exact keys
    before "any", then newest; at most five."""
    return jsonify({"items": knowledge.suggestions(db(), path.id)})


@bp.post("/claims/<int:id>/solutions", tags=[TAG], responses={201: KnowledgeRead, **errors(400, 401, 403, 404, 409,
                                                                                           413, 422)})
@requires(*SOLVERS)
def post_claim_solution(path: ClaimPath, body: SolutionCreate):
    """"This solved it": the article counts one more success, once per claim (a second mark is a 409), and the
    claim's timeline says so."""
    knowledge.mark_solved(db(), claim_id=path.id, article_id=body.article_id, author=current_user())
    commit()
    return jsonify(_read(body.article_id)), 201
