"""One timeline per claim, in order, with authors: state changes and case steps, comments, tests, replacements,
attachments and dispositions, read from their own tables; and the part of it the customer may see."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..accounts.models import User
from ..trace.models import Unit
from .models import Attachment, ClaimEvent, Comment, DispositionRecord, Replacement, TestRecord, UnitCase

# Timeline rows the customer may see: the claim's own states, the replacement sent to them and the comments written
# for them. Case steps, tests, dispositions and files are the workshop's.
CUSTOMER_KINDS = frozenset({"state_change", "replacement"})
_RETURNED, _HANDED = aliased(Unit), aliased(Unit)
_PROPOSER, _DECIDER, _EXECUTOR = aliased(User), aliased(User), aliased(User)


def _entry(kind: str, at: datetime, author: str | None, *, visibility: str = "internal", reason: str = "",
           from_state: str | None = None, to_state: str | None = None, **extra: Any) -> dict[str, Any]:
    """A timeline entry: the keys every entry has, then the kind's own."""
    return {"kind": kind, "from": from_state, "to": to_state, "reason": reason, "author": author or "system",
            "at": at, "visibility": visibility, **extra}


def _events(session: Session, claim_id: int) -> Iterable[dict[str, Any]]:
    # A test's own claim_event row says what the record already says (verdict, engineer, what it corrects): the
    # timeline shows the record once, from its table.
    for e in session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id, ClaimEvent.kind != "test")
                             .order_by(ClaimEvent.id)):
        yield _entry(e.kind, e.at, e.author, reason=e.reason, from_state=e.from_state, to_state=e.to_state,
                     visibility="customer" if e.kind in CUSTOMER_KINDS else "internal")


def _comments(session: Session, claim_id: int) -> Iterable[dict[str, Any]]:
    for c in session.scalars(select(Comment).where(Comment.claim_id == claim_id).order_by(Comment.id)):
        yield _entry("comment", c.at, c.author, visibility=c.visibility, comment_id=c.id, body=c.body)


def _tests(session: Session, claim_id: int) -> Iterable[dict[str, Any]]:
    rows = session.execute(select(TestRecord, User.username).outerjoin(User, User.id == TestRecord.engineer_id)
                           .where(TestRecord.claim_id == claim_id).order_by(TestRecord.id))
    for t, engineer in rows:
        yield _entry("test_record", t.tested_at, engineer, reason=t.notes, record_id=t.id, case_id=t.case_id,
                     verdict=t.verdict, engineer=engineer, failure_mode=t.failure_mode, root_cause=t.root_cause,
                     supersedes_id=t.supersedes_id)


def _replacements(session: Session, claim_id: int) -> Iterable[dict[str, Any]]:
    rows = session.execute(
        select(Replacement.created_at, _RETURNED.serial.label("returned"), _HANDED.serial.label("handed"),
               User.username)
        .join(_RETURNED, _RETURNED.id == Replacement.returned_unit_id)
        .join(_HANDED, _HANDED.id == Replacement.replacement_unit_id)
        .outerjoin(User, User.id == Replacement.author_id)
        .where(Replacement.claim_id == claim_id).order_by(Replacement.id))
    for r in rows:
        yield _entry("replacement", r.created_at, r.username, visibility="customer", returned_serial=r.returned,
                     replacement_serial=r.handed)


def _attachments(session: Session, claim_id: int) -> Iterable[dict[str, Any]]:
    for a in session.scalars(select(Attachment).where(Attachment.claim_id == claim_id).order_by(Attachment.id)):
        yield _entry("attachment", a.at, a.author, attachment_id=a.id, filename=a.filename,
                     content_type=a.content_type, size=a.size, case_id=a.case_id, test_record_id=a.test_record_id)


def _dispositions(session: Session, claim_id: int) -> Iterable[dict[str, Any]]:
    rows = session.execute(
        select(DispositionRecord, _PROPOSER.username.label("proposer"), _DECIDER.username.label("decider"),
               _EXECUTOR.username.label("executor"))
        .join(UnitCase, UnitCase.id == DispositionRecord.case_id)
        .outerjoin(_PROPOSER, _PROPOSER.id == DispositionRecord.proposed_by_id)
        .outerjoin(_DECIDER, _DECIDER.id == DispositionRecord.decided_by_id)
        .outerjoin(_EXECUTOR, _EXECUTOR.id == DispositionRecord.executed_by_id)
        .where(UnitCase.claim_id == claim_id).order_by(DispositionRecord.id))
    for d, proposer, decider, executor in rows:
        common = {"disposition_id": d.id, "disposition": d.kind, "case_id": d.case_id,
                  "value": str(d.value) if d.value is not None else None, "needs_approval": d.needs_approval}
        yield _entry("disposition", d.proposed_at, proposer, reason=d.notes, action="proposed", **common)
        if d.decided_at is not None:
            yield _entry("disposition", d.decided_at, decider, reason=d.decision_reason,
                         action="rejected" if d.state == "rejected" else "approved", **common)
        if d.executed_at is not None:
            yield _entry("disposition", d.executed_at, executor, action="executed", **common)


_SOURCES = (_events, _dispositions, _tests, _replacements, _comments, _attachments)


def _moment(at: datetime) -> datetime:
    # Rows read back and rows written in this session may differ in carrying their zone; all are UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def claim_timeline(session: Session, claim_id: int) -> list[dict[str, Any]]:
    """Everything that happened to the claim, oldest first, each with its author and `at` as ISO text: the claim's
    timeline rows (state changes, case steps, tests), then on equal times dispositions, test records, replacements,
    comments and attachments."""
    entries = [(_moment(e["at"]), rank, n, e) for rank, source in enumerate(_SOURCES)
               for n, e in enumerate(source(session, claim_id))]
    entries.sort(key=lambda item: item[:3])
    return [{**e, "at": e["at"].isoformat()} for _, _, _, e in entries]


def customer_visible(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries the customer may see: the claim's states, replacements and comments written for the customer."""
    return [e for e in entries if e["visibility"] == "customer"]
