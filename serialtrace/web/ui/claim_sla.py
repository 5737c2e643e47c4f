"""The claim page's "Stage and SLA" panel: the current stage and its owner, each clock's business time left in words
with its progress, the statutory deadline in calendar days, and the reassign and priority forms for those allowed."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import ngettext
from sqlalchemy import select

from ...accounts.enums import Role
from ...accounts.models import User
from ...warranty import sla, stages
from ...warranty.enums import STAGE_LABELS
from ...warranty.models import Claim, Team
from ..database import db
from ..i18n import _, lazy_gettext, tr

# Who changes a claim's priority: the roles stages.change_priority allows (admins always).
PRIORITY_SETTERS = (Role.COORDINATOR, Role.SUPERVISOR)
LEVELS = {1: lazy_gettext("1 — high"), 2: lazy_gettext("2 — medium"), 3: lazy_gettext("3 — low")}
CLOCK_KINDS = {"resolution": lazy_gettext("Resolution"), "stage": lazy_gettext("Stage")}
CLOCK_STATES = {"running": lazy_gettext("running"), "paused": lazy_gettext("paused (waiting outside)"),
                "stopped": lazy_gettext("stopped")}


def duration(seconds: float) -> str:
    """Business seconds as "3 h 10 min", "2 h", "45 min" or "less than a minute"."""
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(h)s h %(m)s min", h=hours, m=minutes)
    if hours:
        return _("%(h)s h", h=hours)
    return _("%(m)s min", m=minutes) if minutes else _("less than a minute")


def time_left(remaining: float) -> str:
    """"3 h 10 min left", or "overdue by 2 h" once the target is passed."""
    if remaining < 0:
        return _("overdue by %(time)s", time=duration(remaining))
    return _("%(time)s left", time=duration(remaining))


def days_left(remaining: float) -> str:
    """The statutory deadline's calendar days left, or overdue."""
    days = math.ceil(abs(remaining) / 86400)
    if remaining < 0:
        return ngettext("overdue by %(num)s calendar day", "overdue by %(num)s calendar days", days)
    return ngettext("%(num)s calendar day left", "%(num)s calendar days left", days)


def _clock(clock: dict[str, Any]) -> dict[str, Any]:
    name = tr(CLOCK_KINDS.get(clock["kind"], clock["kind"]))
    if clock["stage"]:
        name = f"{name}: {tr(STAGE_LABELS.get(clock['stage'], clock['stage']))}"
    return {**clock, "name": name, "state_text": tr(CLOCK_STATES.get(clock["state"], clock["state"])),
            "left": time_left(clock["remaining_seconds"]), "bar": max(0.0, min(clock["percent"], 100.0))}


def panel(claim: Claim, read: dict[str, Any], user: User) -> dict[str, Any]:
    """What the panel shows `user`: stage, owner, clocks, statutory deadline, and the forms the user may use."""
    stage = read["stage"]
    may_reassign = stages.may_reassign(db(), claim, user)
    may_prioritise = user.has_role(*PRIORITY_SETTERS)
    statutory = read["statutory"]
    return {
        "stage": tr(STAGE_LABELS.get(stage["stage"], stage["stage"])) if stage else None,
        "assignee": (stage or {}).get("assignee") or read["assignee"],
        "team": (stage or {}).get("team") or read["team"],
        "due_at": stage["due_at"] if stage else None,
        "clocks": [_clock(c) for c in read["clocks"]],
        "statutory": {**statutory, "left": days_left(statutory["remaining_seconds"])} if statutory else None,
        "may_reassign": may_reassign, "may_prioritise": may_prioritise,
        "users": ([(u.username, u.display_name or u.username) for u in
                   db().scalars(select(User).where(User.active.is_(True)).order_by(User.username))]
                  if may_reassign else []),
        "teams": (list(db().scalars(select(Team.name).where(Team.active.is_(True)).order_by(Team.name)))
                  if may_reassign else []),
        "levels": LEVELS, "priorities": [str(p) for p in sla.Priority],
        "impact": read["impact"], "urgency": read["urgency"],
    }
