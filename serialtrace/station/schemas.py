"""JSON shapes of what a station answers: a parsed scan and a decoded code."""

from __future__ import annotations

from typing import Any

from ..scanner import DecodedCode, ParsedScan


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
