"""The knowledge base: solutions keyed by product family and symptom code, written and versioned by the workshop,
with pictures and files; suggested for a claim in triage and ranked by how often "this solved it" was marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Column, String, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.enums import Role
from ..columns import utcnow
from ..db import integrity_to_conflict
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..i18n import _l
from ..trace.models import Product, Unit
from ..trace.policy import MAX_INT
from ..trace.service import Author, author_fields, ensure_text
from . import attachments, codes
from .enums import ClaimState, FailureList
from .models import Claim, ClaimEvent, KnowledgeArticle, KnowledgeFile, KnowledgeUse, KnowledgeVersion
from .service import get_claim

# Who writes, edits, retires and restores articles and adds their files.
WRITERS = frozenset({Role.ENGINEER, Role.COORDINATOR, Role.SUPERVISOR, Role.QUALITY, Role.ADMIN})
# Who marks an article as the solution of a claim.
SOLVERS = frozenset({Role.COORDINATOR, Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN})
# The claim states in which the claim page suggests articles: before the unit comes in.
SUGGESTING = frozenset({ClaimState.REGISTERED, ClaimState.TRIAGE, ClaimState.WAITING_CUSTOMER})
SUGGESTIONS = 5
# Longest article text; the column is unbounded, this is the rule every caller gets.
BODY_MAX = 20000
SEARCH_MAX = 100
# The instance folder's subfolder that keeps the articles' files.
FOLDER = "knowledge"
_TITLE = KnowledgeArticle.__table__.c.title
_FAMILY = KnowledgeArticle.__table__.c.product_family
_BODY = Column("body", String(BODY_MAX))
_SEARCH = Column("q", String(SEARCH_MAX))


def _ensure_role(author: Author | None, roles: frozenset[Role]) -> None:
    """403 naming the roles unless `author` (None: the system) holds one of `roles`."""
    role = getattr(author, "role", None) if author is not None else None
    if role is not None and role not in roles:
        allowed = [str(r) for r in Role if r in roles]
        raise PermissionDenied(_l("the %(role)s role may not do this in the knowledge base (roles that may: "
                                  "%(roles)s)", role=role, roles=", ".join(allowed)),
                               details={"role": role, "roles": allowed})


def families(session: Session) -> list[str]:
    """The product families some product uses, sorted: the ones an article may be keyed by."""
    return list(session.scalars(select(Product.family).where(Product.family != "").distinct()
                                .order_by(Product.family)))


def _family(session: Session, value: Any) -> str:
    """A product family some product uses, or empty (any family); else a 422 naming product_family."""
    family = ensure_text(value, field="product_family", column=_FAMILY)
    if family and family not in families(session):
        raise ValidationError(_l("no product has the family %(family)r; use one of %(allowed)s or leave it empty for "
                                 "any family", family=family, allowed=", ".join(families(session)) or "—"),
                              details={"field": "product_family"})
    return family


def _symptom(session: Session, value: Any) -> str:
    """An active symptom code, or empty (any symptom); else a 422 naming symptom."""
    symptom = ensure_text(value, field="symptom", column=KnowledgeArticle.__table__.c.symptom)
    if symptom:
        codes.ensure_code(session, FailureList.SYMPTOM, symptom, field="symptom")
    return symptom


def _text(title: Any, body: Any) -> tuple[str, str]:
    """The title (required) and body within their limits; 422 naming the field otherwise."""
    return (ensure_text(title, field="title", column=_TITLE, required=True),
            ensure_text(body, field="body", column=_BODY))


def get_article(session: Session, article_id: int) -> KnowledgeArticle:
    """The article `article_id`; NotFound otherwise."""
    found = session.get(KnowledgeArticle, article_id) if 0 < article_id <= MAX_INT else None
    if found is None:
        raise NotFound(_l("no knowledge article with id %(id)s", id=article_id))
    return found


def create_article(session: Session, *, title: Any, body: Any = "", product_family: Any = "", symptom: Any = "",
                   author: Author | None) -> KnowledgeArticle:
    """A new article with its first version; empty family or symptom means any. Flushes; the caller commits."""
    _ensure_role(author, WRITERS)
    text, body_text = _text(title, body)
    family, code = _family(session, product_family), _symptom(session, symptom)
    now = utcnow()
    article = KnowledgeArticle(product_family=family, symptom=code, title=text, body=body_text, version=1,
                               author_id=getattr(author, "id", None), created_at=now, updated_at=now)
    session.add(article)
    session.flush()
    session.add(KnowledgeVersion(article_id=article.id, version=1, title=text, body=body_text, at=now,
                                 **author_fields(author)))
    session.flush()
    return article


def edit_article(session: Session, article_id: int, *, title: Any, body: Any, expected_version: int,
                 author: Author | None, product_family: Any = None, symptom: Any = None) -> KnowledgeArticle:
    """Save a new version of the article's text (older versions stay as they were); `expected_version` is the
    version the editor started from, 409 when someone saved another since. Family and symptom change when given.
    The same text and key again is no new version. Flushes; the caller commits."""
    _ensure_role(author, WRITERS)
    article = get_article(session, article_id)
    text, body_text = _text(title, body)
    # The article's own key stays allowed even when its code was retired or its family's products are gone since.
    family = article.product_family if product_family in (None, article.product_family) \
        else _family(session, product_family)
    code = article.symptom if symptom in (None, article.symptom) else _symptom(session, symptom)
    if not isinstance(expected_version, int) or expected_version != article.version:
        raise stale(article.version, expected_version)
    if (text, body_text, family, code) == (article.title, article.body, article.product_family, article.symptom):
        return article
    now = utcnow()
    # Only the editor whose version is still current moves it on: two saves from the same version, one wins.
    moved = session.execute(update(KnowledgeArticle).where(KnowledgeArticle.id == article.id,
                                                           KnowledgeArticle.version == expected_version)
                            .values(version=KnowledgeArticle.version + 1, title=text, body=body_text,
                                    product_family=family, symptom=code, updated_at=now)
                            .execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(article)
        raise stale(article.version, expected_version)
    try:
        with session.begin_nested():
            session.add(KnowledgeVersion(article_id=article.id, version=expected_version + 1, title=text,
                                         body=body_text, at=now, **author_fields(author)))
    except IntegrityError as exc:
        raise integrity_to_conflict(exc, _l("someone else saved this article meanwhile; reload it"),
                                    details={"field": "version"}) from exc
    session.refresh(article)
    return article


def stale(current: int, expected: Any) -> Conflict:
    return Conflict(_l("the article is at version %(current)s, not %(expected)s: someone saved it meanwhile; reload "
                       "it and make your change again", current=current, expected=expected),
                    details={"field": "version", "current": current})


def set_active(session: Session, article_id: int, active: bool, *, author: Author | None) -> KnowledgeArticle:
    """Retire (no longer suggested) or restore an article. Flushes; the caller commits."""
    _ensure_role(author, WRITERS)
    article = get_article(session, article_id)
    article.active = bool(active)
    session.flush()
    return article


def list_versions(session: Session, article_id: int) -> list[KnowledgeVersion]:
    """The article's versions, newest first; NotFound for an unknown article."""
    article = get_article(session, article_id)
    return list(session.scalars(select(KnowledgeVersion).where(KnowledgeVersion.article_id == article.id)
                                .order_by(KnowledgeVersion.version.desc())))


def get_version(session: Session, article_id: int, version: int) -> KnowledgeVersion:
    """Version `version` of the article; NotFound otherwise."""
    article = get_article(session, article_id)
    found = session.scalars(select(KnowledgeVersion).where(KnowledgeVersion.article_id == article.id,
                                                           KnowledgeVersion.version == version)).first() \
        if 0 < version <= MAX_INT else None
    if found is None:
        raise NotFound(_l("article %(id)s has no version %(version)s", id=article.id, version=version))
    return found


def list_articles(session: Session, *, family: str = "", symptom: str = "", q: str = "",
                  include_retired: bool = False) -> list[KnowledgeArticle]:
    """Articles with the family and symptom given (empty: any), whose title or text holds `q`; most successful,
    then most recently changed, first."""
    text = ensure_text(q, field="q", column=_SEARCH).lower()
    stmt = select(KnowledgeArticle)
    if family:
        stmt = stmt.where(KnowledgeArticle.product_family == family)
    if symptom:
        stmt = stmt.where(KnowledgeArticle.symptom == symptom)
    if text:
        stmt = stmt.where(or_(func.lower(KnowledgeArticle.title).contains(text, autoescape=True),
                              func.lower(KnowledgeArticle.body).contains(text, autoescape=True)))
    if not include_retired:
        stmt = stmt.where(KnowledgeArticle.active.is_(True))
    return list(session.scalars(stmt.order_by(KnowledgeArticle.successes.desc(), KnowledgeArticle.updated_at.desc(),
                                              KnowledgeArticle.id.desc())))


def list_files(session: Session, article_id: int) -> list[KnowledgeFile]:
    """The article's files, oldest first."""
    return list(session.scalars(select(KnowledgeFile).where(KnowledgeFile.article_id == article_id)
                                .order_by(KnowledgeFile.id)))


def add_file(session: Session, *, article_id: int, filename: str | None, data: bytes, author: Author | None,
             folder: Path, max_bytes: int = attachments.DEFAULT_MAX_BYTES) -> KnowledgeFile:
    """Keep a picture or file with an article, checked like claim attachments: within `max_bytes` (413), of an
    allowed type read from its bytes (415), under a random name in `folder`. Flushes; the caller commits."""
    content_type = attachments.ensure_allowed(data, filename or "", max_bytes)
    _ensure_role(author, WRITERS)
    article = get_article(session, article_id)
    return attachments.keep_file(session, lambda kept: KnowledgeFile(
        article_id=article.id, content_type=content_type, author_id=getattr(author, "id", None), **kept),
        folder=folder, data=data, filename=filename)


def file_path(session: Session, file_id: int, *, folder: Path) -> tuple[KnowledgeFile, Path]:
    """An article's file and where it is kept; NotFound when either is missing."""
    found = session.get(KnowledgeFile, file_id) if 0 < file_id <= MAX_INT else None
    path = attachments.stored_file(folder, found.stored_name) if found is not None else None
    if found is None or path is None:
        raise NotFound(_l("no knowledge file with id %(id)s", id=file_id))
    return found, path


def file_read(row: KnowledgeFile) -> dict[str, Any]:
    """A file in the shape of the API's KnowledgeFileRead."""
    return {"id": row.id, "article_id": row.article_id, "filename": row.filename, "content_type": row.content_type,
            "size": row.size, "sha256": row.sha256, "inline": attachments.is_inline_image(row.content_type),
            "at": row.at.isoformat()}


def article_read(session: Session, article: KnowledgeArticle, *, files: bool = False) -> dict[str, Any]:
    """An article in the shape of the API's KnowledgeRead (with its files when asked)."""
    out: dict[str, Any] = {
        "id": article.id, "product_family": article.product_family, "symptom": article.symptom,
        "title": article.title, "body": article.body, "version": article.version, "successes": article.successes,
        "active": article.active, "created_at": article.created_at.isoformat(),
        "updated_at": article.updated_at.isoformat()}
    if files:
        out["files"] = [file_read(f) for f in list_files(session, article.id)]
    return out


def version_read(row: KnowledgeVersion) -> dict[str, Any]:
    """A saved version in the shape of the API's KnowledgeVersionRead."""
    return {"article_id": row.article_id, "version": row.version, "title": row.title, "body": row.body,
            "author": row.author, "at": row.at.isoformat()}


def claim_family(session: Session, claim: Claim) -> str:
    """The product family of the claim's unit ("" when its product has none)."""
    return session.scalar(select(Product.family).join(Unit, Unit.product_id == Product.id)
                          .where(Unit.id == claim.unit_id)) or ""


def suggestions(session: Session, claim_id: int, *, limit: int = SUGGESTIONS) -> list[dict[str, Any]]:
    """Active articles for the claim's product family and symptom (or for any), most successful first, then the
    ones keyed exactly before the ones for any, then the newest; each says whether it was marked for this claim."""
    claim = get_claim(session, claim_id)
    family = claim_family(session, claim)
    # How many of the two keys an article names (rather than leaving "any"): the more, the closer the match.
    exact = (case((KnowledgeArticle.product_family != "", 1), else_=0)
             + case((KnowledgeArticle.symptom != "", 1), else_=0))
    rows = session.scalars(
        select(KnowledgeArticle)
        .where(KnowledgeArticle.active.is_(True),
               KnowledgeArticle.product_family.in_({family, ""}), KnowledgeArticle.symptom.in_({claim.symptom, ""}))
        .order_by(KnowledgeArticle.successes.desc(), exact.desc(), KnowledgeArticle.created_at.desc(),
                  KnowledgeArticle.id.desc())
        .limit(limit)).all()
    marked = set(session.scalars(select(KnowledgeUse.article_id).where(KnowledgeUse.claim_id == claim.id)))
    return [{**article_read(session, a), "solved_here": a.id in marked} for a in rows]


def mark_solved(session: Session, *, claim_id: int, article_id: int, author: Author | None) -> KnowledgeArticle:
    """"This solved it": count the article once for the claim (a second mark is a 409), one more success, a
    timeline row on the claim. Flushes; the caller commits."""
    _ensure_role(author, SOLVERS)
    claim = get_claim(session, claim_id)
    article = get_article(session, article_id)
    if not article.active:
        raise Conflict(_l("article %(id)s is retired; restore it first", id=article.id),
                       details={"field": "article_id"})
    taken = _l("article %(id)s is already marked as a solution of claim %(number)s", id=article.id,
               number=claim.number)
    if session.scalar(select(KnowledgeUse.id).where(KnowledgeUse.article_id == article.id,
                                                    KnowledgeUse.claim_id == claim.id)) is not None:
        raise Conflict(taken, details={"field": "article_id"})
    try:
        # The unique article and claim settle a race with another mark: only one of them is counted.
        with session.begin_nested():
            session.add(KnowledgeUse(article_id=article.id, claim_id=claim.id, user_id=getattr(author, "id", None)))
    except IntegrityError as exc:
        raise integrity_to_conflict(exc, taken, details={"field": "article_id"}) from exc
    # In the database, not from the row read earlier: concurrent marks of other claims all count.
    session.execute(update(KnowledgeArticle).where(KnowledgeArticle.id == article.id)
                    .values(successes=KnowledgeArticle.successes + 1).execution_options(synchronize_session=False))
    session.add(ClaimEvent(claim_id=claim.id, kind="knowledge", reason=article.title, at=utcnow(),
                           **author_fields(author)))
    session.flush()
    session.refresh(article)
    return article
