"""JSON API /api/v1 for integrations (ERP, MES) and the station's scripts."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from sqlalchemy import Column, select

from ..accounts.enums import Role
from ..config import business_today
from ..errors import ImageRejected, ValidationError
from ..scanner.decode import MAX_IMAGE_BYTES
from ..scanner.header import ensure_image_upload
from ..scanner.worker import default_pool
from ..station import service as station_service
from ..station.schemas import code_dict, scan_text
from ..trace import genealogy, queries, service
from ..trace.dossier import batch_dict, product_dict
from ..labelling.models import PrintJob
from ..trace.models import Batch, ComponentLot, Customer, Product, Shipment, ShipmentItem, Unit
from ..warranty.dossier import unit_dossier
from .auth import current_user, requires
from .downloads import recall_csv_response
from .database import commit, db, reads_first
from .i18n import _
from .openapi import openapi_document
from .scanning import frame_trackers, scan_log_writer

bp = Blueprint("api", __name__)

# Integer columns are 32-bit on PostgreSQL; a larger number would fail in the driver, not here.
MAX_INT = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NUL = re.compile(r"\x00")

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


def _field(data: dict, name: str, kind: type, *, required: bool = True, default: Any = None,
           column: Column | None = None, low: int = 0, high: int = MAX_INT, label: str | None = None,
           controls: bool = False) -> Any:
    """A field of the JSON body, checked for type, range, length and control characters.

    `column` supplies the length limit of a string, so it cannot drift from the table; `label` is the name
    reported for a nested field (batches[0].quantity); `controls` lets a string carry control characters
    other than NUL (a raw scan holds GS separators).
    """
    label = label or name
    value = data.get(name, default)
    if value is None:
        if required:
            raise ValidationError(_("field %(name)s is required", name=label), details={"field": label})
        return default
    if kind is int:
        return _whole_number(value, label, low=low, high=high)
    if kind is str:
        return _string(value, label, column=column, controls=controls)
    if kind is list and not isinstance(value, list):
        raise ValidationError(_("field %(name)s must be a list", name=label), details={"field": label})
    return value


def _whole_number(value: Any, label: str, *, low: int = 0, high: int = MAX_INT) -> int:
    # bool is an int subclass and 1e30 arrives as a float; both are refused rather than coerced.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("field %(name)s must be a whole number", name=label), details={"field": label})
    if not low <= value <= high:
        raise ValidationError(_("field %(name)s must be from %(low)s to %(high)s", name=label, low=low, high=high),
                              details={"field": label})
    return value


def _string(value: Any, label: str, *, column: Column | None = None, controls: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("field %(name)s must be a string", name=label), details={"field": label})
    limit = getattr(column.type, "length", None) if column is not None else None
    if limit is not None and len(value) > limit:
        raise ValidationError(_("field %(name)s has at most %(limit)s characters", name=label, limit=limit),
                              details={"field": label})
    if (_NUL if controls else _CONTROL).search(value):
        raise ValidationError(_("field %(name)s must not contain control characters", name=label),
                              details={"field": label})
    if _SURROGATE.search(value):
        # JSON can carry "\ud800", which is not text: SQLite would store it and fail on every later read.
        raise ValidationError(_("field %(name)s is not valid Unicode text", name=label), details={"field": label})
    return value


def _json_value(value: Any, label: str, depth: int = 0) -> None:
    """Free JSON (shipment attributes): strings without NUL, finite numbers, bounded nesting."""
    if depth > 10:
        raise ValidationError(_("field %(name)s is nested too deeply", name=label), details={"field": label})
    if isinstance(value, dict):
        for key, item in value.items():
            _string(key, label, controls=True)
            _json_value(item, label, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_value(item, label, depth + 1)
    elif isinstance(value, str):
        _string(value, label, controls=True)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(_("field %(name)s must hold finite numbers", name=label), details={"field": label})


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
    settings = _runtime().settings
    return jsonify(unit_dossier(db(), unit, today=business_today(settings), grace_days=settings.warranty_grace_days))


@bp.post("/scans")
@requires(*ANY)
@reads_first
def post_scan():
    """Parse raw scanner text and say what it matched."""
    data = _body()
    code = _field(data, "code", str, controls=True)
    station = _field(data, "station", str, required=False, default="")
    source = _field(data, "source", str, required=False, default="api")
    if source not in ("api", "camera"):
        raise ValidationError(_("field source must be api or camera"), details={"field": "source"})
    result = station_service.scan_payload(db(), code, station=station, user=current_user(), source=source,
                                          log=scan_log_writer(), scheme=_runtime().serial_scheme())
    commit()
    return jsonify(result)


@bp.post("/scans/image")
@requires(*ANY)
@reads_first
def post_scan_image():
    """Decode the barcodes in an uploaded photo; resolve the confirmed ones, mark the rest for a rescan."""
    data = _upload("image")
    codes = decode_image(data)
    station = request.form.get("station") or ""
    out = []
    for code in codes:
        body = code_dict(code)
        if code.confirmed:
            payload = station_service.scan_payload(db(), scan_text(code), station=station, user=current_user(),
                                                   source="image", log=scan_log_writer())
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
    codes = decode_frame(data)
    station = (request.form.get("station") or "")[:64]
    confirmed, pending = frame_trackers().feed((station, current_user().id), codes)
    return jsonify({"codes": [code_dict(c) for c in codes], "confirmed": [code_dict(c) for c in confirmed],
                    "pending": pending})


def decode_image(data: bytes) -> list:
    """Decode an uploaded photo in a worker process, so a hostile one is stopped at the deadline."""
    return default_pool().decode_image(data, timeout=current_app.config.get("DECODE_TIMEOUT"))


def decode_frame(data: bytes) -> list:
    """Decode an uploaded camera frame in a worker process, with the same deadline."""
    return default_pool().decode_frame(data, timeout=current_app.config.get("DECODE_TIMEOUT"))


def _upload(field: str) -> bytes:
    upload = request.files.get(field)
    if upload is None:
        raise ImageRejected(_("send the image as multipart/form-data field %(field)s", field=field),
                            details={"field": field})
    limit = current_app.config["MAX_CONTENT_LENGTH"] or MAX_IMAGE_BYTES
    data = upload.read(limit + 1)
    ensure_image_upload(data, limit=min(limit, MAX_IMAGE_BYTES))
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
    if request.args.get("format") == "csv":
        return recall_csv_response(db(), batch)
    items = list(genealogy.recall_rows(db(), batch_ids=[batch.id]))
    customers = sorted({r["customer"] for r in items})
    return jsonify({"batch": batch.number, "units": sum(r["quantity"] for r in items), "customers": customers,
                    "rows": items})


@bp.post("/batches")
@requires(R.PRODUCTION)
def post_batch():
    """Register a batch and allocate its serials."""
    data = _body()
    lot, c = ComponentLot.__table__.c, Batch.__table__.c
    inputs = []
    for i, item in enumerate(_field(data, "inputs", list, required=False, default=[])):
        if not isinstance(item, dict):
            raise ValidationError(_("inputs[%(i)s] must be an object", i=i), details={"field": f"inputs[{i}]"})
        where = f"inputs[{i}]."
        inputs.append(service.LotInput(
            supplier=_field(item, "supplier", str, default="", column=lot.supplier, label=where + "supplier"),
            part=_field(item, "part", str, default="", column=lot.part, label=where + "part"),
            lot_number=_field(item, "lot", str, default="", column=lot.lot_number, label=where + "lot"),
            quantity=_field(item, "quantity", int, required=False, label=where + "quantity")))
    batch, serials = service.register_batch(
        db(), product=_field(data, "product", str, column=Product.__table__.c.sku),
        quantity=_field(data, "quantity", int, high=10_000_000),
        number=_field(data, "number", str, required=False, column=c.number),
        produced_on=_date_field(data, "produced_on") or business_today(_runtime().settings),
        line=_field(data, "line", str, required=False, default="", column=c.line),
        shift=_field(data, "shift", str, required=False, default="", column=c.shift), inputs=inputs,
        scheme=_runtime().serial_scheme(), author=current_user(), today=business_today(_runtime().settings))
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
    c = Customer.__table__.c
    contact = {name: _field(cust, name, str, default="", column=c[name], label=f"customer.{name}")
               for name in ("name", "contact_name", "email", "phone")}
    customer = service.get_or_create_customer(
        db(), tax_id=_field(cust, "tax_id", str, required=False, column=c.tax_id, label="customer.tax_id"), **contact)
    lines = []
    for i, item in enumerate(_field(data, "batches", list, required=False, default=[])):
        if not isinstance(item, dict):
            raise ValidationError(_("batches[%(i)s] must be an object", i=i), details={"field": f"batches[{i}]"})
        where = f"batches[{i}]."
        lines.append(service.BatchLine(
            batch=_field(item, "batch", str, column=Batch.__table__.c.number, label=where + "batch"),
            quantity=_field(item, "quantity", int, low=1, label=where + "quantity"),
            sku=_field(item, "product", str, required=False, column=Product.__table__.c.sku, label=where + "product")))
    serials = [_string(s, f"serials[{i}]", column=Unit.__table__.c.serial)
               for i, s in enumerate(_field(data, "serials", list, required=False, default=[]))]
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ValidationError(_("field attributes must be an object"), details={"field": "attributes"})
    _json_value(attributes, "attributes")
    sc = Shipment.__table__.c
    shipment = service.create_shipment(
        db(), customer=customer, shipped_on=_date_field(data, "shipped_on") or business_today(_runtime().settings), serials=serials,
        batch_lines=lines, reference=_field(data, "reference", str, required=False, default="", column=sc.reference),
        carrier=_field(data, "carrier", str, required=False, default="", column=sc.carrier),
        destination=_field(data, "destination", str, required=False, default=""),
        attributes=attributes, author=current_user(), today=business_today(_runtime().settings))
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

    from ..labelling.queries import ensure_label_range

    data = _body()
    batch = queries.get_batch(db(), number, sku=_field(data, "product", str, required=False,
                                                       column=Product.__table__.c.sku))
    kind = _field(data, "format", str, required=False, default="pdf")
    template = _field(data, "template", str, required=False, default="roll-50x25", column=PrintJob.__table__.c.template)
    first, last = _field(data, "from", int, required=False), _field(data, "to", int, required=False)
    # Checked against the unit count here, so a range past the batch is a 422 and not a failure mid-render.
    ensure_label_range(db(), batch, first=first, last=last)
    spool, _count = render_file(batch, template, kind, first=first, last=last)
    commit()
    return file_response(spool, kind, f"labels-{batch.number}.{kind}")


@bp.get("/print-jobs")
@requires(R.PRODUCTION)
def get_print_jobs():
    """Recent print jobs, newest first (?batch= narrows to one batch)."""
    from ..labelling.queries import list_print_jobs
    from .labelviews import job_dict

    batch_id = None
    if request.args.get("batch"):
        batch_id = queries.get_batch(db(), request.args["batch"], sku=request.args.get("product")).id
    return jsonify({"jobs": [job_dict(job, b.number) for job, b in list_print_jobs(db(), batch_id=batch_id)]})


@bp.post("/print-jobs")
@requires(R.PRODUCTION)
def post_print_job():
    """Queue a print job and run it now when it is small; the answer says how far it got."""
    from ..labelling.service import create_print_job
    from .labelviews import job_dict, start_job

    data = _body()
    pc = PrintJob.__table__.c
    batch = queries.get_batch(db(), _field(data, "batch", str, column=Batch.__table__.c.number),
                              sku=_field(data, "product", str, required=False, column=Product.__table__.c.sku))
    job = create_print_job(db(), settings=_runtime().settings, batch=batch,
                           template=_field(data, "template", str, required=False, default="roll-50x25",
                                           column=pc.template),
                           printer=_field(data, "printer", str, column=pc.printer),
                           first=_field(data, "from", int, required=False),
                           last=_field(data, "to", int, required=False), author=current_user())
    commit()
    job = start_job(job)
    return jsonify(job_dict(job, batch.number)), 201, {"Location": url_for("api.get_print_jobs")}


@bp.post("/print-jobs/<int:job_id>/resume")
@requires(R.PRODUCTION)
def post_print_job_resume(job_id: int):
    """Continue a failed print job from next_index."""
    from ..labelling.service import resume_print_job
    from .labelviews import job_dict, start_job

    job = resume_print_job(db(), job_id)
    number = db().get(Batch, job.batch_id).number
    commit()
    return jsonify(job_dict(start_job(job), number))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
