"""Unit cases and the test queue: GET /cases/<id>, POST /cases/<id>/receive, GET /test-queue."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import Tag

from ...accounts.enums import Role
from ...warranty import queries, service
from ...warranty.schemas import CaseRead, CaseReceive, CaseReceivedRead, TestQueueRead
from ..auth import CLAIM_READERS, current_user, requires
from ..database import commit, db
from ..i18n import tr
from . import bp, errors
from .paths import CasePath

TAG = Tag(name="cases", description="returned units: receiving and the engineers' test queue")


@bp.get("/cases/<int:id>", tags=[TAG], responses={200: CaseRead, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_case(path: CasePath):
    """The unit case with its claim and test procedure (null until the product has one)."""
    return jsonify(queries.case_read(db(), service.get_case(db(), path.id).id))


@bp.post("/cases/<int:id>/receive", tags=[TAG],
         responses={200: CaseReceivedRead, **errors(400, 401, 403, 404, 409, 413, 422)})
# The roles of the case table's receiving steps (workflow.CASE_ROLES), so the route and the service agree.
@requires(Role.WAREHOUSE, Role.SUPERVISOR)
def post_case_receive(path: CasePath, body: CaseReceive):
    """The receiving scan: the expected serial makes the case received and the unit returned; another serial makes
    it wrong_unit and the message says so; 409 when the case's state does not allow receiving."""
    done = service.receive_case(db(), case_id=path.id, serial=body.serial, author=current_user())
    commit()
    message = tr(done.message) if done.message is not None else None
    return jsonify({**queries.case_read(db(), path.id), "message": message})


@bp.get("/test-queue", tags=[TAG], responses={200: TestQueueRead, **errors(401, 403, 409, 422)})
@requires(Role.ENGINEER, Role.SUPERVISOR, Role.QUALITY)
def get_test_queue():
    """The engineers' queue: received and in-test cases, advance-replaced first, then priority, then age."""
    return jsonify({"items": queries.test_queue(db())})
