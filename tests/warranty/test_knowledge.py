"""The knowledge base on both databases: versions never change, a stale edit is a 409, suggestions rank by
successes and exact keys, "this solved it" counts once per claim, files are checked like claim attachments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from serialtrace.columns import at_moment
from serialtrace.errors import Conflict, NotFound, PermissionDenied, TooLarge, UnsupportedType, ValidationError
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product
from serialtrace.warranty import knowledge, service
from serialtrace.warranty.models import ClaimEvent, KnowledgeArticle, KnowledgeFile, KnowledgeUse, KnowledgeVersion

from tests import images

TODAY = date(2025, 6, 2)
PNG = images.PNG
EXE = b"MZ\x90\x00" + b"\x00" * 64


@pytest.fixture
def claim(session, make_batch, who):
    """A claim about "no_power" on a unit of the "flow" family."""
    batch, serials = make_batch(quantity=2)
    session.get(Product, batch.product_id).family = "flow"
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:1],
                                  today=TODAY)
    return service.register_claim(session, serial=serials[0], symptom="no_power", author=who["warehouse"],
                                  today=TODAY).claim


def _write(session, who, title="Reseat the power connector", *, family="flow", symptom="no_power", role="engineer",
           at=None):
    with at_moment(at or datetime(2025, 6, 1, tzinfo=UTC)):
        return knowledge.create_article(session, title=title, body="1. Open\n2. Reseat", product_family=family,
                                        symptom=symptom, author=who[role])


def test_an_edit_is_a_new_version_and_old_versions_stay(session, claim, who):
    article = _write(session, who)
    knowledge.edit_article(session, article.id, title="Reseat and clean the connector", body="new text",
                           expected_version=1, author=who["coordinator"])
    assert (article.version, article.title, article.body) == (2, "Reseat and clean the connector", "new text")
    versions = knowledge.list_versions(session, article.id)
    assert [(v.version, v.title, v.body, v.author) for v in versions] == [
        (2, "Reseat and clean the connector", "new text", "coordinator"),
        (1, "Reseat the power connector", "1. Open\n2. Reseat", "engineer")]
    assert knowledge.get_version(session, article.id, 1).title == "Reseat the power connector"


def test_a_stale_edit_is_a_409_and_changes_nothing(session, claim, who):
    article = _write(session, who)
    knowledge.edit_article(session, article.id, title="Second", body="", expected_version=1, author=who["engineer"])
    with pytest.raises(Conflict) as stale:
        knowledge.edit_article(session, article.id, title="Third", body="", expected_version=1,
                               author=who["quality"])
    assert stale.value.details["field"] == "version" and stale.value.details["current"] == 2
    assert session.scalar(select(func.count()).select_from(KnowledgeVersion)) == 2
    assert article.title == "Second"


def test_the_same_text_again_is_no_new_version(session, claim, who):
    article = _write(session, who)
    knowledge.edit_article(session, article.id, title=article.title, body=article.body, expected_version=1,
                           author=who["engineer"])
    assert article.version == 1 and len(knowledge.list_versions(session, article.id)) == 1


@pytest.mark.parametrize(("fields", "field"), [
    ({"title": "  "}, "title"), ({"symptom": "smells_funny"}, "symptom"), ({"family": "toasters"}, "product_family"),
    ({"title": "x" * 201}, "title")])
def test_bad_input_is_a_422_naming_the_field(session, claim, who, fields, field):
    args = {"title": "Reseat", "family": "flow", "symptom": "no_power", **fields}
    with pytest.raises(ValidationError) as refused:
        _write(session, who, args.pop("title"), **args)
    assert refused.value.details["field"] == field
    assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 0


def test_roles_that_may_not_write_or_mark_get_403(session, claim, who):
    for role in ("warehouse", "production"):
        with pytest.raises(PermissionDenied):
            _write(session, who, role=role)
    article = _write(session, who, role="quality")
    for role in ("warehouse", "quality", "production"):
        with pytest.raises(PermissionDenied):
            knowledge.mark_solved(session, claim_id=claim.id, article_id=article.id, author=who[role])


def test_suggestions_rank_by_successes_then_exact_before_any_then_newest(session, claim, who):
    trace_service.add_product(session, sku="PU-1", name="Pump", family="pumps")
    start = datetime(2025, 5, 1, tzinfo=UTC)
    _write(session, who, "exact", at=start)
    _write(session, who, "any family", family="", at=start + timedelta(days=1))
    anything = _write(session, who, "anything", family="", symptom="", at=start + timedelta(days=2))
    _write(session, who, "newer exact", at=start + timedelta(days=3))
    _write(session, who, "other symptom", symptom="noise")
    _write(session, who, "other family", family="pumps")
    retired = _write(session, who, "retired")
    knowledge.set_active(session, retired.id, False, author=who["engineer"])
    ranked = [s["title"] for s in knowledge.suggestions(session, claim.id)]
    assert ranked == ["newer exact", "exact", "any family", "anything"]
    # A success outranks an exact key.
    session.execute(KnowledgeArticle.__table__.update().where(KnowledgeArticle.id == anything.id)
                    .values(successes=3))
    ranked = [s["title"] for s in knowledge.suggestions(session, claim.id)]
    assert ranked == ["anything", "newer exact", "exact", "any family"]


def test_marking_solved_counts_once_per_claim_with_a_timeline_row(session, claim, who):
    article = _write(session, who)
    knowledge.mark_solved(session, claim_id=claim.id, article_id=article.id, author=who["coordinator"])
    assert article.successes == 1
    with pytest.raises(Conflict) as again:
        knowledge.mark_solved(session, claim_id=claim.id, article_id=article.id, author=who["engineer"])
    assert again.value.details == {"field": "article_id"}
    session.refresh(article)
    assert article.successes == 1
    [event] = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id,
                                                       ClaimEvent.kind == "knowledge")).all()
    assert (event.reason, event.author) == ("Reseat the power connector", "coordinator")
    assert [s["solved_here"] for s in knowledge.suggestions(session, claim.id)] == [True]


def test_a_mark_racing_another_for_the_same_claim_is_a_409_counted_once(session, claim, who, monkeypatch):
    article = _write(session, who)
    # The other request's mark is in the database after this one looked: the unique article and claim answer.
    session.add(KnowledgeUse(article_id=article.id, claim_id=claim.id, user_id=who["engineer"].id))
    session.execute(KnowledgeArticle.__table__.update().values(successes=1))
    session.flush()
    real_scalar = session.scalar
    monkeypatch.setattr(session, "scalar", lambda stmt, *a, **k: None if "knowledge_use" in str(stmt)
                        else real_scalar(stmt, *a, **k))
    with pytest.raises(Conflict):
        knowledge.mark_solved(session, claim_id=claim.id, article_id=article.id, author=who["coordinator"])
    monkeypatch.undo()
    session.refresh(article)
    assert article.successes == 1
    assert session.scalar(select(func.count()).select_from(KnowledgeUse)) == 1
    assert session.scalar(select(func.count()).select_from(ClaimEvent).where(ClaimEvent.kind == "knowledge")) == 0


def test_a_retired_article_is_not_marked_and_unknown_ones_are_404(session, claim, who):
    article = _write(session, who)
    knowledge.set_active(session, article.id, False, author=who["engineer"])
    with pytest.raises(Conflict):
        knowledge.mark_solved(session, claim_id=claim.id, article_id=article.id, author=who["coordinator"])
    with pytest.raises(NotFound):
        knowledge.mark_solved(session, claim_id=claim.id, article_id=99999, author=who["coordinator"])


def test_files_are_checked_like_attachments(session, claim, who, tmp_path):
    article = _write(session, who)
    folder = tmp_path / "knowledge"
    kept = knowledge.add_file(session, article_id=article.id, filename="../wiring.png", data=PNG,
                              author=who["engineer"], folder=folder, max_bytes=1000)
    assert (kept.filename, kept.content_type, kept.size) == ("wiring.png", "image/png", len(PNG))
    assert knowledge.file_path(session, kept.id, folder=folder)[1].read_bytes() == PNG
    with pytest.raises(TooLarge):
        knowledge.add_file(session, article_id=article.id, filename="big.png", data=PNG * 20,
                           author=who["engineer"], folder=folder, max_bytes=1000)
    with pytest.raises(UnsupportedType):
        knowledge.add_file(session, article_id=article.id, filename="tool.png", data=EXE,
                           author=who["engineer"], folder=folder, max_bytes=1000)
    assert session.scalar(select(func.count()).select_from(KnowledgeFile)) == 1
    assert [p.name for p in folder.iterdir()] == [kept.stored_name]


def test_the_list_filters_by_family_symptom_and_words(session, claim, who):
    _write(session, who, "Reseat 100% of pins")
    _write(session, who, "Grease the bearing", symptom="noise")
    assert [a.title for a in knowledge.list_articles(session, symptom="noise")] == ["Grease the bearing"]
    assert [a.title for a in knowledge.list_articles(session, q="100%")] == ["Reseat 100% of pins"]
    assert [a.title for a in knowledge.list_articles(session, q="GREASE")] == ["Grease the bearing"]
    assert knowledge.list_articles(session, family="other") == []


def test_an_article_keeps_its_symptom_when_the_code_was_retired_since(session, claim, who):
    from serialtrace.warranty import codes

    article = _write(session, who, symptom="noise")
    codes.update_code(session, kind="symptom", code="noise", active=False)
    knowledge.edit_article(session, article.id, title="Grease", body="", product_family="flow", symptom="noise",
                           expected_version=1, author=who["engineer"])
    assert (article.version, article.symptom) == (2, "noise")
    with pytest.raises(ValidationError):
        knowledge.edit_article(session, article.id, title="Grease", body="", symptom="smells",
                               expected_version=2, author=who["engineer"])
