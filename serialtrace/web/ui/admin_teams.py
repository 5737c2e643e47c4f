"""Admin pages of the complaint process's setup: business calendars, teams, routing rules (admins only).

As in the rest of the admin area, each action is one transaction with its admin_event row, and a refused one shows
its form again with the reason next to the field it names.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import lru_cache
from typing import Any

import holidays as holiday_data
from flask import flash, redirect, render_template, request, url_for

from ...accounts import queries as accounts_queries
from ...errors import DomainError, ValidationError
from ...warranty import teams
from ...warranty.models import BusinessCalendar, Team
from ...warranty.service import CHANNELS
from ..auth import requires_page
from ..database import commit, db
from ..i18n import _, lazy_gettext
from .admin import ACTION_LABELS, _form, _record, bp
from .common import optional_id

ACTION_LABELS.update({
    "calendar.add": lazy_gettext("calendar added"),
    "calendar.edit": lazy_gettext("calendar changed"),
    "calendar.delete": lazy_gettext("calendar deleted"),
    "team.add": lazy_gettext("team added"),
    "team.edit": lazy_gettext("team changed"),
    "team.member_add": lazy_gettext("team member added"),
    "team.member_remove": lazy_gettext("team member removed"),
    "routing.add": lazy_gettext("routing rule added"),
    "routing.delete": lazy_gettext("routing rule deleted"),
    "routing.move": lazy_gettext("routing rule moved"),
})
WEEKDAYS = (lazy_gettext("Monday"), lazy_gettext("Tuesday"), lazy_gettext("Wednesday"), lazy_gettext("Thursday"),
            lazy_gettext("Friday"), lazy_gettext("Saturday"), lazy_gettext("Sunday"))


@lru_cache(maxsize=1)
def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def _countries() -> list[str]:
    return sorted(holiday_data.list_supported_countries())


def _field_of(exc: DomainError) -> str | None:
    return exc.details.get("field") if isinstance(exc.details, dict) else None


# Calendars -----------------------------------------------------------------------------------------------------------

def _values(row: BusinessCalendar) -> dict[str, Any]:
    return {"name": row.name, "opens": row.opens.strftime("%H:%M"), "closes": row.closes.strftime("%H:%M"),
            "weekdays": [str(d) for d in row.weekdays], "country": row.country or "", "timezone": row.timezone,
            "holidays": "\n".join(row.holidays), "extra_days": "\n".join(row.extra_days),
            "is_default": row.is_default}


def _posted() -> dict[str, Any]:
    """The calendar form as typed, to show again when refused."""
    return {**{key: _form(key) for key in ("name", "opens", "closes", "country", "timezone", "holidays",
                                           "extra_days")},
            "weekdays": request.form.getlist("weekdays"), "is_default": request.form.get("is_default") == "1"}


def _fields(values: dict[str, Any]) -> teams.CalendarFields:
    days = []
    for day in values["weekdays"]:
        if not day.isascii() or not day.isdigit():
            raise ValidationError(_("working weekdays are numbered 0 (Monday) to 6 (Sunday)"),
                                  details={"field": "weekdays"})
        days.append(int(day))
    return teams.CalendarFields(name=values["name"], opens=values["opens"], closes=values["closes"], weekdays=days,
                                country=values["country"], timezone=values["timezone"],
                                holidays=values["holidays"].splitlines(),
                                extra_days=values["extra_days"].splitlines(), is_default=values["is_default"])


def _calendar_context() -> dict[str, Any]:
    return {"weekday_names": WEEKDAYS, "zones": _zones(), "countries": _countries(), "error": None,
            "error_field": None}


def _calendars_page(status: int = 200, **context: Any):
    page = {**_calendar_context(), "new": {"opens": "09:00", "closes": "18:00", "weekdays": ["0", "1", "2", "3", "4"],
                                           "timezone": "UTC", "country": "", "holidays": "", "extra_days": ""}}
    page.update(context)
    return render_template("admin_calendars.html", calendars=teams.list_calendars(db()), **page), status


@bp.get("/calendars")
@requires_page("admin.calendars")
def calendars():
    """Every business calendar and the form to add one."""
    return _calendars_page()


@bp.post("/calendars")
@requires_page("admin.calendars")
def calendar_add():
    """Add a calendar; made the default, the previous default stops being it."""
    new = _posted()
    try:
        row = teams.create_calendar(db(), _fields(new))
        _record("calendar.add", row.name, **_values(row))
        commit()
    except DomainError as exc:
        db().rollback()
        return _calendars_page(exc.status_code, error=exc.message, error_field=_field_of(exc), new=new)
    flash(_("calendar %(name)s added", name=row.name), "ok")
    return redirect(url_for("admin.calendar", calendar_id=row.id))


def _calendar_page(row: BusinessCalendar, values: dict[str, Any], status: int = 200, **context: Any):
    page = {**_calendar_context(), **context}
    days = teams.preview(row, date.today())
    span = {"from": request.args.get("from", ""), "to": request.args.get("to", ""), "hours": None, "error": None,
            "field": None}
    if span["from"] or span["to"]:
        try:
            span["hours"] = teams.business_hours(row, span["from"], span["to"])
        except ValidationError as exc:
            span["error"], span["field"] = exc.message, _field_of(exc)
    page["span"] = span
    return render_template("admin_calendar.html", calendar=row, values=values, days=days,
                           teams=[t for t in teams.list_teams(db()) if t.calendar_id == row.id], **page), status


@bp.get("/calendars/<int:calendar_id>")
@requires_page("admin.calendars")
def calendar(calendar_id: int):
    """One calendar's form and the next days as it counts them."""
    row = teams.get_calendar(db(), calendar_id)
    return _calendar_page(row, _values(row))


@bp.post("/calendars/<int:calendar_id>")
@requires_page("admin.calendars")
def calendar_edit(calendar_id: int):
    """Save a calendar; its running clocks keep the time counted and take its new deadlines."""
    row = teams.get_calendar(db(), calendar_id)
    values = _posted()
    try:
        changed = teams.update_calendar(db(), row, _fields(values))
        if changed:
            _record("calendar.edit", row.name, **changed)
        commit()
    except DomainError as exc:
        db().rollback()
        return _calendar_page(teams.get_calendar(db(), calendar_id), values, exc.status_code, error=exc.message,
                              error_field=_field_of(exc))
    flash(_("calendar %(name)s saved", name=row.name) if changed else _("nothing to change"), "ok")
    return redirect(url_for("admin.calendar", calendar_id=row.id))


@bp.post("/calendars/<int:calendar_id>/delete")
@requires_page("admin.calendars")
def calendar_delete(calendar_id: int):
    """Delete a calendar that is not the default and that no team or clock uses."""
    row = teams.get_calendar(db(), calendar_id)
    name = row.name
    try:
        teams.delete_calendar(db(), row)
        _record("calendar.delete", name)
        commit()
    except DomainError as exc:
        db().rollback()
        row = teams.get_calendar(db(), calendar_id)
        return _calendar_page(row, _values(row), exc.status_code, error=exc.message, error_field=_field_of(exc))
    flash(_("calendar %(name)s deleted", name=name), "ok")
    return redirect(url_for("admin.calendars"))


# Teams ---------------------------------------------------------------------------------------------------------------

def _supervisors() -> list:
    return [u for u in accounts_queries.list_users(db()) if u.active and u.role in teams.SUPERVISOR_ROLES]


def _teams_page(status: int = 200, **context: Any):
    page = {"error": None, "error_field": None, "new": {}}
    page.update(context)
    names = {u.id: u.username for u in accounts_queries.list_users(db())}
    cals = {c.id: c.name for c in teams.list_calendars(db())}
    return render_template("admin_teams.html", teams=teams.list_teams(db()), names=names, cals=cals,
                           supervisors=_supervisors(), calendars=teams.list_calendars(db()), **page), status


@bp.get("/teams", endpoint="teams")
@requires_page("admin.teams")
def teams_page():
    """Every team with its supervisor and calendar, and the form to add one."""
    return _teams_page()


@bp.post("/teams")
@requires_page("admin.teams")
def team_add():
    """Add a team."""
    new = {key: _form(key) for key in ("name", "supervisor", "calendar")}
    try:
        team = teams.create_team(db(), name=new["name"], supervisor=new["supervisor"] or None,
                                 calendar=optional_id(new["calendar"], "calendar"))
        _record("team.add", team.name, supervisor=new["supervisor"], calendar_id=team.calendar_id)
        commit()
    except DomainError as exc:
        db().rollback()
        return _teams_page(exc.status_code, error=exc.message, error_field=_field_of(exc), new=new)
    flash(_("team %(name)s added", name=team.name), "ok")
    return redirect(url_for("admin.team", team_id=team.id))


def _team_page(team: Team, status: int = 200, **context: Any):
    page = {"error": None, "error_field": None}
    page.update(context)
    people = teams.members(db(), team)
    ids = {u.id for u in people}
    users = accounts_queries.list_users(db())
    supervisor = next((u for u in users if u.id == team.supervisor_id), None)
    return render_template("admin_team.html", team=team, members=people, supervisor=supervisor,
                           candidates=[u for u in users if u.active and u.id not in ids],
                           supervisors=_supervisors(), calendars=teams.list_calendars(db()), **page), status


@bp.get("/teams/<int:team_id>")
@requires_page("admin.teams")
def team(team_id: int):
    """One team: name, supervisor, calendar, members, active or not."""
    return _team_page(teams.get_team(db(), team_id))


def _team_action(team_id: int, action):
    """Run `action(team)` (it records its event and returns the message) and commit; refused: the page again."""
    row = teams.get_team(db(), team_id)
    try:
        message = action(row)
        commit()
    except DomainError as exc:
        db().rollback()
        return _team_page(teams.get_team(db(), team_id), exc.status_code, error=exc.message,
                          error_field=_field_of(exc))
    flash(message, "ok")
    return redirect(url_for("admin.team", team_id=team_id))


@bp.post("/teams/<int:team_id>")
@requires_page("admin.teams")
def team_edit(team_id: int):
    """Rename a team, set its supervisor and its calendar (its clocks follow from their next change)."""
    def edit(row: Team) -> str:
        teams.rename_team(db(), row, _form("name"))
        teams.set_supervisor(db(), row, _form("supervisor") or None)
        teams.set_calendar(db(), row, optional_id(_form("calendar"), "calendar"))
        _record("team.edit", row.name, supervisor_id=row.supervisor_id, calendar_id=row.calendar_id)
        return _("team %(name)s saved", name=row.name)

    return _team_action(team_id, edit)


@bp.post("/teams/<int:team_id>/active")
@requires_page("admin.teams")
def team_active(team_id: int):
    """Deactivate a team (routing skips its rules) or reactivate it."""
    def toggle(row: Team) -> str:
        active = request.form.get("active") == "1"
        teams.set_active(db(), row, active)
        _record("team.edit", row.name, active=active)
        return _("team %(name)s reactivated", name=row.name) if active else \
            _("team %(name)s deactivated; routing skips its rules", name=row.name)

    return _team_action(team_id, toggle)


@bp.post("/teams/<int:team_id>/members")
@requires_page("admin.teams")
def team_member_add(team_id: int):
    """Add an active user to the team."""
    def add(row: Team) -> str:
        user = teams.add_member(db(), row, _form("user"))
        _record("team.member_add", row.name, user=user.username)
        return _("%(user)s is a member of %(name)s", user=user.username, name=row.name)

    return _team_action(team_id, add)


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@requires_page("admin.teams")
def team_member_remove(team_id: int, user_id: int):
    """Take a member off the team."""
    def remove(row: Team) -> str:
        user = teams.remove_member(db(), row, accounts_queries.get_user_by_id(db(), user_id).username)
        _record("team.member_remove", row.name, user=user.username)
        return _("%(user)s is no longer a member of %(name)s", user=user.username, name=row.name)

    return _team_action(team_id, remove)


# Routing rules -------------------------------------------------------------------------------------------------------

def _routing_page(status: int = 200, **context: Any):
    page = {"error": None, "error_field": None, "new": {}}
    page.update(context)
    from ...trace.models import Customer

    rules = teams.list_rules(db())
    customer_ids = {r.customer_id for r in rules if r.customer_id is not None}
    customers = {c: db().get(Customer, c).name for c in customer_ids}
    names = {t.id: t for t in teams.list_teams(db())}
    return render_template("admin_routing.html", rules=rules, teams=names, customers=customers,
                           active_teams=[t for t in names.values() if t.active],
                           families=teams.product_families(db()), channels=CHANNELS, **page), status


@bp.get("/routing")
@requires_page("admin.routing")
def routing():
    """The routing rules in the order they are tried, and the form to add one."""
    return _routing_page()


@bp.post("/routing")
@requires_page("admin.routing")
def routing_add():
    """Add a routing rule at a position (empty: last)."""
    new = {key: _form(key) for key in ("team", "product_family", "channel", "customer", "position")}
    try:
        customer_id = teams.customer_named(db(), new["customer"]) if new["customer"] else None
        team_id = optional_id(new["team"], "team")
        if team_id is None:
            raise ValidationError(_("choose a team"), details={"field": "team"})
        rule = teams.add_rule(db(), team=team_id, product_family=new["product_family"], channel=new["channel"],
                              customer_id=customer_id, position=optional_id(new["position"], "position"))
        _record("routing.add", str(rule.id), team_id=rule.team_id, product_family=rule.product_family,
                channel=rule.channel, customer_id=rule.customer_id, position=rule.position)
        commit()
    except DomainError as exc:
        db().rollback()
        return _routing_page(exc.status_code, error=exc.message, error_field=_field_of(exc), new=new)
    flash(_("routing rule added at position %(n)s", n=rule.position), "ok")
    return redirect(url_for("admin.routing"))


def _rule_action(action) -> Any:
    try:
        message = action()
        commit()
    except DomainError as exc:
        db().rollback()
        return _routing_page(exc.status_code, error=exc.message, error_field=_field_of(exc))
    flash(message, "ok")
    return redirect(url_for("admin.routing"))


@bp.post("/routing/<int:rule_id>/delete")
@requires_page("admin.routing")
def routing_delete(rule_id: int):
    """Delete a routing rule."""
    def delete() -> str:
        rule = teams.delete_rule(db(), rule_id)
        _record("routing.delete", str(rule_id), team_id=rule.team_id)
        return _("routing rule deleted")

    return _rule_action(delete)


@bp.post("/routing/<int:rule_id>/move")
@requires_page("admin.routing")
def routing_move(rule_id: int):
    """Move a routing rule up or down the order."""
    def move() -> str:
        direction = request.form.get("direction", "")
        if direction not in ("up", "down"):
            raise ValidationError(_("move a rule up or down"), details={"field": "direction"})
        teams.move_rule(db(), rule_id, -1 if direction == "up" else 1)
        _record("routing.move", str(rule_id), direction=direction)
        return _("routing rule moved %(direction)s", direction=_("up") if direction == "up" else _("down"))

    return _rule_action(move)
