"""Claim pages: the claims list, one claim with its route map and only the actions the reader's role may take now,
and the station's complaint and replacement flow (keyboard and scanner only).

Every action is one transaction; a refused one shows its page again with the reason in place and changes nothing
(the roles are checked on the server by the route and again by the warranty service)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from ...accounts.enums import Role
from ...accounts.models import User
from ...config import business_today
from ...errors import DomainError, NotFound, ValidationError
from ...trace import queries as trace_queries
from ...trace.dossier import may_see_contacts
from ...warranty import attachments, claim_list, codes, comments, queries, registration, service, stages, workflow
from ...warranty.enums import (
    CLAIM_STATE_LABELS,
    DISPOSITION_LABELS,
    DISPOSITION_STATE_LABELS,
    FailureList,
    UnitCaseState,
)
from ...warranty.models import Claim, UnitCase
from ...warranty.routemap import route_map_svg
from ..auth import current_user, requires, requires_page
from ..database import commit, db
from ..i18n import _, label, lazy_gettext, tr
from . import claim_sla
from .common import bp, dossier, optional_id, settings, user_text
from .dossier_view import link_for
from .knowledge import claim_panel as knowledge_panel
from .scanlog import page_number
from .survey_page import claim_survey, mail_survey

R = Role
# Who reads claims (the list, a claim's page); admins always may.
CLAIM_READERS = (R.WAREHOUSE, R.COORDINATOR, R.ENGINEER, R.QUALITY, R.SUPERVISOR)
# Who registers complaints and hands out replacements at the desk: the roles of POST /api/v1/claims and /replace.
DESK = (R.WAREHOUSE, R.COORDINATOR, R.SUPERVISOR)
# Who takes returned units in: the roles of the case table's receiving steps.
RECEIVERS = (R.WAREHOUSE, R.SUPERVISOR)
PAGE_SIZE = 50
# The limits of the API's claim schemas, so a form and a JSON body are refused alike.
SERIAL_MAX, TEXT_MAX, SEARCH_MAX = 64, 4000, 64
RECEIVABLE = frozenset({UnitCaseState.EXPECTED, UnitCaseState.WRONG_UNIT})
# Cases whose unit is in the house, waiting for or in test: the ones a quarantine label is printed for.
IN_HOUSE = frozenset({UnitCaseState.RECEIVED, UnitCaseState.IN_TEST, UnitCaseState.TESTED,
                      UnitCaseState.DISPOSITION_PENDING})

# What each kind of timeline row is called; state changes show their states instead.
TIMELINE_KINDS = {
    "state_change": lazy_gettext("State change"),
    "case_state": lazy_gettext("Returned unit"),
    "comment": lazy_gettext("Comment"),
    "attachment": lazy_gettext("Attachment"),
    "test": lazy_gettext("Test"),
    "test_record": lazy_gettext("Test record"),
    "replacement": lazy_gettext("Replacement"),
    "disposition": lazy_gettext("Disposition"),
    "assignment": lazy_gettext("Assignment"),
    "knowledge": lazy_gettext("Solution found"),
    "priority": lazy_gettext("Priority change"),
}
VISIBILITY_LABELS = {"internal": lazy_gettext("internal"), "customer": lazy_gettext("for the customer")}


def _form(name: str, limit: int) -> str:
    """A form field, trimmed; NUL or longer than `limit` characters is a 422 naming the field."""
    value = user_text(request.form.get(name, ""), name).strip()
    if len(value) > limit:
        raise ValidationError(_("%(field)s is longer than %(limit)s characters", field=name, limit=limit),
                              details={"field": name})
    return value


def get_claim(ref: str) -> Claim:
    """The claim a URL names by number (CL-000123) or by id; NotFound otherwise."""
    if ref.isascii() and ref.isdigit():
        return service.get_claim(db(), int(ref))
    claim = queries.find_claim(db(), ref.strip().upper())
    if claim is None:
        raise NotFound(_("no claim %(number)s", number=ref))
    return claim


# The list --------------------------------------------------------------------------------------------------------

def _claim_filter() -> tuple[claim_list.ClaimFilter, dict[str, Any]]:
    """The filter the query string asks for and the form values to show again; an unknown value is a 422."""
    args = request.args
    form = {name: user_text(args.get(name, "").strip(), name)
            for name in ("state", "customer", "product", "q", "sort", "mine")}
    if form["state"] and form["state"] not in CLAIM_STATE_LABELS:
        raise ValidationError(_("state %(value)r is not known; choose one from the list", value=form["state"]),
                              details={"field": "state"})
    if len(form["q"]) > SEARCH_MAX:
        raise ValidationError(_("%(field)s is longer than %(limit)s characters", field="q", limit=SEARCH_MAX),
                              details={"field": "q"})
    if form["sort"] not in ("", "opened", "-opened"):
        raise ValidationError(_("sort must be opened or -opened, not %(value)r", value=form["sort"]),
                              details={"field": "sort"})
    product_id = None
    if form["product"]:
        product = trace_queries.find_product(db(), form["product"])
        if product is None:
            raise NotFound(_("no product %(sku)s", sku=form["product"]), details={"field": "product"})
        product_id = product.id
    mine = form["mine"] == "1"
    where = claim_list.ClaimFilter(state=form["state"] or None, customer_id=optional_id(form["customer"], "customer"),
                                   product_id=product_id, user_id=current_user().id if mine else None, text=form["q"],
                                   newest_first=form["sort"] != "opened")
    return where, form


@bp.get("/claims")
@requires_page("pages.claims")
def claims():
    """Claims by opening time (newest first unless sorted the other way), PAGE_SIZE a page, with the filters."""
    where, form = _claim_filter()
    page = page_number()
    rows = claim_list.list_claims(db(), where, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    query = {k: v for k, v in form.items() if v}
    flipped = {**query, "sort": "-opened" if form["sort"] == "opened" else "opened"}
    return render_template("claims.html", rows=rows[:PAGE_SIZE], form=form, page=page, more=len(rows) > PAGE_SIZE,
                           query=query, flipped=flipped, states=CLAIM_STATE_LABELS,
                           customers=claim_list.list_customers(db()), products=claim_list.list_products(db()))


# One claim -------------------------------------------------------------------------------------------------------

def claim_actions(read: dict[str, Any], user: User) -> dict[str, Any]:
    """What `user` may do to the claim now, each offered only when the state and the role allow it."""
    role = user.role
    return {
        # Steps an action takes (the replacement's own form, a scan, a verdict) are not among them.
        "transitions": read["allowed_transitions"],
        "replace": read["customer"] is not None and user.has_role(*DESK) and workflow.may_replace(read["state"], role),
        "no_customer": read["customer"] is None and workflow.may_replace(read["state"], role),
        "receive": [c for c in read["cases"] if c["state"] in RECEIVABLE and user.has_role(*RECEIVERS)
                    and workflow.may(c["state"], UnitCaseState.RECEIVED, role, "case")],
        "quarantine": [c for c in read["cases"] if c["state"] in IN_HOUSE] if user.has_role(R.WAREHOUSE) else [],
        "comment": role in comments.COMMENTERS,
    }


def _path_taken(read: dict[str, Any]) -> list[str]:
    return [e["to"] for e in read["timeline"] if e["kind"] == "state_change" and e["to"]]


def _claim_context(claim: Claim) -> dict[str, Any]:
    """What the claim page and the station's claim page show: the claim read for the user's role, its actions,
    who registered it, its route map."""
    user = current_user()
    read = queries.claim_read(db(), claim, role=user.role)
    read["cases"] = [{**c, "href": link_for("pages.case", case_id=c["id"])} for c in read["cases"]]
    read["timeline"] = [{**e, "href": link_for("api.get_attachment", id=e["attachment_id"])}
                        if e["kind"] == "attachment" else e for e in read["timeline"]]
    changes = [e for e in read["timeline"] if e["kind"] == "state_change"]
    # The registrar is who moved it into registered (a draft's writer may be someone else), else its first author.
    first = next((e for e in changes if e["to"] == "registered"), changes[0] if changes else None)
    svg = route_map_svg(read["state"], _path_taken(read), label=lambda s: str(label(s, "claim_state")))
    return {"claim": read, "actions": claim_actions(read, user), "registrar": first["author"] if first else "",
            # The map is drawn by routemap.py, which escapes every label it writes.
            "route_map": Markup(svg), "error": None, "error_field": None, "replacement_serial": "",
            "reason": "", "received_serial": "", "comment": {"body": "", "visibility": "internal"},
            "timeline_kinds": TIMELINE_KINDS, "visibilities": VISIBILITY_LABELS, "dispositions": DISPOSITION_LABELS,
            "disposition_states": DISPOSITION_STATE_LABELS,
            "knowledge": knowledge_panel(read),
            "survey": claim_survey(claim.id),
            # A failed mail's error names the customer's address: shown only to the roles that see contacts.
            "contacts_visible": may_see_contacts(user),
            "symptom": symptom_name(read["symptom"]), "sla": claim_sla.panel(claim, read, user),
            "sla_error": None, "sla_error_field": None, "sla_form": None, "sla_typed": {},
            "own_customer": _own_draft(read, user), "confirm_needed": False}


def _own_draft(read: dict[str, Any], user: User) -> str | None:
    """The customer's name when `user` may register this draft and is its customer's account manager, else None."""
    customer = read["customer"]
    if read["state"] != "draft" or "registered" not in read["allowed_transitions"] or customer is None:
        return None
    return customer["name"] if registration.manages(db(), customer_id=customer["id"], author=user) else None


def _claim_page(claim: Claim, *, station: bool = False, status: int = 200, **extra: Any):
    """The claim's page (or the station's claim page) with `extra` (a refusal's reason, the typed values)."""
    template = "station_claim.html" if station else "claim.html"
    return render_template(template, **{**_claim_context(claim), "station": station, **extra}), status


def _refused(claim_id: int, exc: DomainError, *, station: bool = False, **typed: Any):
    """The page again with the refusal's reason in place; the transaction is rolled back first: nothing changed."""
    db().rollback()
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    return _claim_page(service.get_claim(db(), claim_id), station=station, status=exc.status_code, error=exc.message,
                       error_field=field, **typed)


@bp.get("/claims/<ref>")
@requires_page("pages.claim")
def claim(ref: str):
    """One claim: header, route map, cases, replacements, timeline and the actions the reader's role may take."""
    return _claim_page(get_claim(ref))


@bp.post("/claims/<ref>/transition")
@requires(*CLAIM_READERS)
def claim_transition(ref: str):
    """Move the claim to the state of the button pressed; a step the state or role does not allow is refused."""
    claim = get_claim(ref)
    claim_id, number = claim.id, claim.number
    reason = request.form.get("reason", "")
    try:
        to, reason = _form("to", 24), _form("reason", TEXT_MAX)
        service.transition_claim(db(), claim_id=claim_id, to=to, reason=reason, author=current_user(),
                                 today=business_today(settings()), return_days=settings().warranty_return_days,
                                 confirm_own_customer=request.form.get(registration.CONFIRM_FIELD) == "1")
        commit()
        if to == "closed":
            mail_survey(claim_id)
    except DomainError as exc:
        # Refused for the account manager: the form comes back with the confirmation focused, the reason kept.
        own = {"own_customer": exc.details["customer"], "confirm_needed": True} \
            if isinstance(exc, registration.OwnCustomer) else {}
        return _refused(claim_id, exc, reason=reason, **own)
    flash(_("claim %(number)s is now %(state)s", number=number, state=label(to, "claim_state")), "ok")
    return redirect(url_for("pages.claim", ref=number))


def _sla_refused(claim_id: int, exc: DomainError, form: str, typed: dict[str, str]):
    """The page again with the reassign or priority form's refusal in that form; nothing changed."""
    db().rollback()
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    return _claim_page(service.get_claim(db(), claim_id), status=exc.status_code, sla_error=exc.message,
                       sla_error_field=field, sla_form=form, sla_typed=typed)


@bp.post("/claims/<ref>/reassign")
@requires(*CLAIM_READERS)
def claim_reassign(ref: str):
    """Hand the claim's current stage to a user and/or team with a reason; the service decides who may."""
    claim = get_claim(ref)
    claim_id, number = claim.id, claim.number
    typed = {name: request.form.get(name, "") for name in ("username", "team", "reason")}
    try:
        username, team = _form("username", 64) or None, _form("team", 100) or None
        stages.reassign(db(), claim_id=claim_id, username=username, team=team, reason=_form("reason", TEXT_MAX),
                        author=current_user())
        commit()
    except DomainError as exc:
        return _sla_refused(claim_id, exc, "reassign", typed)
    flash(_("claim %(number)s reassigned", number=number), "ok")
    return redirect(url_for("pages.claim", ref=number, _anchor="sla"))


@bp.post("/claims/<ref>/priority")
@requires(*claim_sla.PRIORITY_SETTERS)
def claim_priority(ref: str):
    """Set impact and urgency (the priority follows), or choose the priority itself, with a reason."""
    claim = get_claim(ref)
    claim_id, number = claim.id, claim.number
    typed = {name: request.form.get(name, "") for name in ("impact", "urgency", "priority", "reason")}
    try:
        priority = _form("priority", 8) or None
        impact = None if priority else optional_id(_form("impact", 8), "impact")
        urgency = None if priority else optional_id(_form("urgency", 8), "urgency")
        done = stages.change_priority(db(), claim_id=claim_id, impact=impact, urgency=urgency, priority=priority,
                                      reason=_form("reason", TEXT_MAX), author=current_user())
        new = done.priority
        commit()
    except DomainError as exc:
        return _sla_refused(claim_id, exc, "priority", typed)
    flash(_("claim %(number)s is now %(priority)s", number=number, priority=label(new, "priority")), "ok")
    return redirect(url_for("pages.claim", ref=number, _anchor="sla"))


def _replaced_message(claim: Claim) -> str:
    """"X replaced by Y, shipped to customer Z" for the claim's latest replacement."""
    read = queries.claim_read(db(), claim, role=None)
    last = read["replacements"][-1]
    return _("%(returned)s replaced by %(replacement)s, shipped to customer %(customer)s",
             returned=last["returned_serial"], replacement=last["replacement_serial"],
             customer=read["customer"]["name"] if read["customer"] else "—")


def _scanned(ref: str, field: str, typed_as: str, act: Callable[[int, str, str], tuple[str, str]]):
    """A scan posted to a claim, from the station or the desk: `act(claim id, number, serial)` returns the message
    and its kind to flash after the commit; a refusal shows the page again with the scan as typed."""
    claim = get_claim(ref)
    claim_id, number = claim.id, claim.number
    station = request.form.get("from") == "station"
    serial = request.form.get(field, "")
    try:
        serial = _form(field, SERIAL_MAX)
        message, kind = act(claim_id, number, serial)
        commit()
    except DomainError as exc:
        return _refused(claim_id, exc, station=station, **{typed_as: serial})
    flash(message, kind)
    return redirect(url_for("pages.station_claim" if station else "pages.claim", ref=number))


@bp.post("/claims/<ref>/replace")
@requires(*DESK)
def claim_replace(ref: str):
    """Hand out a replacement on the spot (the scanned serial ships to the claim's customer); refusals in place."""

    def replace(claim_id: int, number: str, serial: str) -> tuple[str, str]:
        service.replace_unit(db(), claim_id=claim_id, replacement_serial=serial,
                             on_desk=request.form.get("on_desk") == "1", author=current_user(),
                             today=business_today(settings()), return_days=settings().warranty_return_days)
        return _replaced_message(service.get_claim(db(), claim_id)), "ok"

    return _scanned(ref, "replacement_serial", "replacement_serial", replace)


@bp.post("/claims/<ref>/receive")
@requires(*RECEIVERS)
def claim_receive(ref: str):
    """The receiving scan of one of the claim's cases: the expected unit is received; another one is said loudly."""

    def receive(claim_id: int, number: str, serial: str) -> tuple[str, str]:
        case_id = optional_id(request.form.get("case", ""), "case")
        if case_id is None or service.get_case(db(), case_id).claim_id != claim_id:
            raise NotFound(_("claim %(number)s has no case %(id)s", number=number, id=case_id or "—"),
                           details={"field": "case"})
        done = service.receive_case(db(), case_id=case_id, serial=serial, author=current_user())
        if done.message is not None:
            # A wrong unit is kept as such (the case says so); the desk must not miss it: red, with the low tone.
            return tr(done.message), "error signal red"
        return _("%(serial)s received", serial=serial), "ok"

    return _scanned(ref, "serial", "received_serial", receive)


@bp.post("/claims/<ref>/comments")
@requires(*CLAIM_READERS)
def claim_comment(ref: str):
    """Add a comment (internal, or for the customer) and any attached files to the claim's timeline."""
    claim = get_claim(ref)
    claim_id, number = claim.id, claim.number
    typed = {"body": request.form.get("body", ""), "visibility": request.form.get("visibility", "internal")}
    try:
        files = request.files.getlist("files")
        body = _form("body", comments.BODY_MAX)
        if body or not any(f.filename for f in files):
            comments.add_comment(db(), claim_id=claim_id, body=body, visibility=_form("visibility", 16) or "internal",
                                 author=current_user())
        kept = _attach(claim_id, files)
        commit()
    except DomainError as exc:
        return _refused(claim_id, exc, comment=typed)
    flash(_("added to the timeline") if not kept else
          _("added to the timeline with %(n)s file(s)", n=kept), "ok")
    return redirect(url_for("pages.claim", ref=number, _anchor="timeline"))


# The station's complaint flow ------------------------------------------------------------------------------------

def symptom_choices() -> list[tuple[str, str]]:
    """(code, name) of the active symptom codes, in the list's order: the ones a complaint may name."""
    return [(c.code, str(tr(codes.code_name(FailureList.SYMPTOM, c.code, c.name))))
            for c in codes.list_codes(db(), FailureList.SYMPTOM)]


def symptom_name(code: str) -> str:
    """The name of a symptom code as the code list has it (retired codes too); an unknown code as it is."""
    found = codes.find_code(db(), FailureList.SYMPTOM, code)
    return str(tr(codes.code_name(FailureList.SYMPTOM, code, found.name))) if found else code


def attachment_folder() -> Path:
    """Where claim attachments are kept: the instance folder's attachments/."""
    return Path(settings().instance_dir) / "attachments"


def _attach(claim_id: int, files: list, *, case_id: int | None = None) -> int:
    """Keep each chosen file with the claim (size and type checked by the attachments service); the count kept."""
    kept = 0
    for upload in files:
        if not upload or not upload.filename:
            continue  # a file input left empty sends one nameless part
        attachments.add_attachment(db(), claim_id=claim_id, case_id=case_id, filename=upload.filename,
                                   data=upload.read(), author=current_user(), folder=attachment_folder(),
                                   max_bytes=settings().attachment_max_bytes)
        kept += 1
    return kept


def _complaint_page(serial: str, *, status: int = 200, **extra: Any):
    """The complaint form for the unit `serial`: its dossier, the warnings it would get, the fields."""
    unit = trace_queries.get_unit(db(), serial)
    found = dossier(unit)
    warnings = [tr(w["message"]) for w in service.claim_warnings(db(), serial=unit.serial,
                                                                  today=business_today(settings()))]
    customer = found["customer"]
    # The customer's account manager is asked to confirm before registering (independent registration).
    own = customer["name"] if customer and registration.manages(db(), customer_id=customer["id"],
                                                              author=current_user()) else None
    page = {"dossier": found, "warnings": warnings, "symptoms": symptom_choices(), "own_customer": own,
            "confirm_needed": False,
            "channels": service.CHANNELS, "customers": [] if found["customer"] else claim_list.list_customers(db()),
            "typed": {"symptom": "", "channel": "desk", "description": "", "customer_id": ""},
            "error": None, "error_field": None, **extra}
    return render_template("station_complaint.html", **page), status


@bp.route("/station/complaint", methods=["GET", "POST"])
@requires_page("pages.station_complaint")
def station_complaint():
    """Register a complaint about the unit the station just showed; the warnings before and after, never silent."""
    serial = user_text((request.values.get("serial") or "").strip(), "serial")
    if request.method == "GET":
        # Opened from the menu or a bookmark: the unit is scanned here first.
        return _complaint_page(serial) if serial else render_template("station_complaint.html", dossier=None)
    if not serial:
        raise ValidationError(_("scan the unit the complaint is about"), details={"field": "serial"})
    typed = {name: request.form.get(name, "") for name in ("symptom", "channel", "description", "customer_id")}
    try:
        done = service.register_claim(
            db(), serial=serial, symptom=_form("symptom", 64), channel=_form("channel", 16) or "desk",
            description=_form("description", TEXT_MAX), customer_id=optional_id(typed["customer_id"], "customer_id"),
            author=current_user(), today=business_today(settings()),
            confirm_own_customer=request.form.get(registration.CONFIRM_FIELD) == "1",
            statutory_days=settings().warranty_statutory_days)
        case_id = db().scalar(select(UnitCase.id).where(UnitCase.claim_id == done.claim.id))
        _attach(done.claim.id, request.files.getlist("photos"), case_id=case_id)
        commit()
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        # Refused for the account manager: the form comes back with the confirmation focused, the fields kept.
        own = {"own_customer": exc.details["customer"], "confirm_needed": True} \
            if isinstance(exc, registration.OwnCustomer) else {}
        return _complaint_page(serial, status=exc.status_code, error=exc.message, error_field=field, typed=typed,
                               **own)
    flash(_("claim %(number)s registered", number=done.claim.number), "ok")
    for warning in done.warnings:
        flash(tr(warning["message"]), "signal amber")
    return redirect(url_for("pages.station_claim", ref=done.claim.number))


@bp.get("/station/claims/<ref>")
@requires_page("pages.station_claim")
def station_claim(ref: str):
    """The desk's view of a claim just registered: replace on the spot, receive the unit, print its label."""
    return _claim_page(get_claim(ref), station=True)

