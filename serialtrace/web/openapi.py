"""OpenAPI 3.1 document of /api/v1, written by hand so it says what the handlers promise."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _resp(description: str, schema: dict | None = None) -> dict[str, Any]:
    body = {"description": description}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    return body


def _errors(*codes: int) -> dict[str, Any]:
    names = {400: "bad request", 401: "no or invalid token", 403: "role not allowed", 404: "not found",
             409: "conflict", 413: "upload too large", 422: "invalid input"}
    return {str(c): _resp(names[c], _ERROR) for c in codes}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _text(column) -> dict[str, Any]:
    """A string schema with the column's length limit, the same one the handlers enforce."""
    return {"type": "string", "maxLength": column.type.length}


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    from ..trace.models import Batch, ComponentLot, Customer, Product, Shipment, Unit
    from ..labelling.models import PrintJob

    obj = {"type": "object"}
    whole = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    b, c, lot, pj = Batch.__table__.c, Customer.__table__.c, ComponentLot.__table__.c, PrintJob.__table__.c
    sku = {**_text(Product.__table__.c.sku), "description": "SKU or GTIN"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "serialtrace API", "version": "1",
                 "description": "Serial-number traceability and warranty. Send `Authorization: Bearer <token>`."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                         "details": {}}},
                "BatchCreate": {"type": "object", "required": ["product", "quantity"], "properties": {
                    "product": sku,
                    "quantity": {"type": "integer", "minimum": 0, "maximum": 10000000},
                    "number": _text(b.number),
                    "produced_on": {"type": "string", "format": "date"},
                    "line": _text(b.line), "shift": _text(b.shift),
                    "inputs": {"type": "array", "items": {"type": "object", "properties": {
                        "supplier": _text(lot.supplier), "part": _text(lot.part), "lot": _text(lot.lot_number),
                        "quantity": whole}}}}},
                "ShipmentCreate": {"type": "object", "required": ["customer"], "properties": {
                    "customer": {"type": "object", "required": ["name"], "properties": {
                        "name": _text(c.name), "tax_id": _text(c.tax_id), "contact_name": _text(c.contact_name),
                        "email": _text(c.email), "phone": _text(c.phone)}},
                    "shipped_on": {"type": "string", "format": "date"},
                    "reference": _text(Shipment.__table__.c.reference), "carrier": _text(Shipment.__table__.c.carrier),
                    "destination": {"type": "string"},
                    "serials": {"type": "array", "items": _text(Unit.__table__.c.serial)},
                    "batches": {"type": "array", "items": {"type": "object", "required": ["batch", "quantity"],
                                                           "properties": {"batch": _text(b.number),
                                                                          "quantity": {**whole, "minimum": 1},
                                                                          "product": sku}}},
                    "attributes": {"type": "object"}}},
                "ScanRequest": {"type": "object", "required": ["code"], "properties": {
                    "code": {"type": "string", "description": "raw scanner text, GS as \\u001d"},
                    "station": {"type": "string", "description": "station name; its scanner profile is used"},
                    "source": {"enum": ["api", "camera"], "default": "api",
                               "description": "camera: the code came from a barcode decoder, separators are exact"}}},
                "DecodedCode": {"type": "object", "required": ["text", "format", "symbology_id", "confirmed", "code"],
                                "properties": {
                    "text": {"type": "string"}, "format": {"type": "string"},
                    "symbology_id": {"type": ["string", "null"], "description": "AIM identifier such as ]d2"},
                    "confirmed": {"type": "boolean"},
                    "code": {"type": "string", "description": "symbology_id + text, as POST /scans takes it"},
                    "action": {"const": "rescan", "description": "only on unconfirmed codes, which are not resolved"},
                    "result": {"type": "string"}, "message": {"type": "string"}, "parsed": obj,
                    "matches": {"type": "array", "items": obj}}},
                "ImageUpload": {"type": "object", "required": ["image"], "properties": {
                    "image": {"type": "string", "contentMediaType": "application/octet-stream",
                              "description": "PNG, JPEG, WebP, GIF, BMP or TIFF"},
                    "station": {"type": "string"}}},
                "LabelsRequest": {"type": "object", "properties": {
                    "template": {"type": "string", "default": "roll-50x25",
                                 "description": "built-in or SERIALTRACE_LABEL_TEMPLATES template name"},
                    "format": {"enum": ["pdf", "zpl"], "default": "pdf"},
                    "product": {"type": "string", "description": "SKU when several products share the batch number"},
                    "from": {"type": "integer", "minimum": 0, "description": "first unit index (by unit id)"},
                    "to": {"type": "integer", "minimum": 0, "description": "last unit index, inclusive"}}},
                "PrintJobCreate": {"type": "object", "required": ["batch", "printer"], "properties": {
                    "batch": {"type": "string"}, "product": {"type": "string"},
                    "template": {"type": "string", "default": "roll-50x25"},
                    "printer": {**_text(pj.printer), "description": "HOST:PORT, raw TCP; port 9100, or one listed "
                                                                   "in SERIALTRACE_PRINTERS"},
                    "from": whole, "to": whole}},
                "PrintJob": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "batch": {"type": "string"}, "template": {"type": "string"},
                    "format": {"enum": ["zpl", "pdf", "png"]}, "printer": {"type": ["string", "null"]},
                    "from": {"type": "integer"}, "to": {"type": "integer"},
                    "next_index": {"type": "integer", "description": "first unit index not yet confirmed sent"},
                    "done": {"type": "integer"}, "total": {"type": "integer"},
                    "state": {"enum": ["queued", "printing", "done", "failed"]},
                    "error": {"type": ["string", "null"]}, "attempts": {"type": "integer"},
                    "created_by": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"}}},
                "FrameUpload": {"type": "object", "required": ["frame"], "properties": {
                    "frame": {"type": "string", "contentMediaType": "image/jpeg"},
                    "station": {"type": "string"}}},
            },
        },
        "paths": {
            "/units/{serial}": {"get": {
                "summary": "Unit dossier", "parameters": [_path_param("serial", "serial or external code"),
                                                          {"name": "gtin", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _resp("the dossier", obj), **_errors(401, 403, 404, 409)}}},
            "/scans": {"post": {
                "summary": "Parse raw scanner text and resolve it",
                "description": "result is unit, batch, claim, choose, not_found, invalid, ambiguous, mismatch "
                               "(the label's batch is not the unit's batch: shown for a person to check), or "
                               "repeat (the same code from the same station within a second; not logged again).",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ScanRequest"}}}},
                "responses": {"200": _resp("what was parsed and matched", obj), **_errors(400, 401, 422)}}},
            "/scans/image": {"post": {
                "summary": "Decode the barcodes in a photo and resolve the confirmed ones",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"$ref": "#/components/schemas/ImageUpload"}}}},
                "responses": {"200": _resp("codes found, each with its matches or action rescan", {
                    "type": "object", "properties": {
                        "codes": {"type": "array", "items": {"$ref": "#/components/schemas/DecodedCode"}},
                        "message": {"type": ["string", "null"]}}}),
                    **_errors(400, 401, 413, 422)}}},
            "/scans/frame": {"post": {
                "summary": "Decode one camera frame; codes are confirmed across the station's frames",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"$ref": "#/components/schemas/FrameUpload"}}}},
                "responses": {"200": _resp("codes in this frame, codes confirmed by it, codes pending", {
                    "type": "object", "properties": {
                        "codes": {"type": "array", "items": {"$ref": "#/components/schemas/DecodedCode"}},
                        "confirmed": {"type": "array", "items": {"$ref": "#/components/schemas/DecodedCode"}},
                        "pending": {"type": "integer"}}}),
                    **_errors(400, 401, 413, 422)}}},
            "/batches": {"post": {
                "summary": "Register a batch and allocate its serials",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/BatchCreate"}}}},
                "responses": {"201": _resp("the batch and its serial range", obj),
                              **_errors(400, 401, 403, 404, 409, 422)}}},
            "/batches/{number}": {"get": {
                "summary": "Batch with inputs and distribution",
                "parameters": [_path_param("number", "batch number"),
                               {"name": "product", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _resp("the batch", obj), **_errors(401, 403, 404, 409)}}},
            "/batches/{number}/recall": {"get": {
                "summary": "Recall list of a batch",
                "parameters": [_path_param("number", "batch number"),
                               {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}}],
                "responses": {"200": _resp("customers, contacts, serials, ship dates", obj),
                              **_errors(401, 403, 404, 409)}}},
            "/batches/{number}/labels": {"post": {
                "summary": "The batch's labels as one PDF or ZPL file",
                "description": "A bad template or label is 422 with details {field, rule, index}.",
                "parameters": [_path_param("number", "batch number")],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/LabelsRequest"}}}},
                "responses": {"200": {"description": "the file", "content": {
                    "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}},
                    "application/zpl": {"schema": {"type": "string"}}}},
                    **_errors(400, 401, 403, 404, 409, 422)}}},
            "/print-jobs": {
                "get": {"summary": "Recent print jobs, newest first",
                        "parameters": [{"name": "batch", "in": "query", "schema": {"type": "string"}},
                                       {"name": "product", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": _resp("the jobs", {"type": "object", "properties": {"jobs": {
                            "type": "array", "items": {"$ref": "#/components/schemas/PrintJob"}}}}),
                            **_errors(401, 403, 404, 409)}},
                "post": {"summary": "Send a batch (or a range of it) to a ZPL printer as a resumable job",
                         "description": "Small jobs run at once; the answer's state is done, failed (with error; "
                                        "resume it) or queued (run it with `serialtrace labels resume`).",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/PrintJobCreate"}}}},
                         "responses": {"201": _resp("the job", {"$ref": "#/components/schemas/PrintJob"}),
                                       **_errors(400, 401, 403, 404, 409, 422)}}},
            "/print-jobs/{id}/resume": {"post": {
                "summary": "Continue a failed print job from next_index",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _resp("the job", {"$ref": "#/components/schemas/PrintJob"}),
                              **_errors(401, 403, 404, 409)}}},
            "/shipments": {"post": {
                "summary": "Record a shipment",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ShipmentCreate"}}}},
                "responses": {"201": _resp("the shipment", obj), **_errors(400, 401, 403, 404, 409, 422)}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": _resp("OpenAPI document", obj)}}},
        },
    }
