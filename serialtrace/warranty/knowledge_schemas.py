"""Shapes of the knowledge base's requests and answers: articles, their versions and files, suggestions, solutions."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema

from ..trace.policy import MAX_INT
from ..trace.schemas import Text, WholeNumber
from .knowledge import BODY_MAX, SEARCH_MAX

_FILE = WithJsonSchema({"type": "string", "format": "binary"})
Title = Text(length=200, description="what the solution is, in a line")
Body = Text(length=BODY_MAX, controls=True, description="the solution: plain text, line breaks kept")
Family = Text(length=100, description="a product family some product uses; empty: any family")
Symptom = Text(length=64, description="an active symptom code; empty: any symptom")


class KnowledgeCreate(BaseModel):
    """POST /knowledge: a new article keyed by product family and symptom."""

    title: Title
    body: Body = ""
    product_family: Family = ""
    symptom: Symptom = ""


class KnowledgeEdit(BaseModel):
    """POST /knowledge/{id}: the next version of the text (and, when given, another family or symptom) or a retire /
    restore; `version` is the one the change starts from, 409 when someone saved another since."""

    version: WholeNumber(1, MAX_INT, description="the article's version the change starts from")
    title: Title | None = None
    body: Body | None = None
    product_family: Family | None = None
    symptom: Symptom | None = None
    active: bool | None = Field(None, description="false retires the article (no longer suggested), true restores it")


class KnowledgeQuery(BaseModel):
    """GET /knowledge: filters; each empty one matches any."""

    family: Text(length=100) = ""
    symptom: Text(length=64) = ""
    q: Text(length=SEARCH_MAX, description="words in the title or text") = ""
    retired: bool = Field(False, description="include retired articles")


class KnowledgeFileRead(BaseModel):
    """A picture or file of an article; download it from GET /knowledge/files/{id}."""

    id: int
    article_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool = Field(description="a JPEG, PNG or WebP image a page may show inline")
    at: str


class KnowledgeRead(BaseModel):
    """An article: its current text and version, how often it solved a claim."""

    id: int
    product_family: str
    symptom: str
    title: str
    body: str
    version: int
    successes: int
    active: bool
    created_at: str
    updated_at: str
    files: list[KnowledgeFileRead] = []


class KnowledgeList(BaseModel):
    """Articles, most successful first."""

    items: list[KnowledgeRead]


class KnowledgeVersionRead(BaseModel):
    """One saved version of an article's text; never changed."""

    article_id: int
    version: int
    title: str
    body: str
    author: str
    at: str


class KnowledgeVersionList(BaseModel):
    """An article's versions, newest first."""

    items: list[KnowledgeVersionRead]


class KnowledgeUpload(BaseModel):
    """POST /knowledge/{id}/files: one file (JPEG, PNG, WebP, PDF, text or CSV) as multipart/form-data."""

    file: Annotated[Any, _FILE]


class KnowledgeFileQuery(BaseModel):
    """GET /knowledge/files/{id}: inline=true shows a JPEG, PNG or WebP image; anything else downloads."""

    inline: bool = False


class SuggestionRead(KnowledgeRead):
    """An article suggested for a claim."""

    solved_here: bool = Field(description="already marked as this claim's solution")


class SuggestionList(BaseModel):
    """Suggested articles for a claim: most successful first, exact keys before "any", then newest."""

    items: list[SuggestionRead]


class SolutionCreate(BaseModel):
    """POST /claims/{id}/solutions: the article that solved the claim (once per claim and article)."""

    article_id: WholeNumber(1, MAX_INT, description="the article's id")
