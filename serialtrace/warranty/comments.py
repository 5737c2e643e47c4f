"""Comments on a claim: internal notes for staff, or words meant for the customer. Never edited."""

from __future__ import annotations

from sqlalchemy import Column, String
from sqlalchemy.orm import Session

from ..accounts.enums import Role
from ..errors import PermissionDenied, ValidationError
from ..i18n import _l
from ..trace.service import Author, author_fields, ensure_text
from .models import Comment
from .service import get_claim

VISIBILITIES = ("internal", "customer")
# Longest comment body; the column is unbounded text, this is the rule every caller (API, page) gets.
BODY_MAX = 4000
_BODY = Column("body", String(BODY_MAX))
# Everyone who works claims; production reads them but does not take part.
COMMENTERS = frozenset({Role.WAREHOUSE, Role.COORDINATOR, Role.ENGINEER, Role.QUALITY, Role.SUPERVISOR, Role.ADMIN})


def ensure_claim_staff(author: Author | None, roles: frozenset[Role] = COMMENTERS) -> None:
    """403 naming the roles unless `author` (None: the system) holds one of `roles`."""
    role = getattr(author, "role", None) if author is not None else None
    if role is not None and role not in roles:
        allowed = [str(r) for r in Role if r in roles]
        raise PermissionDenied(_l("the %(role)s role may not add to a claim (roles that may: %(roles)s)", role=role,
                                  roles=", ".join(allowed)), details={"role": role, "roles": allowed})


def add_comment(session: Session, *, claim_id: int, body: str, visibility: str = "internal",
                author: Author | None) -> Comment:
    """Add a comment to a claim: `body` required and at most BODY_MAX characters, `visibility` internal or
    customer (422 naming the field otherwise). Flushes; the caller commits."""
    text = ensure_text(body, field="body", column=_BODY, required=True)
    if visibility not in VISIBILITIES:
        raise ValidationError(_l("visibility must be internal or customer, not %(value)r", value=visibility),
                              details={"field": "visibility"})
    ensure_claim_staff(author)
    claim = get_claim(session, claim_id)
    comment = Comment(claim_id=claim.id, body=text, visibility=visibility, **author_fields(author))
    session.add(comment)
    session.flush()
    return comment
