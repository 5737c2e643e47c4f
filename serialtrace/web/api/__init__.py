"""JSON API /api/v1 for integrations (ERP, MES) and the station's scripts: the blueprint, its checks, its document.

Request bodies, queries and path parameters are the Pydantic models of the domains' schemas modules; flask-openapi3
checks them and writes the OpenAPI document from the same models, so the document cannot drift from the handlers.
The routes live by domain in the modules of this package.
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn

from flask import current_app, g, jsonify, request
from flask_openapi3 import APIBlueprint, Info, OpenAPI
from pydantic import BaseModel, Field
from pydantic import ValidationError as ModelError

from ...errors import ValidationError
from ..auth import requires
from ..i18n import _

PREFIX = "/api/v1"
bp = APIBlueprint("api", __name__, url_prefix=PREFIX)


class ErrorEnvelope(BaseModel):
    """Every error answer: a machine-readable code, a sentence naming the fault, and details (such as the field)."""

    error: str = Field(description="invalid, malformed_json, unauthorized, forbidden, not_found, conflict, busy, ...")
    message: str
    details: Any = None


_ERROR_ANSWERS = {
    400: "malformed_json: the body is not JSON an API call can read (or csrf, for a call riding on the login "
         "cookie without the CSRF header)",
    401: "unauthorized: no, an invalid or a revoked token",
    403: "forbidden: the token's role may not do this",
    404: "not_found",
    409: "conflict, or busy: another action won a race; try again",
    413: "the upload is over the size limit",
    415: "unsupported_type: the upload's content is not a type allowed here",
    422: "invalid input; details.field names the field",
    503: "database_unavailable: the database is not reachable (a restart); nothing was changed, try again after "
         "Retry-After seconds (or, for images and frames, decoder_busy: every decoder is busy)",
}


def errors(*statuses: int) -> dict[int, dict[str, Any]]:
    """The documented error answers of an operation, each the envelope; every operation may answer 503 while the
    database is down."""
    schema = {"$ref": f"#/components/schemas/{ErrorEnvelope.__name__}"}
    return {code: {"description": _ERROR_ANSWERS[code], "content": {"application/json": {"schema": schema}}}
            for code in sorted({*statuses, 503})}


def _label(loc: tuple) -> str:
    """The field a model error is about, as a client names it: inputs[0].quantity, customer.name, serials[2]."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# Pydantic's error types, as sentences naming the field; the rule types raised by the schemas bring their own words.
_MESSAGES = {
    "missing": "field %(name)s is required",
    "string_type": "field %(name)s must be a string",
    "string_too_long": "field %(name)s has at most %(max_length)s characters",
    "string_unicode": "field %(name)s is not valid Unicode text",
    "int_type": "field %(name)s must be a whole number",
    "list_type": "field %(name)s must be a list",
    "dict_type": "field %(name)s must be an object",
    "model_type": "field %(name)s must be an object",
    "model_attributes_type": "field %(name)s must be an object",
    "literal_error": "field %(name)s must be %(expected)s",
}


def field_error(exc: ModelError) -> ValidationError:
    """The first problem of a request's models as the 422 ValidationError naming the field."""
    first = exc.errors(include_url=False)[0]
    kind, loc, ctx = first["type"], first["loc"], first.get("ctx") or {}
    if not loc:
        # The body itself: not an object, not JSON, or sent with another content type.
        return ValidationError(_("send a JSON object with Content-Type: application/json"))
    name = _label(loc)
    if kind == "date":
        message = ctx["message"]  # the date rule's own sentence, which names the field
    elif first.get("input", ...) is None and kind not in ("missing", "literal_error"):
        message = _("field %(name)s is required", name=name)
    elif kind in ("model_type", "dict_type", "model_attributes_type") and isinstance(loc[-1], int):
        message = _("%(name)s must be an object", name=name)
    elif kind in _MESSAGES:
        values = {k: str(v).replace("'", "") for k, v in ctx.items()}
        message = _(_MESSAGES[kind], name=name, **values)
    else:
        message = _("field %(name)s %(rule)s", name=name, rule=first["msg"])
    return ValidationError(message, details={"field": name})


def _refuse(exc: ModelError) -> NoReturn:
    # Raised, not answered: the one error handler writes the envelope, as for every other ValidationError.
    raise field_error(exc)


def openapi_app(import_name: str) -> OpenAPI:
    """The Flask app, as flask-openapi3's subclass that collects the API's operations for the document."""
    return OpenAPI(
        import_name,
        info=Info(title="serialtrace API", version="1",
                  description="Serial-number traceability and warranty. Send `Authorization: Bearer <token>`."),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        validation_error_status=422, validation_error_model=ErrorEnvelope, validation_error_callback=_refuse,
        # The document is served by the blueprint at /api/v1/openapi.json; no documentation pages (no CDN).
        doc_ui=False,
    )


@bp.before_request
def _csrf_for_cookie_sessions():
    # Bearer-token calls are exempt from CSRF; calls riding on the login cookie are not.
    # Anonymous calls are left to `requires`, which answers 401 rather than a confusing CSRF error.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("via_token") and g.get("user") is not None:
        from .. import csrf

        csrf.protect()


def _allowed() -> None:
    return None


@bp.before_request
def _token_and_role_first():
    # flask-openapi3 checks a request's models before the view's own decorators run: the token and the role are
    # checked here first (the view's @requires, run early), so a caller without them gets 401 or 403, not 422,
    # and learns nothing of the body's rules.
    roles = getattr(current_app.view_functions.get(request.endpoint or ""), "required_roles", None)
    if roles is not None:
        requires(*roles)(_allowed)()


def runtime():
    """The app's Runtime: settings, sessions, the serial scheme."""
    return current_app.extensions["serialtrace"]


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document: paths relative to the server /api/v1, every operation behind the bearer token."""
    cached = current_app.extensions.get("serialtrace.openapi")
    if cached is None:
        doc = copy.deepcopy(current_app.api_doc)
        doc["servers"] = [{"url": PREFIX}]
        doc["security"] = [{"bearer": []}]
        doc["paths"] = {path.removeprefix(PREFIX): item for path, item in doc["paths"].items()}
        # flask-openapi3 adds a 422 to every operation that lists none; this one takes no input.
        doc["paths"]["/openapi.json"]["get"]["responses"].pop("422", None)
        from ..ratelimit import document_answers
        from .links import add_links

        add_links(doc)
        document_answers(doc)
        cached = current_app.extensions["serialtrace.openapi"] = doc
    return cached


@bp.get("/openapi.json", responses={200: {"description": "this document", "content": {
    "application/json": {"schema": {"type": "object"}}}}}, openapi_extensions={"security": []})
def openapi():
    """This document (no token needed)."""
    return jsonify(document())


# The routes, by domain; imported last because they register on `bp`.
from . import batches, bench, cases, claims, codes, dispositions, labels, reports, scans, shipments, surveys, units  # noqa: E402,F401
from . import eightd as eightd_routes  # noqa: E402,F401
from . import knowledge as knowledge_routes  # noqa: E402,F401
from . import lots as lot_routes  # noqa: E402,F401
from . import notifications as notification_routes  # noqa: E402,F401
from . import quality as quality_routes  # noqa: E402,F401
from . import quality_compare as quality_compare_routes  # noqa: E402,F401
from . import quality_drilldown as quality_drilldown_routes  # noqa: E402,F401
from . import quality_field as quality_field_routes  # noqa: E402,F401
from . import quality_sla as quality_sla_routes  # noqa: E402,F401
from . import recalls as recall_routes  # noqa: E402,F401
from . import security_events as security_event_routes  # noqa: E402,F401
from . import stations as station_routes  # noqa: E402,F401
from . import teams as setup  # noqa: E402,F401
from . import worklist as worklist_routes  # noqa: E402,F401
