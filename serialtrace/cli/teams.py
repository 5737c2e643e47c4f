"""Setup commands of the complaint process: business calendars, teams, members and routing rules."""

from __future__ import annotations

import click

from .common import runtime


@click.group()
def calendars() -> None:
    """Business calendars the SLA clocks count working time on."""


@calendars.command("add")
@click.argument("name")
@click.option("--opens", default="09:00", show_default=True, help="HH:MM")
@click.option("--closes", default="18:00", show_default=True, help="HH:MM")
@click.option("--weekdays", default="0,1,2,3,4", show_default=True, help="Working weekdays, Monday 0.")
@click.option("--country", default="", help="ISO code whose public holidays are days off (RU).")
@click.option("--timezone", default="UTC", show_default=True)
@click.option("--holiday", "holidays", multiple=True, help="A company day off (YYYY-MM-DD); repeat it.")
@click.option("--workday", "workdays", multiple=True, help="A worked transfer day (YYYY-MM-DD); repeat it.")
@click.option("--default", "is_default", is_flag=True, help="Make it the default calendar.")
def calendars_add(name, opens, closes, weekdays, country, timezone, holidays, workdays, is_default) -> None:
    """Add a business calendar NAME."""
    from ..errors import ValidationError
    from ..warranty import teams

    try:
        days = [int(d) for d in weekdays.split(",") if d.strip()]
    except ValueError:
        raise ValidationError("--weekdays: numbers 0 (Monday) to 6 (Sunday) separated by commas",
                              details={"field": "weekdays"}) from None
    with runtime().transaction() as s:
        row = teams.create_calendar(s, teams.CalendarFields(
            name=name, opens=opens, closes=closes, weekdays=days, country=country, timezone=timezone,
            holidays=holidays, extra_days=workdays, is_default=is_default))
        said = f"calendar {row.name} added{' (the default)' if row.is_default else ''}"
    click.echo(said)


@calendars.command("list")
def calendars_list() -> None:
    """List the calendars, the default first."""
    from ..warranty import teams

    with runtime().read() as s:
        for c in teams.list_calendars(s):
            mark = "default" if c.is_default else "-"
            click.echo(f"{c.name}\t{c.opens:%H:%M}-{c.closes:%H:%M}\t{c.country or '-'}\t{c.timezone}\t{mark}")


@click.group()
def teams() -> None:
    """Teams, their members and the routing rules that pick a new claim's team."""


@teams.command("add")
@click.argument("name")
@click.option("--supervisor", help="User name of an active supervisor or admin.")
@click.option("--calendar", help="Calendar name (default: the default calendar).")
def teams_add(name, supervisor, calendar) -> None:
    """Add a team NAME."""
    from ..warranty import teams as service

    with runtime().transaction() as s:
        team = service.create_team(s, name=name, supervisor=supervisor, calendar=calendar)
        said = f"team {team.name} added"
    click.echo(said)


@teams.command("member")
@click.argument("team")
@click.argument("user")
@click.option("--remove", is_flag=True, help="Take the user off the team.")
def teams_member(team, user, remove) -> None:
    """Add USER to TEAM (or, with --remove, take them off)."""
    from ..warranty import teams as service

    with runtime().transaction() as s:
        row = service.get_team(s, team)
        if remove:
            service.remove_member(s, row, user)
        else:
            service.add_member(s, row, user)
        said = f"{user} {'is no longer' if remove else 'is'} a member of {row.name}"
    click.echo(said)


@teams.command("route")
@click.option("--team", required=True, help="Team name.")
@click.option("--family", default="", help="Product family (empty: any).")
@click.option("--channel", default="", help="desk, phone, email or web (empty: any).")
@click.option("--customer", default="", help="Customer name (empty: any).")
@click.option("--position", type=int, help="1 is tried first (default: last).")
def teams_route(team, family, channel, customer, position) -> None:
    """Add a routing rule: claims matching every given field go to TEAM."""
    from ..warranty import teams as service

    with runtime().transaction() as s:
        customer_id = service.customer_named(s, customer) if customer else None
        rule = service.add_rule(s, team=team, product_family=family, channel=channel, customer_id=customer_id,
                                position=position)
        said = f"routing rule {rule.position} added"
    click.echo(said)


@teams.command("list")
def teams_list() -> None:
    """List the teams and then the routing rules in order."""
    from ..accounts.models import User
    from ..warranty import teams as service
    from ..warranty.models import BusinessCalendar

    with runtime().read() as s:
        names = {t.id: t.name for t in service.list_teams(s)}
        for t in service.list_teams(s):
            boss = s.get(User, t.supervisor_id) if t.supervisor_id else None
            cal = s.get(BusinessCalendar, t.calendar_id) if t.calendar_id else None
            members = ",".join(u.username for u in service.members(s, t)) or "-"
            click.echo(f"{t.name}\t{'active' if t.active else 'inactive'}\t{boss.username if boss else '-'}\t"
                       f"{cal.name if cal else 'default'}\t{members}")
        for r in service.list_rules(s):
            click.echo(f"rule {r.position}\tfamily={r.product_family or '*'}\tchannel={r.channel or '*'}\t"
                       f"customer={r.customer_id or '*'}\t-> {names.get(r.team_id)}")
