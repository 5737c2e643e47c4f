"""Shapes of what a station takes and answers: scan requests, parsed scans, decoded codes, uploads."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from ..scanner import DecodedCode, ParsedScan
from ..trace import schemas as trace_schemas


def parsed_dict(parsed: ParsedScan) -> dict[str, Any]:
    """JSON shape of a parsed scan."""
    return {"kind": parsed.kind, "symbology_id": parsed.symbology_id, "ai": dict(parsed.ai), "text": parsed.text,
            "gtin": parsed.gtin, "serial": parsed.serial, "batch": parsed.batch,
            "ambiguous": parsed.ambiguous}


def scan_text(code: DecodedCode) -> str:
    """The decoded symbol as a wedge scanner would type it: AIM identifier, then the data."""
    return (code.symbology_id or "") + code.text


def code_dict(code: DecodedCode) -> dict[str, Any]:
    """JSON shape of one decoded code."""
    body = {"text": code.text, "format": code.format, "symbology_id": code.symbology_id,
            "confirmed": code.confirmed, "code": scan_text(code)}
    if not code.confirmed:
        # An unconfirmed read may be a misread: it must not pull someone else's history on screen.
        body["action"] = "rescan"
    return body


# ---- request and answer models of the scan API ----

ScanCode = trace_schemas.Text(controls=True, description="raw scanner text, GS as \\u001d; an AIM identifier such "
                                                         "as ]d2 may lead")
# Form fields arrive as text and are read as sent; the model documents them (a file is a binary string).
_FILE = WithJsonSchema({"type": "string", "format": "binary"})
_FORM_TEXT = WithJsonSchema({"type": "string", "description": "station name; its scanner profile is used"})


class ScanCreate(BaseModel):
    """POST /scans: raw scanner text to parse and resolve."""

    code: ScanCode
    station: trace_schemas.Text(description="station name; its scanner profile is used") | None = None
    source: Literal["api", "camera"] | None = Field(
        None, description="camera: the code came from a barcode decoder, separators are exact (default api)")


class ParsedScanRead(BaseModel):
    """What the scan was read as."""

    kind: str
    symbology_id: str | None
    ai: dict[str, str]
    text: str
    gtin: str | None
    serial: str | None
    batch: str | None
    ambiguous: bool


class MatchRead(BaseModel):
    """One thing a scan may mean."""

    kind: str = Field(description="unit, batch, claim (with the serial of its unit), lot (a component lot) or "
                                  "product (a GTIN)")
    id: int
    label: str
    serial: str | None = None
    batch: str | None = None
    product_sku: str | None = None
    number: str | None = Field(None, description="a claim's number")


class PreviousScanRead(BaseModel):
    """An earlier scan of the same thing at the same station."""

    at: str = Field(description="when, ISO 8601 in UTC")
    station: str
    result: str
    user: str | None


class ScanRead(BaseModel):
    """What was parsed and what it matched."""

    code: str
    result: str = Field(description="unit, batch, claim, lot, product, choose, not_found, invalid, ambiguous "
                                    "(the readings that match are in matches), mismatch (the label's batch is not "
                                    "the unit's: a person checks), or repeat (the same code from the same station "
                                    "within a second; not logged again)")
    message: str | None = None
    parsed: ParsedScanRead | None
    matches: list[MatchRead]
    station: str
    alternatives: list[dict[str, str]] | None = None
    repeat_of: str | None = None
    previous: PreviousScanRead | None = Field(
        None, description="the latest earlier scan of the same unit, batch or text at this station")


class DecodedCodeRead(BaseModel):
    """A barcode found in an image; only confirmed ones are resolved."""

    text: str
    format: str
    symbology_id: str | None = Field(description="AIM identifier such as ]d2")
    confirmed: bool
    code: str = Field(description="symbology_id + text, as POST /scans takes it")
    action: Literal["rescan"] | None = Field(None, description="only on unconfirmed codes, which are not resolved")
    result: str | None = None
    message: str | None = None
    parsed: ParsedScanRead | None = None
    matches: list[MatchRead] | None = None


class ImageScanRead(BaseModel):
    """Codes found in a photo, each with its matches or the action rescan."""

    codes: list[DecodedCodeRead]
    message: str | None


class FrameScanRead(BaseModel):
    """Codes in this frame, codes it confirmed, and how many wait for confirmation."""

    codes: list[DecodedCodeRead]
    confirmed: list[DecodedCodeRead]
    pending: int


class ImageUpload(BaseModel):
    """POST /scans/image: a photo (PNG, JPEG, WebP, GIF, BMP or TIFF) as multipart/form-data."""

    image: Annotated[Any, _FILE]
    station: Annotated[Any, _FORM_TEXT] = None


class FrameUpload(BaseModel):
    """POST /scans/frame: one camera frame (JPEG) as multipart/form-data."""

    frame: Annotated[Any, _FILE]
    station: Annotated[Any, _FORM_TEXT] = None


class StationCalibrate(BaseModel):
    """POST /stations/calibration: one scan of the test symbol by the station's scanner."""

    model_config = {"extra": "forbid"}

    station: trace_schemas.Text(length=64, description="the station's name")  # type: ignore[valid-type]
    code: ScanCode


class StationCalibrationRead(BaseModel):
    """The profile the station learned; `device_key` only when this call bound a new station to the caller."""

    station: str
    profile: dict[str, Any] = Field(description="prefix, suffix, separator, layout")
    device_key: str | None = Field(None, description="keep it and send it as X-Station-Key to change this "
                                                     "station's profile again (shown once)")
