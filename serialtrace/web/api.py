"""JSON API /api/v1 for integrations (ERP, MES) and the station's scripts."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context, url_for
from sqlalchemy import select

from ..errors import ValidationError
from ..scanner import ImageError, decode_frame, decode_image
from ..scanner.decode import MAX_IMAGE_BYTES, load_gray
from ..trace import genealogy, queries, service
from ..trace.dossier import batch_dict, product_dict
from ..trace.models import Batch, Product, ShipmentItem
from ..warranty.dossier import unit_dossier
from ..trace.enums import Role
from .auth import current_user, requires
from .database import commit, db
from .i18n import _
from .openapi import openapi_document
from .scanning import (FrameTrackers, ImageRejected, check_image_bytes, code_dict, image_error, scan_payload,
                       scan_text)

bp = Blueprint("api", __name__)

ANY = ()
R = Role


@bp.before_request
def _csrf_for_cookie_sessions():
    # Bearer-token calls are exempt from CSRF; calls riding on the login cookie are not.
    # Anonymous calls are left to `requires`, which answers 401 rather than a confusing CSRF error.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("via_token") and g.get("user") is not None:
        from . import csrf

        csrf.protect()


def _runtime():
    return current_app.extensions["serialtrace"]


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(_("send a JSON object with Content-Type: application/json"))
    return data


def _field(data: dict, name: str, kind: type, *, required: bool = True, default: Any = None) -> Any:
    value = data.get(name, default)
    if value is None:
        if required:
            raise ValidationError(_("field %(name)s is required", name=name), details={"field": name})
        return default
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValidationError(_("field %(name)s must be a whole number", name=name), details={"field": name})
    if kind is str and not isinstance(value, str):
        raise ValidationError(_("field %(name)s must be a string", name=name), details={"field": name})
    if kind is list and not isinstance(value, list):
        raise ValidationError(_("field %(name)s must be a list", name=name), details={"field": name})
    return value


def _date_field(data: dict, name: str) -> date | None:
    raw = _field(data, name, str, required=False)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_("field %(name)s must be a date YYYY-MM-DD", name=name), details={"field": name}) from None


@bp.get("/units/<path:serial>")
@requires(*ANY)
def get_unit(serial: str):
    """The unit dossier."""
    unit = queries.get_unit(db(), serial, gtin=request.args.get("gtin"))
    return jsonify(unit_dossier(db(), unit, grace_days=_runtime().settings.warranty_grace_days))


@bp.post("/scans")
@requires(*ANY)
def post_scan():
    """Parse raw scanner text and say what it matched."""
    data = _body()
    code = _field(data, "code", str)
    station = _field(data, "station", str, required=False, default="")
    source = _field(data, "source", str, required=False, default="api")
    if source not in ("api", "camera"):
        raise ValidationError(_("field source must be api or camera"), details={"field": "source"})
    result = scan_payload(db(), code, station=station, user=current_user(), source=source)
    commit()
    return jsonify(result)


@bp.post("/scans/image")
@requires(*ANY)
def post_scan_image():
    """Decode the barcodes in an uploaded photo; resolve the confirmed ones, mark the rest for a rescan."""
    data = _upload("image")
    try:
        codes = decode_image(data)
    except ImageError as exc:
        raise image_error(exc) from None
    station = request.form.get("station") or ""
    out = []
    for code in codes:
        body = code_dict(code)
        if code.confirmed:
            payload = scan_payload(db(), scan_text(code), station=station, user=current_user(), source="image")
            body.update({k: payload.get(k) for k in ("result", "message", "parsed", "matches")})
        out.append(body)
    commit()
    message = None if codes else _("no barcode found in the image; take the photo closer and sharper")
    return jsonify({"codes": out, "message": message})


@bp.post("/scans/frame")
@requires(*ANY)
def post_scan_frame():
    """Decode one camera frame; a code is confirmed across this station's frames, then the page submits it."""
    data = _upload("frame")
    try:
        codes = decode_frame(load_gray(data))
    except ImageError as exc:
        raise image_error(exc) from None
    station = (request.form.get("station") or "")[:64]
    confirmed, pending = _frame_trackers().feed((station, current_user().id), codes)
    return jsonify({"codes": [code_dict(c) for c in codes], "confirmed": [code_dict(c) for c in confirmed],
                    "pending": pending})


def _frame_trackers() -> FrameTrackers:
    ext = current_app.extensions
    # setdefault is atomic under the GIL, so two first frames at once still share one registry.
    return ext.setdefault("serialtrace_frames", FrameTrackers())


def _upload(field: str) -> bytes:
    upload = request.files.get(field)
    if upload is None:
        raise ImageRejected(_("send the image as multipart/form-data field %(field)s", field=field),
                            details={"field": field})
    limit = current_app.config["MAX_CONTENT_LENGTH"] or MAX_IMAGE_BYTES
    data = upload.read(limit + 1)
    check_image_bytes(data, min(limit, MAX_IMAGE_BYTES))
    return data


@bp.get("/batches/<path:number>")
@requires(*ANY)
def get_batch(number: str):
    """A batch with its product, inputs and where its units went."""
    batch = queries.get_batch(db(), number, sku=request.args.get("product"))
    product = db().get(Product, batch.product_id)
    back, fwd = genealogy.backward(db(), batch), genealogy.forward(db(), batch)
    return jsonify({**batch_dict(batch), "product": product_dict(product), "inputs": back["inputs"],
                    "units_by_status": fwd["units_by_status"], "customers": fwd["customers"],
                    "recall_url": url_for("api.get_recall", number=batch.number)})


@bp.get("/batches/<path:number>/recall")
@requires(R.QUALITY, R.SUPERVISOR, R.COORDINATOR)
def get_recall(number: str):
    """Recall list of a batch: customers, contacts, serials, ship dates (JSON, or CSV with ?format=csv)."""
    batch = queries.get_batch(db(), number, sku=request.args.get("product"))
    rows = genealogy.recall_rows(db(), batch_ids=[batch.id])
    if request.args.get("format") == "csv":
        return Response(stream_with_context(genealogy.recall_csv(rows)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="recall-{batch.number}.csv"'})
    items = list(rows)
    customers = sorted({r["customer"] for r in items})
    return jsonify({"batch": batch.number, "units": sum(r["quantity"] for r in items), "customers": customers,
                    "rows": items})


@bp.post("/batches")
@requires(R.PRODUCTION)
def post_batch():
    """Register a batch and allocate its serials."""
    data = _body()
    inputs = []
    for i, item in enumerate(_field(data, "inputs", list, required=False, default=[])):
        if not isinstance(item, dict):
            raise ValidationError(_("inputs[%(i)s] must be an object", i=i), details={"field": f"inputs[{i}]"})
        inputs.append(service.LotInput(supplier=str(item.get("supplier", "")), part=str(item.get("part", "")),
                                       lot_number=str(item.get("lot", "")), quantity=item.get("quantity")))
    batch, serials = service.register_batch(
        db(), product=_field(data, "product", str), quantity=_field(data, "quantity", int),
        number=_field(data, "number", str, required=False), produced_on=_date_field(data, "produced_on"),
        line=_field(data, "line", str, required=False, default=""),
        shift=_field(data, "shift", str, required=False, default=""), inputs=inputs,
        scheme=_runtime().serial_scheme(), author=current_user())
    commit()
    body = {"batch": batch.number, "quantity": batch.quantity, "first_serial": serials[0] if serials else None,
            "last_serial": serials[-1] if serials else None}
    if len(serials) <= 10_000:
        body["serials"] = serials
    return jsonify(body), 201, {"Location": url_for("api.get_batch", number=batch.number)}


@bp.post("/shipments")
@requires(R.WAREHOUSE, R.PRODUCTION)
def post_shipment():
    """Record a shipment by serials and/or batch lines."""
    data = _body()
    cust = data.get("customer")
    if isinstance(cust, str):
        cust = {"name": cust}
    if not isinstance(cust, dict):
        raise ValidationError(_("field customer must be an object with name and tax_id"), details={"field": "customer"})
    customer = service.get_or_create_customer(
        db(), name=str(cust.get("name", "")), tax_id=cust.get("tax_id"),
        contact_name=str(cust.get("contact_name", "")), email=str(cust.get("email", "")),
        phone=str(cust.get("phone", "")))
    lines = []
    for i, item in enumerate(_field(data, "batches", list, required=False, default=[])):
        if not isinstance(item, dict):
            raise ValidationError(_("batches[%(i)s] must be an object", i=i), details={"field": f"batches[{i}]"})
        lines.append(service.BatchLine(batch=_field(item, "batch", str), quantity=_field(item, "quantity", int),
                                       sku=_field(item, "product", str, required=False)))
    serials = _field(data, "serials", list, required=False, default=[])
    if not all(isinstance(s, str) for s in serials):
        raise ValidationError(_("serials must be strings"), details={"field": "serials"})
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ValidationError(_("field attributes must be an object"), details={"field": "attributes"})
    shipment = service.create_shipment(
        db(), customer=customer, shipped_on=_date_field(data, "shipped_on") or date.today(), serials=serials,
        batch_lines=lines, reference=_field(data, "reference", str, required=False, default=""),
        carrier=_field(data, "carrier", str, required=False, default=""),
        destination=_field(data, "destination", str, required=False, default=""),
        attributes=attributes, author=current_user())
    commit()
    units = db().scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == shipment.id)).all()
    return jsonify({"id": shipment.id, "customer": customer.name, "shipped_on": shipment.shipped_on.isoformat(),
                    "reference": shipment.reference, "items": len(units),
                    "quantity": sum(u.quantity for u in units)}), 201


@bp.post("/batches/<path:number>/labels")
@requires(R.PRODUCTION)
def post_batch_labels(number: str):
    """The batch's labels as one PDF or ZPL file, streamed; a bad template or label is 422 naming field and rule."""
    from .labelviews import file_response, render_file

    data = _body()
    batch = queries.get_batch(db(), number, sku=_field(data, "product", str, required=False))
    kind = _field(data, "format", str, required=False, default="pdf")
    spool, _count = render_file(batch, _field(data, "template", str, required=False, default="roll-50x25"), kind,
                                first=_field(data, "from", int, required=False),
                                last=_field(data, "to", int, required=False))
    commit()
    return file_response(spool, kind, f"labels-{batch.number}.{kind}")


@bp.get("/print-jobs")
@requires(R.PRODUCTION)
def get_print_jobs():
    """Recent print jobs, newest first (?batch= narrows to one batch)."""
    from ..trace.printing import list_print_jobs
    from .labelviews import job_dict

    batch_id = None
    if request.args.get("batch"):
        batch_id = queries.get_batch(db(), request.args["batch"], sku=request.args.get("product")).id
    return jsonify({"jobs": [job_dict(job, b.number) for job, b in list_print_jobs(db(), batch_id=batch_id)]})


@bp.post("/print-jobs")
@requires(R.PRODUCTION)
def post_print_job():
    """Queue a print job and run it now when it is small; the answer says how far it got."""
    from ..labelling import queue_print
    from .labelviews import job_dict, start_job

    data = _body()
    batch = queries.get_batch(db(), _field(data, "batch", str), sku=_field(data, "product", str, required=False))
    job = queue_print(db(), _runtime().settings, batch=batch,
                      template=_field(data, "template", str, required=False, default="roll-50x25"),
                      printer=_field(data, "printer", str), first=_field(data, "from", int, required=False),
                      last=_field(data, "to", int, required=False), author=current_user())
    commit()
    job = start_job(job)
    return jsonify(job_dict(job, batch.number)), 201, {"Location": url_for("api.get_print_jobs")}


@bp.post("/print-jobs/<int:job_id>/resume")
@requires(R.PRODUCTION)
def post_print_job_resume(job_id: int):
    """Continue a failed print job from next_index."""
    from ..trace.printing import resume_print_job
    from .labelviews import job_dict, start_job

    job = resume_print_job(db(), job_id)
    number = db().get(Batch, job.batch_id).number
    commit()
    return jsonify(job_dict(start_job(job), number))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
