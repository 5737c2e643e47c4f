"""Input and output shapes of the trace domain, and the field types every API body is checked with.

The field types carry the limits the database and the rules impose (string lengths from the columns, 32-bit
integers, no control characters, dates through the business date rule), so a body is checked once, at the
edge, and the OpenAPI document shows the same limits.
"""

import math
import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, Strict, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy import Column

from ..errors import ValidationError
from .models import Batch, ComponentLot, Customer, Product, Shipment, Unit
from .policy import MAX_BATCH_QUANTITY, MAX_INT, parse_date

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Free JSON (shipment attributes) nests at most this deep; nothing an ERP sends comes close.
JSON_NESTING = 10


def _text(value: str) -> str:
    if _SURROGATE.search(value):
        # JSON can carry "\ud800", which is not text: SQLite would store it and fail on every later read.
        raise PydanticCustomError("string_unicode", "is not valid Unicode text")
    return value


def _no_controls(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return _text(value)


def _no_nul(value: str) -> str:
    # A raw scan holds GS separators (\x1d), so only NUL, which no database column can hold, is refused.
    if "\x00" in value:
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return _text(value)


def Text(column: Column | None = None, *, controls: bool = False, description: str | None = None,
         length: int | None = None) -> Any:
    """A string field: at most the column's length (or `length`), no control characters (with `controls`: no NUL
    only), no lone surrogates."""
    limit = length if length is not None else getattr(column.type, "length", None) if column is not None else None
    pattern = "^[^\\u0000]*$" if controls else "^[^\\u0000-\\u001f\\u007f]*$"
    return Annotated[str, Strict(), Field(max_length=limit, description=description,
                                          json_schema_extra={"pattern": pattern}),
                     AfterValidator(_no_nul if controls else _no_controls)]


def WholeNumber(low: int = 0, high: int = MAX_INT, *, description: str | None = None) -> Any:
    """An integer from `low` to `high` (32-bit by default); true, 1.0 and "1" are refused, not coerced."""

    def in_range(value: int) -> int:
        if not low <= value <= high:
            raise PydanticCustomError("number_range", "must be from {low} to {high}", {"low": low, "high": high})
        return value

    return Annotated[int, Strict(), Field(description=description, json_schema_extra={"minimum": low, "maximum": high}),
                     AfterValidator(in_range)]


def _business_date(value: Any, info: ValidationInfo) -> date:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "must be a string")
    try:
        return parse_date(value, field=info.field_name or "date")
    except ValidationError as exc:
        # The date rule's own sentence ("shipment date '...' is not a date ...") is the message.
        raise PydanticCustomError("date", "{message}", {"message": exc.message}) from None


BusinessDate = Annotated[date, BeforeValidator(_business_date), WithJsonSchema(
    {"type": "string", "format": "date", "description": "YYYY-MM-DD (DD.MM.YYYY is read too)"})]


def _json_value(value: Any, depth: int) -> None:
    if depth > JSON_NESTING:
        raise PydanticCustomError("json_nesting", "is nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            _json_value(key, depth)
            _json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_value(item, depth + 1)
    elif isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("finite_number", "must hold finite numbers")


def _json_object(value: Any) -> dict:
    value = value or {}
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "must be an object")
    _json_value(value, 0)
    return value


# Free JSON kept as sent: strings without NUL, finite numbers, bounded nesting; null is an empty object.
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_object)]

_P, _B, _L, _C, _S = (Product.__table__.c, Batch.__table__.c, ComponentLot.__table__.c, Customer.__table__.c,
                      Shipment.__table__.c)
Sku = Text(_P.sku, description="SKU or GTIN")
BatchNumber = Text(_B.number, description="batch number")


# ---- requests ----

class LotInputCreate(BaseModel):
    """A component lot that went into the batch."""

    supplier: Text(_L.supplier) | None = None
    part: Text(_L.part) | None = None
    lot: Text(_L.lot_number) | None = None
    quantity: WholeNumber() | None = None


class BatchCreate(BaseModel):
    """POST /batches: register a batch and allocate its serials."""

    product: Sku
    quantity: WholeNumber(0, MAX_BATCH_QUANTITY)
    number: Text(_B.number, description="allocated when left out") | None = None
    produced_on: BusinessDate | None = None
    line: Text(_B.line) | None = None
    shift: Text(_B.shift) | None = None
    inputs: list[LotInputCreate] | None = None


class CustomerRef(BaseModel):
    """The customer of a shipment: found by tax id (or by name without one), created when new."""

    name: Text(_C.name) | None = None
    tax_id: Text(_C.tax_id) | None = None
    contact_name: Text(_C.contact_name) | None = None
    email: Text(_C.email) | None = None
    phone: Text(_C.phone) | None = None


def _customer(value: Any) -> Any:
    if isinstance(value, str):
        return {"name": value}
    if not isinstance(value, dict):
        raise PydanticCustomError("customer_type", "must be an object with name and tax_id")
    return value


class BatchLineCreate(BaseModel):
    """Units of a batch shipped by quantity."""

    batch: BatchNumber
    quantity: WholeNumber(1)
    product: Sku | None = None


class ShipmentCreate(BaseModel):
    """POST /shipments: a shipment by serials and/or batch lines."""

    customer: Annotated[CustomerRef, BeforeValidator(_customer),
                        Field(description="the customer; a name alone is read as {\"name\": ...}")]
    shipped_on: BusinessDate | None = None
    reference: Text(_S.reference) | None = None
    carrier: Text(_S.carrier) | None = None
    destination: Text() | None = None
    serials: list[Text(Unit.__table__.c.serial)] | None = None
    batches: list[BatchLineCreate] | None = None
    attributes: JsonObject = Field(default_factory=dict, description="free JSON kept with the shipment")


# ---- answers ----

class ProductRead(BaseModel):
    """A product."""

    id: int
    sku: str
    gtin: str | None
    name: str
    family: str
    warranty_months: int
    warranty_start: str
    shelf_life_months: int | None = Field(None, description="months from production to the labels' expiry date "
                                                            "(17); null: the product does not expire")


class LotRead(BaseModel):
    """A component lot in a batch."""

    supplier: str
    part: str
    lot: str
    quantity: int | None


class BatchFields(BaseModel):
    """The columns of a batch."""

    id: int
    number: str
    produced_on: date
    line: str
    shift: str
    quantity: int
    status: str
    notes: str


class BatchCustomerRead(BaseModel):
    """A customer that received units of the batch."""

    id: int
    name: str
    quantity: int
    first_shipped: date
    last_shipped: date


class BatchRead(BatchFields):
    """GET /batches/{number}: the batch, its product and inputs, where its units went."""

    product: ProductRead
    inputs: list[LotRead]
    units_by_status: dict[str, int]
    customers: list[BatchCustomerRead]
    recall_url: str


class BatchCreatedRead(BaseModel):
    """The registered batch and its serial range (the serials themselves up to 10,000 units)."""

    batch: str
    quantity: int
    first_serial: str | None
    last_serial: str | None
    serials: list[str] | None = None


class RecallRowRead(BaseModel):
    """A shipped unit or batch line with the customer's contacts and the unit's status."""

    customer: str
    tax_id: str | None
    contact_name: str
    email: str
    phone: str
    address: str
    serial: str | None
    status: str | None = Field(description="the unit's status now (null for goods without serials)")
    back_in_house: bool = Field(description="the unit has come back (returned, in test, refurbished, scrapped...)")
    product_sku: str
    batch: str
    quantity: int
    shipped_on: date
    shipment_reference: str
    carrier: str


class RecallCustomerRead(BaseModel):
    """One customer of a recall (?group=customer): contacts, units shipped to it, how many are back, serials."""

    customer: str
    tax_id: str | None
    contact_name: str
    email: str
    phone: str
    address: str
    units: int
    back_in_house: int
    serials: list[str]


class RecallRead(BaseModel):
    """GET /batches/{number}/recall: customers, contacts, serials, ship dates; one row per customer on request."""

    batch: str
    units: int
    customers: list[str]
    rows: list[RecallRowRead] | list[RecallCustomerRead]


class ShipmentCreatedRead(BaseModel):
    """The recorded shipment."""

    id: int
    customer: str
    shipped_on: date
    reference: str
    items: int
    quantity: int


class UnitRead(BaseModel):
    """A unit."""

    id: int
    serial: str
    status: str
    sold_on: date | None
    external_code: str | None
    created_at: str


class CustomerRead(BaseModel):
    """A customer with contacts."""

    id: int
    name: str
    tax_id: str | None
    contact_name: str
    email: str
    phone: str
    address: str


class UnitShipmentRead(BaseModel):
    """A shipment of the unit."""

    id: int
    shipped_on: date
    reference: str
    carrier: str
    destination: str
    attributes: dict[str, Any]
    customer: CustomerRead


class WarrantyRead(BaseModel):
    """The unit's warranty on the business day, with the reason in words."""

    status: str
    in_warranty: bool
    until: date | None
    start: date | None
    reason: str


class EventRead(BaseModel):
    """One entry of the unit's history."""

    id: int
    kind: str
    at: str
    author: str
    payload: dict[str, Any]
    from_status: str | None = Field(description="the unit's status before this event when it changed it")
    to_status: str | None = Field(description="the unit's status after this event when it changed it")


class BatchWithInputsRead(BatchFields):
    """The unit's batch with its component lots."""

    inputs: list[LotRead]


class TraceDossierRead(BaseModel):
    """The trace part of a unit dossier."""

    unit: UnitRead
    product: ProductRead
    batch: BatchWithInputsRead
    shipments: list[UnitShipmentRead]
    customer: CustomerRead | None
    warranty: WarrantyRead
    events: list[EventRead]
