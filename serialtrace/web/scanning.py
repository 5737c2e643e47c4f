"""What the station and POST /api/v1/scans do with raw scanner text: parse, resolve, answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..scanner import ParsedScan, ScanError, parse_scan
from ..warranty.resolve import resolve
from .i18n import _


def parsed_dict(parsed: ParsedScan) -> dict[str, Any]:
    """JSON shape of a parsed scan."""
    return {"kind": parsed.kind, "symbology_id": parsed.symbology_id, "ai": dict(parsed.ai), "text": parsed.text,
            "gtin": parsed.gtin, "serial": parsed.serial, "batch": parsed.batch,
            "ambiguous": parsed.ambiguous}


def scan_payload(session: Session, code: str, *, station: str = "", user=None) -> dict[str, Any]:
    """Parse `code` and list what it matches; result is unit, batch, claim, choose, not_found or invalid."""
    code = code.strip("\r\n")
    if not code.strip():
        return {"code": code, "result": "invalid", "message": _("empty scan"), "parsed": None, "matches": []}
    try:
        parsed = parse_scan(code)
    except ScanError as exc:
        return {"code": code, "result": "invalid", "message": str(exc), "parsed": None, "matches": []}
    if parsed.ambiguous:
        return {"code": code, "result": "ambiguous", "parsed": parsed_dict(parsed), "matches": [],
                "alternatives": [dict(a) if not isinstance(a, str) else a for a in _alternatives(parsed)],
                "message": _("the scan can be read more than one way; scan again with separators")}
    if parsed.kind in ("gs1", "digital_link"):
        matches = resolve(session, gtin=parsed.gtin, serial=parsed.serial, batch=parsed.batch)
    else:
        matches = resolve(session, text=parsed.text)
    if not matches:
        result, message = "not_found", _("nothing found for %(code)s", code=parsed.serial or parsed.text)
    elif len(matches) == 1:
        result, message = matches[0].kind, matches[0].label
    else:
        result, message = "choose", _("%(n)s matches; choose one", n=len(matches))
    return {"code": code, "result": result, "message": message, "parsed": parsed_dict(parsed),
            "matches": [m.as_dict() for m in matches]}


def _alternatives(parsed: ParsedScan) -> list:
    alts = getattr(parsed, "alternatives", ()) or ()
    out = []
    for alt in alts:
        ai = getattr(alt, "ai", alt)
        out.append(dict(ai) if not isinstance(ai, (str, dict)) else ai)
    return out
