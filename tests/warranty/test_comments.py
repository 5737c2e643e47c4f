"""Comments on a claim: internal or for the customer, body required and bounded, never edited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from serialtrace.errors import NotFound, PermissionDenied, ValidationError
from serialtrace.warranty import comments
from serialtrace.warranty.models import Comment

from .tested_case import make_tested


@pytest.fixture
def claim(session, make_batch, who):
    return make_tested(session, make_batch, who["warehouse"]).claim


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Comment))


@pytest.mark.parametrize("visibility", ["internal", "customer"])
def test_a_comment_keeps_its_body_visibility_author_and_time(session, claim, who, visibility):
    comment = comments.add_comment(session, claim_id=claim.id, body="  Customer called again.  ",
                                   visibility=visibility, author=who["coordinator"])
    stored = session.get(Comment, comment.id)
    assert (stored.claim_id, stored.body, stored.visibility, stored.author, stored.author_id) == (
        claim.id, "Customer called again.", visibility, "coordinator", who["coordinator"].id)
    assert stored.at is not None


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"body": "   "}, "body", "body must not be empty"),
    ({"body": None}, "body", "body must not be empty"),
    ({"body": "x" * 4001}, "body", "body has at most 4000 characters, not 4001"),
    ({"body": "a\x00b"}, "body", "body must not contain NUL characters"),
    ({"body": "fine", "visibility": "public"}, "visibility", "visibility must be internal or customer, not 'public'"),
])
def test_bad_comments_are_422_naming_the_field_and_add_nothing(session, claim, who, kwargs, field, message):
    with pytest.raises(ValidationError) as exc:
        comments.add_comment(session, claim_id=claim.id, author=who["engineer"], **kwargs)
    assert (str(exc.value), exc.value.details) == (message, {"field": field})
    assert _count(session) == 0


def test_production_may_not_comment_and_unknown_claims_are_404(session, claim, who):
    with pytest.raises(PermissionDenied, match=r"the production role may not add to a claim \(roles that may: "
                                               r"warehouse, coordinator, engineer, quality, supervisor, admin\)"):
        comments.add_comment(session, claim_id=claim.id, body="hi", author=who["production"])
    with pytest.raises(NotFound, match="no claim with id 999999"):
        comments.add_comment(session, claim_id=999999, body="hi", author=who["engineer"])
    assert _count(session) == 0
