"""Business calendars, teams and routing rules for setup scripts (admins only)."""

from __future__ import annotations

from dataclasses import replace

from flask import jsonify
from flask_openapi3 import Tag
from pydantic import BaseModel, Field

from ...accounts.enums import Role
from ...accounts.models import User
from ...errors import ValidationError
from ...warranty import teams
from ...warranty.models import BusinessCalendar, RoutingRule, Team
from ...warranty.team_schemas import (
    CalendarRead,
    CalendarsRead,
    CalendarWrite,
    RuleCreate,
    RuleRead,
    RulesRead,
    TeamCreate,
    TeamMemberChange,
    TeamRead,
    TeamsRead,
)
from ..auth import requires
from ..database import commit, db
from ..i18n import _
from . import bp, errors

TAG = Tag(name="setup", description="business calendars, teams and routing rules")
# Only admins (whom every check lets through): an empty role list would mean anyone.
ADMINS_ONLY = (Role.ADMIN,)


class IdPath(BaseModel):
    """A calendar, team or routing rule in the URL."""

    id: int = Field(description="its id")


def _calendar(row: BusinessCalendar) -> dict:
    return {"id": row.id, "name": row.name, "opens": row.opens.strftime("%H:%M"),
            "closes": row.closes.strftime("%H:%M"), "weekdays": row.weekdays, "country": row.country,
            "timezone": row.timezone, "holidays": row.holidays, "extra_days": row.extra_days,
            "is_default": row.is_default}


def _team(row: Team) -> dict:
    boss = db().get(User, row.supervisor_id) if row.supervisor_id else None
    cal = db().get(BusinessCalendar, row.calendar_id) if row.calendar_id else None
    return {"id": row.id, "name": row.name, "active": row.active, "supervisor": boss.username if boss else None,
            "calendar": cal.name if cal else None, "members": [u.username for u in teams.members(db(), row)]}


def _rule(row: RoutingRule) -> dict:
    team = db().get(Team, row.team_id)
    return {"id": row.id, "position": row.position, "team": team.name if team else "",
            "product_family": row.product_family, "channel": row.channel, "customer_id": row.customer_id}


def _rules():
    return jsonify({"rules": [_rule(r) for r in teams.list_rules(db())]})


@bp.get("/calendars", tags=[TAG], responses={200: CalendarsRead, **errors(401, 403, 409, 422)})
@requires(*ADMINS_ONLY)
def get_calendars():
    """Every business calendar, the default first."""
    return jsonify({"calendars": [_calendar(c) for c in teams.list_calendars(db())]})


@bp.post("/calendars", tags=[TAG], responses={201: CalendarRead, **errors(400, 401, 403, 409, 413, 422)})
@requires(*ADMINS_ONLY)
def post_calendar(body: CalendarWrite):
    """Add a calendar; 422 naming the field (closes, weekdays, timezone, country, holidays, extra_days), 409 when
    the name is taken. Made the default, the previous default stops being it."""
    if body.name is None:
        raise ValidationError(_("field name is required"), details={"field": "name"})
    given = {k: v for k, v in body.model_dump().items() if v is not None}
    row = teams.create_calendar(db(), teams.CalendarFields(**given))
    commit()
    return jsonify(_calendar(row)), 201


@bp.get("/calendars/<int:id>", tags=[TAG], responses={200: CalendarRead, **errors(401, 403, 404, 409, 422)})
@requires(*ADMINS_ONLY)
def get_calendar(path: IdPath):
    """One calendar."""
    return jsonify(_calendar(teams.get_calendar(db(), path.id)))


@bp.patch("/calendars/<int:id>", tags=[TAG],
          responses={200: CalendarRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*ADMINS_ONLY)
def patch_calendar(path: IdPath, body: CalendarWrite):
    """Change the fields given; running clocks keep the time counted and take the new deadlines."""
    row = teams.get_calendar(db(), path.id)
    current = teams.CalendarFields(name=row.name, opens=row.opens, closes=row.closes, weekdays=row.weekdays,
                                   country=row.country, timezone=row.timezone, holidays=row.holidays,
                                   extra_days=row.extra_days, is_default=row.is_default)
    teams.update_calendar(db(), row, replace(current, **{k: v for k, v in body.model_dump().items()
                                                         if v is not None}))
    commit()
    return jsonify(_calendar(row))


@bp.get("/teams", tags=[TAG], responses={200: TeamsRead, **errors(401, 403, 409, 422)})
@requires(*ADMINS_ONLY)
def get_teams():
    """Every team with its supervisor, calendar and members."""
    return jsonify({"teams": [_team(t) for t in teams.list_teams(db())]})


@bp.post("/teams", tags=[TAG], responses={201: TeamRead, **errors(400, 401, 403, 409, 413, 422)})
@requires(*ADMINS_ONLY)
def post_team(body: TeamCreate):
    """Add a team; the supervisor must be an active supervisor or admin (422 naming supervisor)."""
    row = teams.create_team(db(), name=body.name, supervisor=body.supervisor, calendar=body.calendar)
    commit()
    return jsonify(_team(row)), 201


@bp.post("/teams/<int:id>/members", tags=[TAG],
         responses={200: TeamRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*ADMINS_ONLY)
def post_team_member(path: IdPath, body: TeamMemberChange):
    """Add an active user to the team, or take a member off (remove true)."""
    row = teams.get_team(db(), path.id)
    (teams.remove_member if body.remove else teams.add_member)(db(), row, body.username)
    commit()
    return jsonify(_team(row))


@bp.get("/routing-rules", tags=[TAG], responses={200: RulesRead, **errors(401, 403, 409, 422)})
@requires(*ADMINS_ONLY)
def get_routing_rules():
    """The routing rules in the order they are tried."""
    return _rules()


@bp.post("/routing-rules", tags=[TAG], responses={201: RuleRead, **errors(400, 401, 403, 409, 413, 422)})
@requires(*ADMINS_ONLY)
def post_routing_rule(body: RuleCreate):
    """Add a rule (422 naming team, channel, customer, product_family or position)."""
    customer_id = teams.customer_named(db(), body.customer) if body.customer else None
    row = teams.add_rule(db(), team=body.team, product_family=body.product_family, channel=body.channel,
                         customer_id=customer_id, position=body.position)
    commit()
    return jsonify(_rule(row)), 201


@bp.delete("/routing-rules/<int:id>", tags=[TAG], responses={200: RulesRead, **errors(401, 403, 404, 409, 422)})
@requires(*ADMINS_ONLY)
def delete_routing_rule(path: IdPath):
    """Delete a rule; the others close up (the rules left, in order)."""
    teams.delete_rule(db(), path.id)
    commit()
    return _rules()
