"""Warranty claims for scripts: list, show, register, transition, replace, receive, reassign, priority and the return
deadline pass.

Every action a person takes names that person with `--as USERNAME` (an active user): the command acts as that user,
with that user's role checked as the API checks it, and the claim's timeline keeps the name. There is no default
author for these: a script that leaves it out is refused, changing nothing. The deadline pass is a system step
(cron) and runs as the system unless `--as` names someone.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm import Session

from ..config import business_today
from ..errors import NotFound, PermissionDenied, ValidationError
from ..trace.policy import MAX_INT, parse_date
from .common import echo_json, runtime

# The most rows one `claims list` prints; more is a report, not a list.
MAX_LIST = 10_000


def _acting_user(session: Session, username: str | None, *, required: bool = True) -> Any:
    """The active user `--as` names (None for the system when not required); refused when missing or inactive."""
    from ..accounts import queries as accounts_queries

    if not username:
        if required:
            raise ValidationError("name the user this action is taken as with --as USERNAME: every claim action "
                                  "keeps its author", details={"field": "as"})
        return None
    user = accounts_queries.find_user(session, username)
    if user is None or not user.active:
        raise NotFound(f"no active user {username!r} (--as)", details={"field": "as"})
    return user


def _ensure_may_register(user: Any) -> None:
    """The desk's roles may register a complaint, as POST /api/v1/claims allows (draft -> registered)."""
    from ..warranty import workflow
    from ..warranty.enums import ClaimState

    if not workflow.may(ClaimState.DRAFT, ClaimState.REGISTERED, user.role):
        raise PermissionDenied(f"the {user.role} role may not register a claim", details={"role": user.role})


def _claim(session: Session, ref: str) -> Any:
    """The claim a number (CL-000042) or an id names; NotFound otherwise."""
    from ..warranty import queries, service

    found = queries.find_claim(session, ref.strip().upper())
    if found is not None:
        return found
    # Only ASCII digits: str.isdigit() also accepts ² and other scripts' digits, which int() refuses.
    if ref.strip().isascii() and ref.strip().isdigit() and int(ref) <= MAX_INT:
        return service.get_claim(session, int(ref))
    raise NotFound(f"no claim {ref!r} (give a claim number such as CL-000042, or an id)", details={"field": "claim"})


def _customer_id(session: Session, name: str | None) -> int | None:
    """The id of the customer named by exact name or tax id; NotFound otherwise."""
    from sqlalchemy import or_, select

    from ..trace.models import Customer

    if not name:
        return None
    ids = session.scalars(select(Customer.id).where(or_(Customer.name == name, Customer.tax_id == name))
                          .order_by(Customer.id).limit(2)).all()
    if not ids:
        raise NotFound(f"no customer named {name!r} or with that tax id (--customer)", details={"field": "customer"})
    return ids[0]


def _read(session: Session, claim: Any, user: Any) -> dict[str, Any]:
    """The claim in the shape of GET /api/v1/claims/<id>, its transitions those of `user`'s role."""
    from ..warranty import queries

    return queries.claim_read(session, claim, role=user.role if user is not None else None)


def _print_claim(data: dict[str, Any]) -> None:
    """The claim as readable lines: header, cases, replacements and timeline."""
    customer = data["customer"]["name"] if data["customer"] else "-"
    click.echo(f"{data['number']}\t{data['state']}\t{data['priority']}\t{data['serial'] or '-'}\t{customer}")
    stage = data.get("stage")
    if stage:
        owner = stage["assignee"] or stage["team"] or "-"
        click.echo(f"  stage {stage['stage']}\t{owner}\tdue {stage['due_at'] or '- (paused)'}")
    for clock in data.get("clocks", []):
        hours = clock["remaining_seconds"] / 3600
        left = f"{hours:.1f} h left" if hours >= 0 else f"overdue by {-hours:.1f} h"
        click.echo(f"  clock {clock['kind']}{' ' + clock['stage'] if clock['stage'] else ''}\t{clock['state']}\t"
                   f"{left}\t{clock['percent']} %{' BREACHED' if clock['breached'] else ''}")
    if data.get("statutory"):
        click.echo(f"  statutory deadline {data['statutory']['due_at']}"
                   f"{' BREACHED' if data['statutory']['breached'] else ''}")
    for case in data["cases"]:
        click.echo(f"  case {case['id']}\t{case['serial']}\t{case['state']}")
    for link in data["replacements"]:
        click.echo(f"  replaced {link['returned_serial']} -> {link['replacement_serial']}\t{link['created_at']}")
    for row in data["timeline"]:
        step = f"{row['from'] or ''} -> {row['to']}" if row["to"] else row["kind"]
        click.echo(f"  {row['at']}\t{row['author']}\t{step}\t{row['reason']}")
    if data["allowed_transitions"]:
        click.echo(f"  next: {', '.join(data['allowed_transitions'])}")


@click.group()
def claims() -> None:
    """Warranty claims: list, show, register, move, replace, receive."""


@claims.command("list")
@click.option("--state", help="Only claims in this state.")
@click.option("--customer", help="Only claims of this customer (exact name or tax id).")
@click.option("--limit", type=click.IntRange(1, MAX_LIST), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def claims_list(state, customer, limit, as_json) -> None:
    """Claims, newest first."""
    from ..warranty import workflow
    from ..warranty.claim_list import ClaimFilter, list_claims

    with runtime().read() as s:
        where = ClaimFilter(state=str(workflow.state_of(state)) if state else None,
                            customer_id=_customer_id(s, customer))
        rows = [{**r, "opened_at": r["opened_at"].isoformat(),
                 "closed_at": r["closed_at"].isoformat() if r["closed_at"] else None}
                for r in list_claims(s, where, limit=limit)]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['number']}\t{r['state']}\t{r['priority']}\t{r['serial']}\t{r['product']}\t"
                   f"{r['customer'] or '-'}\t{r['opened_at']}")


@claims.command("show")
@click.argument("claim")
@click.option("--as", "username", help="Show the transitions this user's role may take.")
@click.option("--json", "as_json", is_flag=True)
def claims_show(claim, username, as_json) -> None:
    """One claim (by number or id) with its cases, replacements and timeline."""
    with runtime().read() as s:
        data = _read(s, _claim(s, claim), _acting_user(s, username, required=False))
    echo_json(data) if as_json else _print_claim(data)


@claims.command("register")
@click.argument("serial")
@click.option("--symptom", required=True, help="A code of the symptom list.")
@click.option("--description", default="")
@click.option("--channel", default="desk", show_default=True)
@click.option("--as", "username", help="The active user registering it (required).")
@click.option("--confirm-own-customer", "confirm_own", is_flag=True,
              help="You are the customer's account manager and register it anyway (logged on the claim).")
@click.option("--json", "as_json", is_flag=True)
def claims_register(serial, symptom, description, channel, username, confirm_own, as_json) -> None:
    """Register a complaint about SERIAL: the claim and its expected unit case, with the warnings."""
    from ..warranty import service
    from ..warranty.registration import OwnCustomer

    rt = runtime()
    try:
        with rt.transaction() as s:
            user = _acting_user(s, username)
            _ensure_may_register(user)
            done = service.register_claim(s, serial=serial, symptom=symptom, description=description,
                                          channel=channel, author=user, today=business_today(rt.settings),
                                          confirm_own_customer=confirm_own,
                                          statutory_days=rt.settings.warranty_statutory_days)
            data = _read(s, done.claim, user)
            warnings = [{"code": w["code"], "message": str(w["message"])} for w in done.warnings]
    except OwnCustomer as exc:
        # Nothing was stored (the transaction rolled back); say how to confirm from here.
        click.echo(f"error: {exc.message}; run again with --confirm-own-customer to confirm", err=True)
        raise SystemExit(1) from None
    if as_json:
        echo_json({**data, "warnings": warnings})
        return
    click.echo(f"claim {data['number']} registered for {serial} (id {data['id']})")
    for w in warnings:
        click.echo(f"warning: {w['message']}")


@claims.command("transition")
@click.argument("claim")
@click.option("--to", "to", required=True, help="The state to move the claim to.")
@click.option("--reason", default="")
@click.option("--as", "username", help="The active user taking the step (required).")
@click.option("--confirm-own-customer", "confirm_own", is_flag=True,
              help="Registering a draft: you are the customer's account manager and register it anyway (logged).")
def claims_transition(claim, to, reason, username, confirm_own) -> None:
    """Move CLAIM (number or id) to another state, as the state machine and the user's role allow."""
    from ..warranty import service, surveys
    from ..warranty.registration import OwnCustomer

    rt = runtime()
    try:
        with rt.transaction() as s:
            user = _acting_user(s, username)
            found = _claim(s, claim)
            before = found.state
            moved = service.transition_claim(s, claim_id=found.id, to=to, reason=reason, author=user,
                                             today=business_today(rt.settings),
                                             return_days=rt.settings.warranty_return_days,
                                             confirm_own_customer=confirm_own)
            out, closed_id = f"claim {moved.number}: {before} -> {moved.state}", moved.id
    except OwnCustomer as exc:
        # Nothing was stored (the transaction rolled back); say how to confirm from here.
        click.echo(f"error: {exc.message}; run again with --confirm-own-customer to confirm", err=True)
        raise SystemExit(1) from None
    click.echo(out)
    if to == "closed":
        surveys.send_quietly(rt.sessions, rt.settings, closed_id)  # best effort: the claim is closed whatever happens


@claims.command("replace")
@click.argument("claim")
@click.option("--replacement", required=True, help="Serial of the unit handed out from stock.")
@click.option("--on-desk", is_flag=True, help="The customer hands the returned unit over at the desk.")
@click.option("--as", "username", help="The active user at the desk (required).")
def claims_replace(claim, replacement, on_desk, username) -> None:
    """Hand out a replacement for CLAIM (number or id) on the spot: it ships to the claim's customer at once."""
    from ..warranty import service

    rt = runtime()
    with rt.transaction() as s:
        user = _acting_user(s, username)
        found = _claim(s, claim)
        done = service.replace_unit(s, claim_id=found.id, replacement_serial=replacement, on_desk=on_desk,
                                    author=user, today=business_today(rt.settings),
                                    return_days=rt.settings.warranty_return_days)
        link = _read(s, done, user)["replacements"][-1]
        out = (f"claim {done.number}: {link['returned_serial']} replaced by {link['replacement_serial']}; "
               f"claim {done.state}")
    click.echo(out)


@claims.command("receive")
@click.argument("case_id", type=click.IntRange(1, MAX_INT))
@click.option("--serial", required=True, help="The serial scanned on the unit that came back.")
@click.option("--as", "username", help="The active user receiving it (required).")
def claims_receive(case_id, serial, username) -> None:
    """The receiving scan of a returned unit for unit case CASE_ID; another serial marks the case wrong_unit."""
    from ..warranty import service

    with runtime().transaction() as s:
        user = _acting_user(s, username)
        done = service.receive_case(s, case_id=case_id, serial=serial, author=user)
        out = str(done.message) if done.message else f"case {done.case.id}: {done.case.state}"
    click.echo(out)


@claims.command("reassign")
@click.argument("claim")
@click.option("--to", "to", help="The active user to hand the claim's current stage to.")
@click.option("--team", help="The active team to hand it to (alone: the team, with nobody in particular).")
@click.option("--reason", required=True, help="Why (kept in the timeline).")
@click.option("--as", "username", help="The active user handing it on (required): its owner, the team's "
                                       "supervisor, a supervisor or an admin.")
def claims_reassign(claim, to, team, reason, username) -> None:
    """Hand CLAIM (number or id) to another user and/or team, with a reason; its clocks run on untouched."""
    from ..warranty import queries, stages

    with runtime().transaction() as s:
        user = _acting_user(s, username)
        found = _claim(s, claim)
        done = stages.reassign(s, claim_id=found.id, username=to, team=team, reason=reason, author=user)
        data = queries.claim_read(s, done, role=None)
        owner = (data["stage"] or {}).get("assignee") or data["assignee"] or "-"
        out = f"claim {done.number}: {owner} ({data['team'] or '-'})"
    click.echo(out)


@claims.command("priority")
@click.argument("claim")
@click.option("--impact", type=click.IntRange(1, 3), help="1 (high) to 3 (low); with --urgency.")
@click.option("--urgency", type=click.IntRange(1, 3), help="1 (high) to 3 (low); with --impact.")
@click.option("--priority", type=click.Choice(["P1", "P2", "P3", "P4"]), help="The priority itself, instead.")
@click.option("--reason", required=True, help="Why (kept in the timeline).")
@click.option("--as", "username", help="The active coordinator, supervisor or admin changing it (required).")
def claims_priority(claim, impact, urgency, priority, reason, username) -> None:
    """Set CLAIM's impact and urgency (the priority follows) or its priority; clocks keep their elapsed time."""
    from ..warranty import stages

    if priority is not None and (impact is not None or urgency is not None):
        raise ValidationError("give --impact and --urgency, or --priority, not both", details={"field": "priority"})
    if priority is None and (impact is None or urgency is None):
        raise ValidationError("give --impact and --urgency together, or --priority", details={"field": "impact"})
    with runtime().transaction() as s:
        user = _acting_user(s, username)
        found = _claim(s, claim)
        before = found.priority
        done = stages.change_priority(s, claim_id=found.id, impact=impact, urgency=urgency, priority=priority,
                                      reason=reason, author=user)
        out = f"claim {done.number}: {before} -> {done.priority}"
    click.echo(out)


@claims.command("expire-returns")
@click.option("--today", "today", help="The day to judge the deadlines by, YYYY-MM-DD (default today; not after "
                                       "today).")
@click.option("--as", "username", help="The active user running the pass (default: the system).")
def claims_expire_returns(today, username) -> None:
    """Cases still expected after their return deadline become not_returned, and advance-replaced claims are billed."""
    from ..warranty import bench

    rt = runtime()
    now = business_today(rt.settings)
    day = parse_date(today, field="today") if today else now
    with rt.transaction() as s:
        user = _acting_user(s, username, required=False)
        lines = []
        for expired in bench.expire_returns(s, today=day, business_day=now, author=user):
            lines.append(f"case {expired.case.id} of claim {expired.claim.number}: {expired.case.expected_serial} "
                         f"not returned by {expired.case.return_due}; claim {expired.claim.state}")
            lines += [f"warning: {w['message']}" for w in expired.warnings]
    for line in lines:
        click.echo(line)
    click.echo(f"{sum(1 for line in lines if line.startswith('case '))} case(s) past their return deadline")
