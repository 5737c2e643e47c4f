"""Label templates: size, DPI, symbols and text lines; built-ins and user files (JSON or TOML)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import LabelError

SYMBOLS_2D = ("gs1-datamatrix", "gs1-qr", "digital-link-qr")
SYMBOLS_LINEAR = ("gs1-128", "code128")
LINE_FIELDS = ("product", "sku", "batch", "serial", "produced_on", "expires_on", "company", "gtin")
DPIS = (203, 300, 600)


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """Where labels sit on a multi-up sheet (all lengths in mm, origin top left)."""

    page_width_mm: float
    page_height_mm: float
    columns: int
    rows: int
    left_mm: float = 0.0
    top_mm: float = 0.0
    column_pitch_mm: float = 0.0
    row_pitch_mm: float = 0.0

    @property
    def per_page(self) -> int:
        """Labels on one sheet."""
        return self.columns * self.rows


@dataclass(frozen=True, slots=True)
class LabelTemplate:
    """How a label looks: size in mm, DPI, main symbol, optional linear symbol, text lines."""

    name: str
    width_mm: float
    height_mm: float
    dpi: int = 203
    symbol: str = "gs1-datamatrix"
    linear: str | None = None
    lines: tuple[str, ...] = ("product", "batch", "serial", "produced_on", "expires_on")
    margin_mm: float = 1.5
    symbol_size_mm: float | None = None
    linear_height_mm: float = 8.0
    font_size_pt: float = 8.0
    digital_link_domain: str = "https://id.gs1.org"
    sheet: SheetLayout | None = None

    def __post_init__(self) -> None:
        ensure_template(self)


def _positive(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise LabelError(field, f"must be a positive number, got {value!r}")


def ensure_template(t: LabelTemplate) -> None:
    """Raise LabelError naming the first template field that breaks a rule."""
    if not isinstance(t.name, str) or not t.name:
        raise LabelError("name", "must be a non-empty string")
    for name in ("width_mm", "height_mm", "linear_height_mm", "font_size_pt"):
        _positive(name, getattr(t, name))
    if t.width_mm > 1000 or t.height_mm > 1000:
        raise LabelError("width_mm", "labels larger than 1000 mm are not supported")
    if isinstance(t.dpi, bool) or t.dpi not in DPIS:
        raise LabelError("dpi", f"must be one of {', '.join(map(str, DPIS))}, got {t.dpi!r}")
    if t.symbol not in SYMBOLS_2D + SYMBOLS_LINEAR:
        raise LabelError("symbol", f"must be one of {', '.join(SYMBOLS_2D + SYMBOLS_LINEAR)}, got {t.symbol!r}")
    if t.linear is not None:
        if t.linear not in SYMBOLS_LINEAR:
            raise LabelError("linear", f"must be one of {', '.join(SYMBOLS_LINEAR)} or absent, got {t.linear!r}")
        if t.symbol in SYMBOLS_LINEAR:
            raise LabelError("linear", "a template whose symbol is linear cannot add a second linear symbol")
    if not isinstance(t.lines, tuple):
        raise LabelError("lines", "must be a list of field names")
    for index, line in enumerate(t.lines):
        if line not in LINE_FIELDS:
            raise LabelError(f"lines[{index}]", f"unknown field {line!r}; one of {', '.join(LINE_FIELDS)}")
    if isinstance(t.margin_mm, bool) or not isinstance(t.margin_mm, (int, float)) or t.margin_mm < 0:
        raise LabelError("margin_mm", f"must be a number >= 0, got {t.margin_mm!r}")
    if 2 * t.margin_mm >= min(t.width_mm, t.height_mm):
        raise LabelError("margin_mm", "margins leave no room on the label")
    if t.symbol_size_mm is not None:
        _positive("symbol_size_mm", t.symbol_size_mm)
    if not isinstance(t.digital_link_domain, str) or not t.digital_link_domain.startswith(("https://", "http://")):
        raise LabelError("digital_link_domain", "must be an http(s) URL")
    if t.sheet is not None:
        _ensure_sheet(t.sheet, t.width_mm, t.height_mm)


def _ensure_sheet(s: SheetLayout, width: float, height: float) -> None:
    for name in ("page_width_mm", "page_height_mm"):
        _positive(f"sheet.{name}", getattr(s, name))
    for name in ("columns", "rows"):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise LabelError(f"sheet.{name}", f"must be a whole number >= 1, got {value!r}")
    col_pitch = s.column_pitch_mm or width
    row_pitch = s.row_pitch_mm or height
    if s.left_mm + (s.columns - 1) * col_pitch + width > s.page_width_mm + 0.01:
        raise LabelError("sheet.columns", "labels do not fit across the page")
    if s.top_mm + (s.rows - 1) * row_pitch + height > s.page_height_mm + 0.01:
        raise LabelError("sheet.rows", "labels do not fit down the page")


def builtin_templates() -> dict[str, LabelTemplate]:
    """The built-in templates by name: a 50x25 mm roll label, an A4 sheet of 3x8, a 4x2 inch label."""
    return {
        "roll-50x25": LabelTemplate(
            name="roll-50x25", width_mm=50, height_mm=25, dpi=203, symbol="gs1-datamatrix",
            lines=("product", "batch", "serial", "produced_on", "expires_on"), symbol_size_mm=18, font_size_pt=7,
        ),
        "a4-3x8": LabelTemplate(
            name="a4-3x8", width_mm=70, height_mm=37, dpi=300, symbol="gs1-datamatrix",
            lines=("product", "sku", "batch", "serial", "produced_on", "expires_on", "company"),
            margin_mm=3, symbol_size_mm=22, font_size_pt=8,
            sheet=SheetLayout(page_width_mm=210, page_height_mm=297, columns=3, rows=8,
                              left_mm=0, top_mm=0.5, column_pitch_mm=70, row_pitch_mm=37),
        ),
        "4x2in": LabelTemplate(
            name="4x2in", width_mm=101.6, height_mm=50.8, dpi=203, symbol="gs1-datamatrix",
            linear="gs1-128", lines=("product", "batch", "serial", "produced_on", "expires_on", "company"),
            margin_mm=2.5, symbol_size_mm=24, linear_height_mm=12, font_size_pt=9,
        ),
    }


_FIELDS = {f.name for f in fields(LabelTemplate)}
_SHEET_FIELDS = {f.name for f in fields(SheetLayout)}


def template_from_mapping(data: dict[str, Any]) -> LabelTemplate:
    """Build and validate a template from a parsed JSON/TOML mapping."""
    if not isinstance(data, dict):
        raise LabelError("template", "must be a table/object of fields")
    for key in data:
        if key not in _FIELDS:
            raise LabelError(key, f"unknown template field; known fields: {', '.join(sorted(_FIELDS))}")
    for required in ("name", "width_mm", "height_mm"):
        if required not in data:
            raise LabelError(required, "is required")
    values = dict(data)
    if "lines" in values:
        if not isinstance(values["lines"], list):
            raise LabelError("lines", "must be a list of field names")
        values["lines"] = tuple(values["lines"])
    if values.get("sheet") is not None:
        sheet = values["sheet"]
        if not isinstance(sheet, dict):
            raise LabelError("sheet", "must be a table/object")
        for key in sheet:
            if key not in _SHEET_FIELDS:
                raise LabelError(f"sheet.{key}", "unknown sheet field")
        for required in ("page_width_mm", "page_height_mm", "columns", "rows"):
            if required not in sheet:
                raise LabelError(f"sheet.{required}", "is required")
        for key, value in sheet.items():
            if key not in ("columns", "rows"):
                _positive_or_zero(f"sheet.{key}", value)
        values["sheet"] = SheetLayout(**sheet)
    try:
        return LabelTemplate(**values)
    except TypeError as exc:  # a wrongly typed value that the checks above cannot name
        raise LabelError("template", str(exc)) from exc


def _positive_or_zero(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise LabelError(field, f"must be a number >= 0, got {value!r}")


def load_template(path: str | Path) -> LabelTemplate:
    """Read a user template from a .json or .toml file; LabelError names the bad field."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LabelError("path", f"cannot read {path}: {exc.strerror}") from exc
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            raise LabelError("path", f"template files end in .json or .toml, got {path.name!r}")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise LabelError("path", f"{path.name} is not valid {path.suffix[1:].upper()}: {exc}") from exc
    return template_from_mapping(data)
