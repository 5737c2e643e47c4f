"""Knowledge base pages: the list with its filters, writing an article, one article with its files, versions and the
edit form (saved from the version shown, refused when someone saved since), and "this solved it" on a claim."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ...errors import DomainError, ValidationError
from ...warranty import codes, knowledge
from ...warranty.enums import FailureList
from ...warranty.models import Claim, KnowledgeArticle
from ..auth import current_user, requires, requires_page
from ..database import commit, db
from ..i18n import _, tr
from .common import bp, settings, user_text

FIELDS = ("title", "body", "product_family", "symptom")
# The service's roles for the page's forms, admins left out: they pass every @requires anyway.
WRITERS = tuple(str(r) for r in knowledge.WRITERS if r != "admin")
SOLVERS = tuple(str(r) for r in knowledge.SOLVERS if r != "admin")


def folder() -> Path:
    """Where the articles' files are kept, as for the API."""
    return Path(settings().instance_dir) / knowledge.FOLDER


def _symptoms() -> list[tuple[str, str]]:
    """(code, name) of the active symptom codes, in list order."""
    return [(c.code, str(tr(codes.code_name(FailureList.SYMPTOM, c.code, c.name))))
            for c in codes.list_codes(db(), FailureList.SYMPTOM)]


def _symptom_names() -> dict[str, str]:
    """Every symptom code (retired too) with its name, for showing an article's key."""
    return {c.code: str(tr(codes.code_name(FailureList.SYMPTOM, c.code, c.name)))
            for c in codes.list_codes(db(), FailureList.SYMPTOM, active_only=False)}


def _typed() -> dict[str, str]:
    """The article form's fields as sent (NUL refused naming the field)."""
    return {name: user_text(request.form.get(name, ""), name) for name in FIELDS}


def _may_write() -> bool:
    return current_user().has_role(*WRITERS)


def _refusal(exc: DomainError) -> dict[str, Any]:
    """A refusal's message and field for the page that shows it again; the transaction is rolled back first."""
    db().rollback()
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    return {"error": exc.message, "error_field": field}


@bp.get("/knowledge")
@requires_page("pages.knowledge_list")
def knowledge_list():
    """Articles by successes, filtered by family, symptom and words; retired ones on request."""
    form = {name: user_text(request.args.get(name, "").strip(), name) for name in ("family", "symptom", "q")}
    retired = request.args.get("retired") == "1"
    rows = knowledge.list_articles(db(), family=form["family"], symptom=form["symptom"], q=form["q"],
                                   include_retired=retired)
    return render_template("knowledge.html", rows=rows, form=form, retired=retired, families=knowledge.families(db()),
                           symptoms=_symptoms(), symptom_names=_symptom_names(), may_write=_may_write())


def _new_page(status: int = 200, **extra: Any):
    page = {"typed": dict.fromkeys(FIELDS, ""), "error": None, "error_field": None, **extra}
    return render_template("knowledge_new.html", families=knowledge.families(db()), symptoms=_symptoms(),
                           **page), status


@bp.route("/knowledge/new", methods=["GET", "POST"])
@requires(*WRITERS)
def knowledge_new():
    """Write an article: title, family (or any), symptom (or any), the solution's text."""
    if request.method == "GET":
        return _new_page()
    typed = _typed()
    try:
        article = knowledge.create_article(db(), title=typed["title"], body=typed["body"],
                                           product_family=typed["product_family"], symptom=typed["symptom"],
                                           author=current_user())
        article_id = article.id
        commit()
    except DomainError as exc:
        return _new_page(exc.status_code, typed=typed, **_refusal(exc))
    flash(_("article saved"), "ok")
    return redirect(url_for("pages.knowledge_article", article_id=article_id))


def _article_page(article_id: int, status: int = 200, **extra: Any):
    """The article: current text, key, successes, files, versions, and the writers' forms."""
    article = knowledge.get_article(db(), article_id)
    page = {"typed": {"title": article.title, "body": article.body, "product_family": article.product_family,
                      "symptom": article.symptom, "version": str(article.version)},
            "error": None, "error_field": None, "error_form": None, **extra}
    return render_template("knowledge_article.html", article=article,
                           files=[knowledge.file_read(f) for f in knowledge.list_files(db(), article.id)],
                           versions=knowledge.list_versions(db(), article.id), families=knowledge.families(db()),
                           symptoms=_symptoms(), symptom_names=_symptom_names(), may_write=_may_write(),
                           **page), status


@bp.get("/knowledge/<int:article_id>")
@requires_page("pages.knowledge_list")
def knowledge_article(article_id: int):
    """One article with its files and versions."""
    return _article_page(article_id)


def _version_number(raw: str) -> int:
    """The version the edit form was opened at; anything but a whole number is a 422 naming it."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ValidationError(_("field %(name)s must be a whole number", name="version"), details={"field": "version"})
    return int(raw)


@bp.post("/knowledge/<int:article_id>/edit")
@requires(*WRITERS)
def knowledge_edit(article_id: int):
    """Save the next version from the one the form was opened at; someone else's save since is refused in place."""
    typed = {**_typed(), "version": request.form.get("version", "")}
    try:
        knowledge.edit_article(db(), article_id, title=typed["title"], body=typed["body"],
                               product_family=typed["product_family"], symptom=typed["symptom"],
                               expected_version=_version_number(typed["version"]), author=current_user())
        commit()
    except DomainError as exc:
        return _article_page(article_id, exc.status_code, typed=typed, error_form="edit", **_refusal(exc))
    flash(_("article saved"), "ok")
    return redirect(url_for("pages.knowledge_article", article_id=article_id))


@bp.post("/knowledge/<int:article_id>/active")
@requires(*WRITERS)
def knowledge_active(article_id: int):
    """Retire the article (no longer suggested) or restore it."""
    active = request.form.get("active") == "1"
    try:
        knowledge.set_active(db(), article_id, active, author=current_user())
        commit()
    except DomainError as exc:
        return _article_page(article_id, exc.status_code, error_form="active", **_refusal(exc))
    flash(_("article restored") if active else _("article retired"), "ok")
    return redirect(url_for("pages.knowledge_article", article_id=article_id))


@bp.post("/knowledge/<int:article_id>/files")
@requires(*WRITERS)
def knowledge_files(article_id: int):
    """Add the chosen files to the article, each checked by size and content; one refused and none is kept."""
    try:
        uploads = [u for u in request.files.getlist("files") if u and u.filename]
        if not uploads:
            raise ValidationError(_("choose a file to add"), details={"field": "file"})
        limit = settings().attachment_max_bytes
        for upload in uploads:
            knowledge.add_file(db(), article_id=article_id, filename=upload.filename, data=upload.read(limit + 1),
                               author=current_user(), folder=folder(), max_bytes=limit)
        commit()
    except DomainError as exc:
        return _article_page(article_id, exc.status_code, error_form="files", **_refusal(exc))
    flash(_("%(n)s files added", n=len(uploads)), "ok")
    return redirect(url_for("pages.knowledge_article", article_id=article_id, _anchor="files"))


@bp.get("/knowledge/<int:article_id>/versions/<int:version>")
@requires_page("pages.knowledge_list")
def knowledge_version(article_id: int, version: int):
    """One saved version of the article, as it was."""
    article = knowledge.get_article(db(), article_id)
    return render_template("knowledge_version.html", article=article,
                           saved=knowledge.get_version(db(), article_id, version))


# On the claim page ------------------------------------------------------------------------------------------------

def claim_panel(read: dict[str, Any]) -> dict[str, Any]:
    """What the claim page's "Suggested solutions" shows: the top articles while the claim is in triage, and
    whether the reader may mark one."""
    if read["state"] not in knowledge.SUGGESTING:
        return {"shown": False, "articles": [], "may_mark": False}
    return {"shown": True, "articles": knowledge.suggestions(db(), read["id"]),
            "may_mark": current_user().has_role(*SOLVERS)}


@bp.post("/knowledge/<int:article_id>/solved")
@requires(*SOLVERS)
def knowledge_solved(article_id: int):
    """"This solved it" from a claim's page: counted once for the claim; a refusal is shown on the claim page."""
    raw = request.form.get("claim_id", "")
    claim_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
    claim = db().get(Claim, claim_id) if claim_id else None
    if claim is None:
        raise ValidationError(_("field %(name)s must name a claim", name="claim_id"), details={"field": "claim_id"})
    number = claim.number
    try:
        article: KnowledgeArticle = knowledge.mark_solved(db(), claim_id=claim_id, article_id=article_id,
                                                          author=current_user())
        title = article.title
        commit()
    except DomainError as exc:
        db().rollback()
        flash(str(tr(exc.message)), "error")
        return redirect(url_for("pages.claim", ref=number, _anchor="knowledge"))
    flash(_("marked as the solution: %(title)s", title=title), "ok")
    return redirect(url_for("pages.claim", ref=number, _anchor="knowledge"))
