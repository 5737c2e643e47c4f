"""8D / CAPA records: open one (with links to claims, batches and component lots), work its steps D1-D8, close it.

Each function is one action and only flushes; the caller commits. A change to a record or its steps names the
version the person read: an edit made against an older version is a Conflict, so two people editing the same 8D
never overwrite each other silently. Steps are completed in order (D1 first, D8 last): each discipline builds on
the one before it, and a record closes only after D8.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts import queries as accounts_queries
from ..accounts.models import User
from ..columns import utcnow
from ..errors import Conflict, InvalidTransition, NotFound, ValidationError
from ..i18n import Message, _l
from ..trace.models import Batch, BatchInput, ComponentLot, Product, Unit
from ..trace.policy import MAX_INT
from ..trace.service import allocate_counter, ensure_text
from ..warranty.models import Claim
from . import queries
from .models import EightD, EightDLink, EightDStep

COUNTER = "eightd"
DISCIPLINES = ("D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8")
DISCIPLINE_LABELS: dict[str, Message] = {
    "D1": _l("Team"),
    "D2": _l("Problem description"),
    "D3": _l("Containment"),
    "D4": _l("Root cause"),
    "D5": _l("Corrective actions chosen"),
    "D6": _l("Corrective actions implemented and verified"),
    "D7": _l("Recurrence prevented"),
    "D8": _l("Closure and recognition"),
}
OPEN, CLOSED = "open", "closed"
STATE_LABELS: dict[str, Message] = {OPEN: _l("Open"), CLOSED: _l("Closed")}
LINK_KINDS = ("claim", "batch", "lot")
LINK_LABELS: dict[str, Message] = {"claim": _l("Claim"), "batch": _l("Batch"), "lot": _l("Component lot")}
# Step fields an edit may change.
STEP_FIELDS = ("owner", "due_on", "text")


def eightd_number(value: int) -> str:
    """The printed number of the counter's value: 8D-000042."""
    return f"8D-{value:06d}"


def get_eightd(session: Session, number: str) -> EightD:
    """The 8D with this number, or NotFound."""
    row = session.scalars(select(EightD).where(EightD.number == number)).first() if "\x00" not in number else None
    if row is None:
        raise NotFound(_l("no 8D %(number)r", number=number), details={"field": "number"})
    return row


def _target(session: Session, kind: str, ref: str | int) -> int:
    """The id of the claim, batch or component lot `ref` names: an id (int) or its number; unknown is a 422."""
    if kind not in LINK_KINDS:
        raise ValidationError(_l("a link's kind is claim, batch or lot, not %(kind)r", kind=kind),
                              details={"field": "kind"})
    model: Any = {"claim": Claim, "batch": Batch, "lot": ComponentLot}[kind]
    if isinstance(ref, int):
        found = [ref] if 0 < ref <= MAX_INT and session.get(model, ref) is not None else []
    else:
        ref = ref.strip()
        column = {"claim": Claim.number, "batch": Batch.number, "lot": ComponentLot.lot_number}[kind]
        found = list(session.scalars(select(model.id).where(column == ref).limit(2))) if "\x00" not in ref else []
    if not found:
        raise ValidationError(_l("no %(kind)s %(ref)r to link", kind=kind, ref=ref), details={"field": kind})
    if len(found) > 1:
        raise ValidationError(_l("more than one %(kind)s is numbered %(ref)r: link it from its own page",
                                 kind=kind, ref=ref), details={"field": kind})
    return int(found[0])


def _bump(session: Session, row: EightD, version: int | None) -> None:
    """Raise the version; when the caller names the version it read and another change came first, a Conflict."""
    if row.state != OPEN:
        raise InvalidTransition(_l("8D %(number)s is closed: it can no longer be changed", number=row.number))
    stmt = update(EightD).where(EightD.id == row.id)
    if version is not None:
        stmt = stmt.where(EightD.version == version)
    # One conditional UPDATE: of two edits naming the same version, exactly one wins.
    done = session.execute(stmt.values(version=EightD.version + 1).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(row)
        raise Conflict(_l("8D %(number)s was changed by someone else (now version %(now)s, you read %(read)s): "
                          "reload it and make your change again", number=row.number, now=row.version,
                          read=version), details={"field": "version", "version": row.version})
    session.refresh(row)


def _link(session: Session, row: EightD, kind: str, target_id: int, author: User | None) -> bool:
    """Link the target unless it already is; True when a link was made."""
    exists = session.scalar(select(EightDLink.id).where(EightDLink.eight_d_id == row.id, EightDLink.kind == kind,
                                                        EightDLink.target_id == target_id))
    if exists is not None:
        return False
    session.add(EightDLink(eight_d_id=row.id, kind=kind, target_id=target_id,
                           created_by=getattr(author, "username", "") or "system"))
    session.flush()
    return True


def open_eightd(session: Session, *, title: str, claims: tuple[str | int, ...] | list = (),
                batches: tuple[str | int, ...] | list = (), lots: tuple[str | int, ...] | list = (),
                author: User | None) -> EightD:
    """A new open 8D with its eight empty steps and its links (a target named twice is linked once)."""
    title = ensure_text(title, field="title", column=EightD.__table__.c.title, required=True, what="title")
    targets = [(kind, _target(session, kind, ref))
               for kind, refs in (("claim", claims), ("batch", batches), ("lot", lots)) for ref in refs]
    number = eightd_number(allocate_counter(session, key=COUNTER, count=1) + 1)
    row = EightD(number=number, title=title, created_by=getattr(author, "username", "") or "system")
    session.add(row)
    session.flush()
    session.add_all(EightDStep(eight_d_id=row.id, discipline=d) for d in DISCIPLINES)
    for kind, target_id in targets:
        _link(session, row, kind, target_id, author)
    session.flush()
    return row


def steps(session: Session, row: EightD) -> list[EightDStep]:
    """The record's steps D1-D8 in order."""
    return list(session.scalars(select(EightDStep).where(EightDStep.eight_d_id == row.id)
                                .order_by(EightDStep.discipline)))


def _step(session: Session, row: EightD, discipline: str) -> EightDStep:
    discipline = discipline.upper()
    found = session.scalar(select(EightDStep).where(EightDStep.eight_d_id == row.id,
                                                   EightDStep.discipline == discipline))
    if found is None:
        raise NotFound(_l("no step %(discipline)r: the steps are D1 to D8", discipline=discipline),
                       details={"field": "discipline"})
    return found


def _owner(session: Session, username: str | None) -> int | None:
    """The id of the active user named, None for nobody; anyone else is a 422 naming owner."""
    if not username or not username.strip():
        return None
    user = accounts_queries.find_user(session, username.strip()) if "\x00" not in username else None
    if user is None or not user.active:
        raise ValidationError(_l("the owner must be an active user, not %(username)r", username=username),
                              details={"field": "owner"})
    return user.id


def edit_step(session: Session, row: EightD, discipline: str, *, version: int, changes: dict[str, Any]) -> EightDStep:
    """Change a step's owner (a username, empty for nobody), due date and text; only the keys in `changes`.

    A completed step keeps what it was completed with: change it, and the record would say something else than
    what was signed off.
    """
    step = _step(session, row, discipline)
    unknown = set(changes) - set(STEP_FIELDS)
    if unknown:
        raise ValidationError(_l("a step has no field %(field)s", field=sorted(unknown)[0]),
                              details={"field": sorted(unknown)[0]})
    if step.done_at is not None:
        raise InvalidTransition(_l("step %(discipline)s is completed and can no longer be changed",
                                   discipline=step.discipline), details={"field": "discipline"})
    values: dict[str, Any] = {}
    if "owner" in changes:
        values["owner_id"] = _owner(session, changes["owner"])
    if "due_on" in changes:
        due = changes["due_on"]
        if due is not None and not isinstance(due, date):
            raise ValidationError(_l("the due date must be a date (YYYY-MM-DD)"), details={"field": "due_on"})
        values["due_on"] = due
    if "text" in changes:
        values["text"] = ensure_text(changes["text"], field="text", column=EightDStep.__table__.c.text, what="text")
    _bump(session, row, version)
    for key, value in values.items():
        setattr(step, key, value)
    session.flush()
    return step


def complete_step(session: Session, row: EightD, discipline: str, *, version: int,
                  now: datetime | None = None) -> EightDStep:
    """Mark a step done: it needs its text and an owner, and every earlier step must be done first."""
    step = _step(session, row, discipline)
    if step.done_at is not None:
        raise InvalidTransition(_l("step %(discipline)s is already completed", discipline=step.discipline),
                                details={"field": "discipline"})
    if not step.text.strip():
        raise ValidationError(_l("write what step %(discipline)s found or did before completing it",
                                 discipline=step.discipline), details={"field": "text"})
    if step.owner_id is None:
        raise ValidationError(_l("give step %(discipline)s an owner before completing it",
                                 discipline=step.discipline), details={"field": "owner"})
    waiting = [s.discipline for s in steps(session, row) if s.discipline < step.discipline and s.done_at is None]
    if waiting:
        raise InvalidTransition(_l("complete %(waiting)s before %(discipline)s: the steps are completed in order",
                                   waiting=", ".join(waiting), discipline=step.discipline),
                                details={"field": "discipline"})
    _bump(session, row, version)
    step.done_at = now or utcnow()
    session.flush()
    return step


def close_eightd(session: Session, row: EightD, *, version: int | None = None,
                 now: datetime | None = None) -> EightD:
    """Close the record; only once D8 is completed (which needs D1-D7 before it)."""
    if row.state != OPEN:
        raise InvalidTransition(_l("8D %(number)s is already closed", number=row.number))
    last = _step(session, row, DISCIPLINES[-1])
    if last.done_at is None:
        raise InvalidTransition(_l("complete D8 before closing 8D %(number)s", number=row.number),
                                details={"field": "D8"})
    _bump(session, row, version)
    row.state, row.closed_at = CLOSED, now or utcnow()
    session.flush()
    return row


def add_link(session: Session, row: EightD, *, kind: str, ref: str | int, author: User | None,
             version: int | None = None) -> bool:
    """Link a claim, batch or component lot; True when linked now, False when it already was (nothing changed)."""
    target_id = _target(session, kind, ref)
    exists = session.scalar(select(EightDLink.id).where(EightDLink.eight_d_id == row.id, EightDLink.kind == kind,
                                                        EightDLink.target_id == target_id))
    if exists is not None:
        return False
    _bump(session, row, version)
    return _link(session, row, kind, target_id, author)


def remove_link(session: Session, row: EightD, *, kind: str, ref: str | int, version: int | None = None) -> None:
    """Take a link off; a target that is not linked is NotFound."""
    target_id = _target(session, kind, ref)
    link = session.scalar(select(EightDLink).where(EightDLink.eight_d_id == row.id, EightDLink.kind == kind,
                                                   EightDLink.target_id == target_id))
    if link is None:
        raise NotFound(_l("%(kind)s %(ref)r is not linked to 8D %(number)s", kind=kind, ref=ref, number=row.number),
                       details={"field": kind})
    _bump(session, row, version)
    session.delete(link)
    session.flush()


def find_open_for(session: Session, *, kind: str, target_id: int) -> EightD | None:
    """The oldest open 8D linked to the target, or None."""
    return session.scalars(select(EightD).join(EightDLink, EightDLink.eight_d_id == EightD.id)
                           .where(EightDLink.kind == kind, EightDLink.target_id == target_id, EightD.state == OPEN)
                           .order_by(EightD.id)).first()


def _batch_ids(session: Session, kind: str, target_id: int) -> list[int]:
    if kind == "batch":
        return [target_id]
    return list(session.scalars(select(BatchInput.batch_id).where(BatchInput.component_lot_id == target_id)))


def counted_claims(session: Session, *, kind: str, target_id: int) -> list[int]:
    """The ids of the claims the dashboard counts against the batch or lot (past draft, not cancelled)."""
    batch_ids = _batch_ids(session, kind, target_id)
    if not batch_ids:
        return []
    return list(session.scalars(select(Claim.id).join(Unit, Unit.id == Claim.unit_id)
                                .where(Unit.batch_id.in_(batch_ids), Claim.state.not_in(queries.NOT_COUNTED))
                                .order_by(Claim.id)))


def flagged_title(session: Session, *, kind: str, target_id: int, q: float = 0.05, min_units: int = 30,
                  min_claims: int = 3) -> Message:
    """A title from the dashboard's row: "Batch X: claim rate 4.2 % (flagged)"; unknown target is a 422."""
    if kind not in ("batch", "lot"):
        raise ValidationError(_l("an 8D opens from a batch or a component lot, not %(kind)r", kind=kind),
                              details={"field": "kind"})
    target_id = _target(session, kind, target_id)
    report = (queries.batch_report if kind == "batch" else queries.lot_report)(
        session, q=q, min_units=min_units, min_claims=min_claims)
    key = "batch_id" if kind == "batch" else "lot_id"
    row = next((r for r in report.rows if r[key] == target_id), None)
    if kind == "batch":
        batch = session.get(Batch, target_id)
        sku = session.scalar(select(Product.sku).where(Product.id == batch.product_id)) if batch else ""
        name: Any = _l("Batch %(number)s (%(sku)s)", number=batch.number if batch else "", sku=sku)
    else:
        lot = session.get(ComponentLot, target_id)
        name = _l("Component lot %(number)s (%(supplier)s, %(part)s)", number=lot.lot_number if lot else "",
                  supplier=lot.supplier if lot else "", part=lot.part if lot else "")
    if row is None:
        return _l("%(name)s: no shipped units", name=name)
    rate = f"{row['rate'] * 100:.1f}"
    if row["flagged"]:
        return _l("%(name)s: claim rate %(rate)s %% (flagged)", name=name, rate=rate)
    return _l("%(name)s: claim rate %(rate)s %%", name=name, rate=rate)


def open_from_row(session: Session, *, kind: str, target_id: int, title: str,
                  author: User | None) -> tuple[EightD, bool]:
    """The open 8D already linked to the batch or lot, else a new one linked to it and its counted claims.

    Returns the record and whether it was made now, so a second click lands on the first click's record.
    """
    target_id = _target(session, kind, target_id)
    found = find_open_for(session, kind=kind, target_id=target_id)
    if found is not None:
        return found, False
    claims = counted_claims(session, kind=kind, target_id=target_id)
    row = open_eightd(session, title=title, author=author, claims=claims,
                      **{"batches" if kind == "batch" else "lots": [target_id]})
    return row, True


def is_overdue(step: EightDStep, today: date) -> bool:
    """True when the step is not done and its due date has passed."""
    return step.done_at is None and step.due_on is not None and step.due_on < today


def list_eightds(session: Session, *, today: date, state: str = "", overdue: bool = False, q: str = "",
                 limit: int = 500) -> list[dict[str, Any]]:
    """The records, open first then newest first, with their progress and overdue steps; filtered on request."""
    if state and state not in STATE_LABELS:
        raise ValidationError(_l("state is open or closed, not %(state)r", state=state), details={"field": "state"})
    stmt = select(EightD)
    if state:
        stmt = stmt.where(EightD.state == state)
    q = q.strip()
    if q:
        if "\x00" in q:
            raise ValidationError(_l("q must not contain NUL characters"), details={"field": "q"})
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(EightD.number).like(pattern, escape="\\")
                          | func.lower(EightD.title).like(pattern, escape="\\"))
    rows = list(session.scalars(stmt.order_by((EightD.state == OPEN).desc(), EightD.id.desc()).limit(limit)))
    by_record: dict[int, list[EightDStep]] = {}
    if rows:
        for step in session.scalars(select(EightDStep).where(EightDStep.eight_d_id.in_([r.id for r in rows]))
                                    .order_by(EightDStep.discipline)):
            by_record.setdefault(step.eight_d_id, []).append(step)
    out = []
    for row in rows:
        record_steps = by_record.get(row.id, [])
        late = [s.discipline for s in record_steps if row.state == OPEN and is_overdue(s, today)]
        if overdue and not late:
            continue
        current = next((s for s in record_steps if s.done_at is None), None)
        out.append({"number": row.number, "title": row.title, "state": row.state, "version": row.version,
                    "created_at": row.created_at, "created_by": row.created_by, "closed_at": row.closed_at,
                    "done": sum(1 for s in record_steps if s.done_at is not None),
                    "current": current.discipline if current else None,
                    "current_due": current.due_on if current else None, "overdue": late})
    return out


def link_rows(session: Session, row: EightD) -> list[dict[str, Any]]:
    """The record's links with what names them: claim number, batch number and product, lot number and supplier."""
    links = list(session.scalars(select(EightDLink).where(EightDLink.eight_d_id == row.id)
                                 .order_by(EightDLink.kind, EightDLink.id)))
    out = []
    for link in links:
        entry: dict[str, Any] = {"kind": link.kind, "id": link.target_id, "label": "", "sku": None}
        if link.kind == "claim":
            claim = session.get(Claim, link.target_id)
            entry["label"] = claim.number if claim else f"#{link.target_id}"
        elif link.kind == "batch":
            batch = session.get(Batch, link.target_id)
            if batch is not None:
                entry["label"] = batch.number
                entry["sku"] = session.scalar(select(Product.sku).where(Product.id == batch.product_id))
        else:
            lot = session.get(ComponentLot, link.target_id)
            if lot is not None:
                entry["label"] = lot.lot_number
                entry["supplier"], entry["part"] = lot.supplier, lot.part
        out.append(entry)
    return out


def step_rows(session: Session, row: EightD, *, today: date) -> list[dict[str, Any]]:
    """The steps with their owner's username and whether they are overdue."""
    record_steps = steps(session, row)
    owners = {u.id: u.username for u in session.scalars(select(User).where(
        User.id.in_([s.owner_id for s in record_steps if s.owner_id is not None])))}
    return [{"discipline": s.discipline, "owner": owners.get(s.owner_id) if s.owner_id else None,
             "due_on": s.due_on, "text": s.text, "done_at": s.done_at,
             "overdue": row.state == OPEN and is_overdue(s, today)} for s in record_steps]


def linked_to(session: Session, *, kind: str, target_ids: list[int]) -> list[EightD]:
    """The 8Ds linked to any of the targets, open first then newest first."""
    if not target_ids:
        return []
    linked = select(EightDLink.eight_d_id).where(EightDLink.kind == kind, EightDLink.target_id.in_(target_ids))
    return list(session.scalars(select(EightD).where(EightD.id.in_(linked))
                                .order_by((EightD.state == OPEN).desc(), EightD.id.desc())))
