"""Claims: POST /claims at the desk, GET /claims/<id>, POST /claims/<id>/transitions, /replace, /reassign and
/priority."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import Tag

from ...accounts.enums import Role
from ...config import business_today
from ...warranty import queries, service, stages, surveys
from ...warranty.schemas import (
    ClaimCreate,
    ClaimCreatedRead,
    ClaimPriority,
    ClaimRead,
    ClaimReassign,
    ClaimReplace,
    ClaimTransition,
)
from ..auth import CLAIM_READERS, current_user, requires
from ..database import commit, db
from ..i18n import tr
from . import bp, errors, runtime
from .paths import ClaimPath

TAG = Tag(name="claims", description="warranty claims and their state machine")


def _read(claim_id: int) -> dict:
    user = current_user()
    return queries.claim_read(db(), service.get_claim(db(), claim_id), role=user.role if user else None)


@bp.post("/claims", tags=[TAG], responses={201: ClaimCreatedRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.WAREHOUSE, Role.COORDINATOR, Role.SUPERVISOR)
def post_claim(body: ClaimCreate):
    """Register a complaint about a unit: the claim in registered, its unit case expected, and the warnings."""
    done = service.register_claim(
        db(), serial=body.serial, symptom=body.symptom, description=body.description, channel=body.channel,
        customer_id=body.customer_id, author=current_user(), today=business_today(runtime().settings),
        confirm_own_customer=body.confirm_own_customer, impact=body.impact, urgency=body.urgency,
        statutory_days=runtime().settings.warranty_statutory_days)
    commit()
    warnings = [{"code": w["code"], "message": tr(w["message"])} for w in done.warnings]
    return jsonify({**_read(done.claim.id), "warnings": warnings}), 201


@bp.get("/claims/<int:id>", tags=[TAG], responses={200: ClaimRead, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_claim(path: ClaimPath):
    """The claim with its cases, replacements, timeline and the transitions the caller's role may take."""
    return jsonify(_read(path.id))


@bp.post("/claims/<int:id>/transitions", tags=[TAG],
         responses={200: ClaimRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires()
def post_claim_transition(path: ClaimPath, body: ClaimTransition):
    """Move the claim to another state: 409 when its state does not allow it or the step is taken by an action
    (the replacement, the receiving scan, the verdict), 403 when the role does not."""
    settings = runtime().settings
    service.transition_claim(db(), claim_id=path.id, to=body.to, reason=body.reason, author=current_user(),
                             today=business_today(settings), return_days=settings.warranty_return_days,
                             confirm_own_customer=body.confirm_own_customer)
    commit()
    if body.to == "closed":
        surveys.send_quietly(runtime().sessions, settings, path.id)  # best effort: the claim is closed whatever happens
    return jsonify(_read(path.id))


@bp.post("/claims/<int:id>/replace", tags=[TAG],
         responses={201: ClaimRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.WAREHOUSE, Role.COORDINATOR, Role.SUPERVISOR)
def post_claim_replace(path: ClaimPath, body: ClaimReplace):
    """Hand out a replacement on the spot: it ships to the claim's customer, both units are linked, the claim goes
    to replacement_shipped; 409 when the replacement or the returned unit was taken by a concurrent action."""
    settings = runtime().settings
    service.replace_unit(db(), claim_id=path.id, replacement_serial=body.replacement_serial, on_desk=body.on_desk,
                         author=current_user(), today=business_today(settings),
                         return_days=settings.warranty_return_days)
    commit()
    return jsonify(_read(path.id)), 201


@bp.post("/claims/<int:id>/reassign", tags=[TAG],
         responses={200: ClaimRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(*CLAIM_READERS)
def post_claim_reassign(path: ClaimPath, body: ClaimReassign):
    """Hand the claim's current stage to an active user and/or team with a reason (kept in the timeline); the
    owner, the team's supervisor, supervisors and admins may, others get 403. Clocks run on untouched."""
    stages.reassign(db(), claim_id=path.id, username=body.username, team=body.team, reason=body.reason,
                    author=current_user())
    commit()
    return jsonify(_read(path.id))


@bp.post("/claims/<int:id>/priority", tags=[TAG],
         responses={200: ClaimRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.COORDINATOR, Role.SUPERVISOR)
def post_claim_priority(path: ClaimPath, body: ClaimPriority):
    """Set impact and urgency (the priority follows) or the priority itself, with a reason; every clock keeps its
    elapsed time and takes the new target (a breach stays)."""
    stages.change_priority(db(), claim_id=path.id, impact=body.impact, urgency=body.urgency, priority=body.priority,
                           reason=body.reason, author=current_user())
    commit()
    return jsonify(_read(path.id))
