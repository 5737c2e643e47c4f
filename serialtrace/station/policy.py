"""Station rules with no database: station names, the repeat window, scanner profiles, what a scan is shown as
and the colour of its signal."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..errors import ValidationError
from ..i18n import _l
from ..scanner import ScannerProfile
from ..trace.enums import BatchStatus
from ..warranty.enums import CLAIM_STATE_LABELS, ClaimState

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
        raise ValidationError(_l("a station name is required"), details={"field": "station"})
    if len(name) > NAME_MAX:
        raise ValidationError(_l("a station name has at most %(max)s characters", max=NAME_MAX),
                              details={"field": "station"})
    return name


def device_key_hash(key: str) -> str:
    """What a station stores of its device's key: the key is 32 random bytes, so one SHA-256 pass is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def is_own_device(stored_hash: str | None, device_key: str | None) -> bool:
    """True when `device_key` is the key of the device the station is bound to (a station with none has no own
    device: only an admin may change it, and that binds it)."""
    if not stored_hash or not device_key:
        return False
    return hmac.compare_digest(stored_hash, device_key_hash(device_key))


def clean_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile keys a station stores, text fields checked; raises ValidationError naming a non-text field."""
    clean = {key: profile.get(key) for key in PROFILE_KEYS}
    for key in ("prefix", "suffix", "separator"):
        if not isinstance(clean[key] or "", str):
            raise ValidationError(_l("profile %(key)s must be text", key=key), details={"field": key})
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


# ---- the loud signal: what the desk is told at a glance ----

GREEN, AMBER, RED = "green", "amber", "red"
# Claims in these states need nothing more from the desk (the demo data and the claim workflow agree).
FINISHED_CLAIM_STATES = frozenset({ClaimState.SETTLED, ClaimState.BILLED, ClaimState.RESOLVED, ClaimState.CLOSED,
                                   ClaimState.CANCELLED})
# Batches whose units are not handed on without a look.
HELD_BATCH_STATES = {BatchStatus.ON_HOLD: _l("batch %(batch)s is on hold"),
                     BatchStatus.RECALLED: _l("batch %(batch)s is recalled")}
# The same with the reason of the hold or recall, when it is known.
HELD_BATCH_REASONS = {BatchStatus.ON_HOLD: _l("batch %(batch)s is on hold: %(reason)s"),
                      BatchStatus.RECALLED: _l("batch %(batch)s is recalled: %(reason)s")}


def _held(batch: Mapping[str, Any]) -> Any:
    """Why a held or recalled batch's units need a look, with the reason when the facts carry it."""
    if batch.get("hold_reason"):
        return _l(HELD_BATCH_REASONS[batch["status"]], batch=batch.get("number"), reason=batch["hold_reason"])
    return _l(HELD_BATCH_STATES[batch["status"]], batch=batch.get("number"))


@dataclass(frozen=True)
class Signal:
    """The colour a scan is shown in (green, amber, red) and the reasons for it, in words."""

    colour: str
    reasons: tuple[str, ...]


def _day(value: Any) -> Any:
    """An ISO date from a dossier as a date, so it is written the reader's way; anything else as it is."""
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else value
    except ValueError:
        return value


def _unit_reasons(facts: Mapping[str, Any]) -> list[str]:
    """Why a found unit needs a look: its warranty, its open claims, its batch; empty when there is nothing."""
    reasons: list[str] = []
    # A recalled unit first: whoever holds it must not hand it on, whatever else is true of it.
    for campaign in facts.get("recalls") or ():
        reasons.append(_l("RECALLED in campaign %(number)s (%(title)s): keep this unit, do not ship it or hand it "
                          "back; take it in and pass it to quality", number=campaign.get("number"),
                          title=campaign.get("title")))
    warranty = facts.get("warranty") or {}
    status = warranty.get("status")
    if status == "expired":
        reasons.append(_l("out of warranty since %(until)s", until=_day(warranty.get("until"))))
    elif status == "not_started":
        reasons.append(_l("not shipped or sold yet: the warranty has not started"))
    elif status != "in_warranty":
        reasons.append(_l("warranty unknown: check the shipment and sale dates"))
    for claim in facts.get("claims") or ():
        if claim.get("state") not in FINISHED_CLAIM_STATES:
            reasons.append(_l("claim %(number)s is open (%(state)s)", number=claim.get("number"),
                              state=CLAIM_STATE_LABELS.get(claim.get("state"), claim.get("state"))))
    batch = facts.get("batch") or {}
    if batch.get("status") in HELD_BATCH_STATES:
        reasons.append(_held(batch))
    return reasons


def scan_signal(result: str, facts: Mapping[str, Any] | None = None, *, matched: int = 0) -> Signal:
    """Green for "in warranty, nothing open", amber for "found, but look", red for not found or unreadable.

    `result` is the scan's result (for a repeat, what it repeated); `facts` what was found: a unit's dossier (its
    warranty, claims and batch), {"batch": ...} for a batch, a claim's unit dossier with {"claim": ...}; `matched`
    how many choices an ambiguous reading left.
    """
    facts = facts or {}
    if result == "not_found":
        return Signal(RED, (_l("not found"),))
    if result == "invalid":
        return Signal(RED, (_l("unreadable scan"),))
    if result == "ambiguous":
        if not matched:
            return Signal(RED, (_l("the scan can be read more than one way and no reading matches"),))
        return Signal(AMBER, (_l("the scan can be read more than one way; choose the reading that is meant"),))
    if result == "choose":
        return Signal(AMBER, (_l("several matches; choose one"),))
    if result == "mismatch":
        return Signal(AMBER, (_l("the label and the unit disagree"),))
    if result in ("unit", "claim"):
        reasons = _unit_reasons(facts)
        if reasons:
            return Signal(AMBER, tuple(reasons))
        until = _day((facts.get("warranty") or {}).get("until"))
        return Signal(GREEN, (_l("in warranty until %(until)s, nothing open", until=until),))
    if result == "batch":
        batch = facts.get("batch") or {}
        if batch.get("status") in HELD_BATCH_STATES:
            return Signal(AMBER, (_held(batch),))
        return Signal(GREEN, (_l("batch %(batch)s is released", batch=batch.get("number")),))
    if result == "lot":
        return Signal(GREEN, (_l("component lot found"),))
    if result == "product":
        return Signal(GREEN, (_l("product found"),))
    return Signal(AMBER, (_l("look at the result"),))
