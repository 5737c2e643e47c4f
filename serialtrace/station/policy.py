"""Station rules with no database: station names, the repeat window, scanner profiles and what a scan is shown as."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..errors import ValidationError
from ..scanner import ScannerProfile

# Longer scans are cut when logged; no real symbol carries more (GS1-128 holds 48 characters).
RAW_MAX = 500
NAME_MAX = 64
PROFILE_KEYS = ("prefix", "suffix", "separator", "layout")
# Two identical scans closer than this from one station are one double trigger pull.
REPEAT_WINDOW = timedelta(seconds=1)
# Scans read by a barcode decoder (photo, camera) rather than typed by a keyboard-wedge scanner.
DECODED_SOURCES = frozenset({"image", "camera"})
# A decoder reports FNC1 as GS exactly, so its text is never missing separators.
DECODED_PROFILE = ScannerProfile(separator="\x1d", layout="latin", name="decoder")


def station_key(name: str | None) -> str:
    """The station name as the scan log stores it: trimmed and cut to NAME_MAX (an unnamed client is "")."""
    return (name or "").strip()[:NAME_MAX]


def ensure_station_name(name: str) -> str:
    """The trimmed station name; raises ValidationError when it is empty or too long."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("a station name is required", details={"field": "station"})
    if len(name) > NAME_MAX:
        raise ValidationError(f"a station name has at most {NAME_MAX} characters", details={"field": "station"})
    return name


def clean_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile keys a station stores, text fields checked; raises ValidationError naming a non-text field."""
    clean = {key: profile.get(key) for key in PROFILE_KEYS}
    for key in ("prefix", "suffix", "separator"):
        if not isinstance(clean[key] or "", str):
            raise ValidationError(f"profile {key} must be text", details={"field": key})
        clean[key] = clean[key] or ""
    return clean


def profile_from_dict(data: dict[str, Any] | None) -> ScannerProfile | None:
    """The ScannerProfile a station saved, or None (no profile: separators are guessed)."""
    if not data:
        return None
    try:
        return ScannerProfile(prefix=data.get("prefix") or "", suffix=data.get("suffix") or "",
                              separator=data.get("separator") if data.get("separator") is not None else "\x1d",
                              layout=data.get("layout") or None)
    except ValueError:
        # A profile saved by an older version with a layout we no longer know: scan without it.
        return None


def profile_dict(profile: ScannerProfile) -> dict[str, Any]:
    """What is stored for a learned profile."""
    return {"prefix": profile.prefix, "suffix": profile.suffix, "separator": profile.separator,
            "layout": profile.layout}


def scan_profile(source: str, saved: dict[str, Any] | None) -> ScannerProfile | None:
    """The profile a scan is read with: the decoder's for photos and camera frames, else the station's saved one."""
    return DECODED_PROFILE if source in DECODED_SOURCES else profile_from_dict(saved)


def search_term(scan: dict[str, Any]) -> str:
    """What to put in a search box after a not_found: the serial, batch or plain text that was read."""
    parsed = scan.get("parsed") or {}
    return parsed.get("serial") or parsed.get("batch") or parsed.get("text") or scan.get("code", "")
