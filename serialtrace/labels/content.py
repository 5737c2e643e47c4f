"""Turn LabelData and a template into validated label content (symbols and text lines)."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from . import code128, gs1data
from .errors import LabelError
from .model import LabelContent, LabelData, SymbolSpec
from .templates import LabelTemplate

MAX_URL = 400
MIN_X_MM = 0.25  # smallest Code 128 module we aim for; below it (11) is dropped to save width


def parse_date(field: str, value: date | str | None) -> date | None:
    """Accept a date, an ISO `YYYY-MM-DD` string or None; LabelError for impossible dates."""
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise LabelError(field, f"{value!r} is not a valid date (YYYY-MM-DD)") from None
    raise LabelError(field, f"must be a date, got {type(value).__name__}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@lru_cache(maxsize=512)
def ensure_text(field: str, value: object, max_length: int = 200) -> str:
    """Free text for a human-readable line: a string without control characters."""
    if not isinstance(value, str):
        raise LabelError(field, f"must be a string, got {type(value).__name__}")
    if len(value) > max_length:
        raise LabelError(field, f"at most {max_length} characters, got {len(value)}")
    if _CONTROL.search(value):
        raise LabelError(field, "control characters are not allowed")
    return value


def _plain_code128(serial: str) -> SymbolSpec:
    return SymbolSpec("code128", False, serial, hri=serial)


def _url_qr(url: str | None) -> SymbolSpec | None:
    if url is None or url == "":
        return None
    if not isinstance(url, str) or len(url) > MAX_URL or not url.isascii() or not url.isprintable() or " " in url:
        raise LabelError("url", f"must be printable ASCII without spaces, at most {MAX_URL} characters")
    return SymbolSpec("qr", False, url)


_SHAPE = str.maketrans({**{chr(c): "A" for c in range(32, 127)}, **{d: "0" for d in "0123456789"}})


def _fits(pairs: tuple[tuple[str, str], ...], template: LabelTemplate) -> bool:
    # The Code 128 width depends only on where digits, other characters and separators
    # are, so labels of one job share the answer.
    return _fits_shape(gs1data.element_string(pairs).translate(_SHAPE), template.width_mm)


@lru_cache(maxsize=256)
def _fits_shape(shape: str, width_mm: float) -> bool:
    modules = code128.plan(shape, gs1=True).modules + 20
    return modules * MIN_X_MM <= width_mm


@lru_cache(maxsize=64)
def _mfd(on: date) -> str:
    return "MFD " + on.isoformat()


@lru_cache(maxsize=64)
def _exp(on: date) -> str:
    return "EXP " + on.isoformat()


def label_content(label: LabelData, template: LabelTemplate) -> LabelContent:
    """Validate one label against the GS1 rules and build what the template shows."""
    if not isinstance(label, LabelData):
        raise LabelError("label", f"must be a LabelData, got {type(label).__name__}")
    for field in ("batch", "serial"):
        if not isinstance(getattr(label, field), str):
            raise LabelError(field, "must be a string")
    produced_on = parse_date("produced_on", label.produced_on)
    expires_on = parse_date("expires_on", label.expires_on)
    if expires_on is not None and produced_on is not None and expires_on < produced_on:
        raise LabelError("expires_on",
                         f"{expires_on.isoformat()} is before the production date {produced_on.isoformat()}")
    product = ensure_text("product_name", label.product_name)
    company = ensure_text("company", label.company)
    sku = ensure_text("sku", label.sku, 64)
    gtin = label.gtin or None
    if gtin is not None and not isinstance(gtin, str):
        raise LabelError("gtin", "must be a string of digits")
    pairs = gs1data.unit_pairs(gtin, produced_on, label.batch, label.serial, expires_on)

    matrix: SymbolSpec | None
    linear: SymbolSpec | None = None
    if gtin is None:
        # Without a GTIN there is no GS1 data: the serial goes into plain Code 128 and the
        # internal URL (if any) into a QR code.
        matrix = _url_qr(label.url)
        linear = _plain_code128(label.serial)
    else:
        _url_qr(label.url)
        element = gs1data.element_string(pairs)
        matrix = None
        if template.symbol == "gs1-datamatrix":
            matrix = SymbolSpec("datamatrix", True, element, pairs, gs1data.bracketed(pairs))
        elif template.symbol == "gs1-qr":
            matrix = SymbolSpec("qr", True, element, pairs, gs1data.bracketed(pairs))
        elif template.symbol == "digital-link-qr":
            matrix = SymbolSpec("qr", False, gs1data.digital_link(pairs, template.digital_link_domain), pairs)
        linear_kind = template.symbol if template.symbol in ("gs1-128", "code128") else template.linear
        if linear_kind == "gs1-128":
            fitted = gs1data.fit_gs1_128(pairs)
            if "11" in dict(fitted) and not _fits(fitted, template):
                # Only the production date gives way to a narrow label; the expiry date (17) stays.
                fitted = tuple(p for p in fitted if p[0] != "11")
            linear = SymbolSpec("code128", True, gs1data.element_string(fitted), fitted, gs1data.bracketed(fitted))
        elif linear_kind == "code128":
            linear = _plain_code128(label.serial)

    lines = []
    for name in template.lines:
        if name == "product":
            text = product
        elif name == "serial":
            text = "SN " + label.serial
        elif name == "batch":
            text = "LOT " + label.batch
        elif name == "produced_on":
            text = _mfd(produced_on) if produced_on else ""
        elif name == "expires_on":
            text = _exp(expires_on) if expires_on else ""
        elif name == "company":
            text = company
        elif name == "sku":
            text = "SKU " + sku if sku else ""
        else:
            text = "GTIN " + pairs[0][1] if gtin else ""
        if text:
            lines.append(text)
    return LabelContent(matrix=matrix, linear=linear, lines=tuple(lines))
