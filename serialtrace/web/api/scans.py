"""Scans: raw scanner text, photos and camera frames, parsed, decoded and resolved to units, batches and claims."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_openapi3 import Tag

from ...errors import ImageRejected
from ...scanner.decode import MAX_IMAGE_BYTES
from ...scanner.header import ensure_image_upload
from ...scanner.worker import default_pool
from ...station import service as station_service
from ...station.schemas import (
    FrameScanRead,
    FrameUpload,
    ImageScanRead,
    ImageUpload,
    ScanCreate,
    ScanRead,
    code_dict,
    scan_text,
)
from ..auth import current_user, requires
from ..database import commit, db, reads_first
from ..i18n import _, tr_all
from ..scanning import frame_trackers, scan_log_writer
from . import bp, errors, runtime

TAG = Tag(name="scans", description="what a scanner, a photo or a camera frame reads, resolved")
# Station names are at most this long; a frame's station is only a key for its confirmation tracker.
STATION_KEY = 64


@bp.post("/scans", tags=[TAG], responses={200: ScanRead, **errors(400, 401, 409, 413, 422)})
@requires()
@reads_first
def post_scan(body: ScanCreate):
    """Parse raw scanner text and say what it matched."""
    result = station_service.scan_payload(db(), body.code, station=body.station or "", user=current_user(),
                                          source=body.source or "api", log=scan_log_writer(),
                                          scheme=runtime().serial_scheme())
    commit()
    # The messages in the answer read in the caller's language (Accept-Language), as error messages do.
    return jsonify(tr_all(result))


@bp.post("/scans/image", tags=[TAG], responses={200: ImageScanRead, **errors(400, 401, 409, 413, 422, 503)})
@requires()
@reads_first
def post_scan_image(form: ImageUpload):
    """Decode the barcodes in an uploaded photo; resolve the confirmed ones, mark the rest for a rescan."""
    data = _upload("image")
    codes = decode_image(data)
    # Read as sent: the form model would have read "12" as the number 12.
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
    return jsonify(tr_all({"codes": out, "message": message}))


@bp.post("/scans/frame", tags=[TAG], responses={200: FrameScanRead, **errors(400, 401, 409, 413, 422, 503)})
@requires()
def post_scan_frame(form: FrameUpload):
    """Decode one camera frame; a code is confirmed across this station's frames, then the page submits it."""
    data = _upload("frame")
    codes = decode_frame(data)
    station = (request.form.get("station") or "")[:STATION_KEY]
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
        # The form model takes a text field of this name too; only a file is an image.
        raise ImageRejected(_("send the image as multipart/form-data field %(field)s", field=field),
                            details={"field": field})
    limit = current_app.config["MAX_CONTENT_LENGTH"] or MAX_IMAGE_BYTES
    data = upload.read(limit + 1)
    ensure_image_upload(data, limit=min(limit, MAX_IMAGE_BYTES))
    return data
