"""What the station and the scan API do with scanner text, images and camera frames: parse, resolve, log, answer."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..columns import utcnow
from ..scanner import DecodedCode, FrameTracker, ImageError, ParsedScan, ScanError, ScannerProfile, parse_scan
from ..warranty import stations
from ..warranty.resolve import resolve
from .i18n import _

# Two identical scans closer than this from one station are one double trigger pull.
REPEAT_WINDOW = timedelta(seconds=1)
# Scans read by a barcode decoder (photo, camera) rather than typed by a keyboard-wedge scanner.
DECODED_SOURCES = frozenset({"image", "camera"})
DECODED_PROFILE = ScannerProfile(separator="\x1d", layout="latin", name="decoder")
# Magic numbers of the formats a label photo or camera frame comes in; anything else is refused before
# any decoder sees it (Pillow would otherwise open EPS and hand it to Ghostscript).
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
                (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))


class ImageRejected(DomainError):
    """An upload that is not a readable image of a sensible size."""

    status_code = 422
    code = "invalid_image"


class DecoderBusy(ImageRejected):
    """Every image decoder stayed busy past the deadline: try again, the image may be fine."""

    status_code = 503
    code = "decoder_busy"


class ImageTooLarge(ImageRejected):
    """An image over the byte or pixel limit."""

    status_code = 413
    code = "image_too_large"


def parsed_dict(parsed: ParsedScan) -> dict[str, Any]:
    """JSON shape of a parsed scan."""
    return {"kind": parsed.kind, "symbology_id": parsed.symbology_id, "ai": dict(parsed.ai), "text": parsed.text,
            "gtin": parsed.gtin, "serial": parsed.serial, "batch": parsed.batch,
            "ambiguous": parsed.ambiguous}


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


def describe_separator(separator: str) -> str:
    """A readable name for what a scanner sends between GS1 fields."""
    if separator == "\x1d":
        return _("GS (0x1D), as the standard says")
    if separator == "":
        return _("nothing: the scanner drops separators")
    return _("%(char)r stands for GS", char=separator)


def scan_payload(session: Session, code: str, *, station: str = "", user=None, source: str = "typed",
                 now: datetime | None = None, log: stations.ScanLogWriter | None = None) -> dict[str, Any]:
    """Parse `code` with the station's profile, list what it matches and log it.

    result is unit, batch, claim, choose, not_found, invalid, ambiguous, mismatch (the label's batch is not
    the unit's batch), or repeat (the same code from the same station within a second: `repeat_of` holds
    what it matched, and it is not logged again). With `log`, `session` only reads and the entry goes to the
    writer (written at once, or queued while another action holds the write lock); without, into `session`.
    """
    code = code.strip("\r\n")
    station = (station or "").strip()[:stations.NAME_MAX]
    now = now or utcnow()
    if source in DECODED_SOURCES:
        # A decoder reports FNC1 as GS exactly, so its text is never missing separators.
        profile = DECODED_PROFILE
    else:
        profile = profile_from_dict(stations.get_station_profile(session, station))
    payload = _answer(session, code, profile)
    payload["station"] = station
    if code.strip() and _is_repeat(session, log, raw=code, station=station, since=now - REPEAT_WINDOW, user=user):
        # Still answered in full, so a station page can keep showing the unit; only the log skips it.
        payload.update(result="repeat", repeat_of=payload["result"],
                       message=_("the same code again within a second; counted once"))
        return payload
    matches = payload["matches"]
    only = matches[0] if len(matches) == 1 else None
    entry = stations.scan_log_entry(raw=code, result=payload["result"], user=user, station=station, source=source,
                                    kind=(payload["parsed"] or {}).get("kind"), at=now,
                                    unit_id=only["id"] if only and only["kind"] == "unit" else None,
                                    batch_id=only["id"] if only and only["kind"] == "batch" else None)
    if log is None:
        stations.add_scan_entry(session, entry)
    else:
        log.write(entry)
    return payload


def _is_repeat(session: Session, log: stations.ScanLogWriter | None, *, raw: str, station: str, since: datetime,
               user) -> bool:
    """True when the same code from the same station (or unnamed client) is logged, or queued, since `since`."""
    if stations.get_recent_scan(session, raw=raw, station=station, since=since, user=user) is not None:
        return True
    probe = stations.scan_log_entry(raw=raw, result="", user=user, station=station)
    return any(e["raw"] == probe["raw"] and e["station"] == probe["station"] and e["scanned_at"] >= since
               and (station or e["user_id"] == probe["user_id"]) for e in (log.pending() if log else ()))


def scan_log_writer() -> stations.ScanLogWriter:
    """The app's scan log writer (one per app, made on first use)."""
    ext = current_app.extensions
    writer = ext.get("serialtrace_scan_log")
    if writer is None:
        # setdefault is atomic under the GIL: two first scans at once still share one writer and its queue.
        writer = ext.setdefault("serialtrace_scan_log", stations.ScanLogWriter(ext["serialtrace"].sessions))
    return writer


def _answer(session: Session, code: str, profile: ScannerProfile | None) -> dict[str, Any]:
    if not code.strip():
        return {"code": code, "result": "invalid", "message": _("empty scan"), "parsed": None, "matches": []}
    try:
        parsed = parse_scan(code, profile=profile)
    except ScanError as exc:
        return {"code": code, "result": "invalid", "message": str(exc), "parsed": None, "matches": []}
    if parsed.ambiguous:
        return {"code": code, "result": "ambiguous", "parsed": parsed_dict(parsed), "matches": [],
                "alternatives": [dict(a) for a in parsed.alternatives],
                "message": _("the scan can be read more than one way; scan again with separators")}
    if parsed.kind in ("gs1", "digital_link"):
        matches = resolve(session, gtin=parsed.gtin, serial=parsed.serial, batch=parsed.batch)
    else:
        matches = resolve(session, text=parsed.text)
    if parsed.serial and parsed.batch and matches and all(m.batch != parsed.batch for m in matches):
        # The label names another batch than the unit's own: a relabelled unit or a wrong label. Showing the
        # unit as a plain hit could pull someone else's history, so the person looks and chooses.
        result = "mismatch"
        message = _("the label says batch %(label)s, but serial %(serial)s is in batch %(batch)s; check the unit",
                    label=parsed.batch, serial=parsed.serial, batch=matches[0].batch)
    elif not matches:
        result, message = "not_found", _("nothing found for %(code)s", code=parsed.serial or parsed.text)
    elif len(matches) == 1:
        result, message = matches[0].kind, matches[0].label
    else:
        result, message = "choose", _("%(n)s matches; choose one", n=len(matches))
    return {"code": code, "result": result, "message": message, "parsed": parsed_dict(parsed),
            "matches": [m.as_dict() for m in matches]}


def search_term(scan: dict[str, Any]) -> str:
    """What to put in a search box after a not_found: the serial, batch or plain text that was read."""
    parsed = scan.get("parsed") or {}
    return parsed.get("serial") or parsed.get("batch") or parsed.get("text") or scan.get("code", "")


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


def check_image_bytes(data: bytes, limit: int) -> None:
    """Refuse empty, oversized or non-image uploads by their content, before decoding."""
    if not data:
        raise ImageRejected(_("empty upload: the image has no bytes"), details={"field": "image"})
    if len(data) > limit:
        raise ImageTooLarge(_("image too large: %(size)s bytes (limit %(limit)s)", size=len(data), limit=limit),
                            details={"field": "image"})
    if not any(data.startswith(magic) for magic, _kind in _IMAGE_MAGIC) and not _is_webp(data):
        raise ImageRejected(_("not an image: send PNG, JPEG, WebP, GIF, BMP or TIFF"), details={"field": "image"})


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def image_error(exc: ImageError) -> ImageRejected:
    """The web error for a decoder's ImageError: 413 for size limits, 503 when every decoder is busy, 422 otherwise."""
    if exc.status_code == 503:
        return DecoderBusy(exc.message, details={"field": "image"})
    # The scanner package has one ImageError for every bad image; only its message tells size apart.
    kind = ImageTooLarge if exc.message.startswith(("image too large", "frame too large")) else ImageRejected
    return kind(exc.message, details={"field": "image"})


class FrameTrackers:
    """Per station and user FrameTrackers in server memory, least recently used dropped beyond `size`."""

    def __init__(self, size: int = 256, clock: Callable[[], float] = time.monotonic,
                 factory: Callable[[], FrameTracker] = FrameTracker) -> None:
        self.size = size
        self.clock = clock
        self._factory = factory
        self._trackers: OrderedDict[tuple[str, int | None], FrameTracker] = OrderedDict()
        self._lock = threading.Lock()

    def feed(self, key: tuple[str, int | None], codes: list[DecodedCode]) -> tuple[list[DecodedCode], int]:
        """Feed one frame's codes to the tracker of `key`; return the confirmed codes and how many are pending."""
        # FrameTracker is not thread-safe and a threaded server may get two frames of one camera at once.
        with self._lock:
            tracker = self._trackers.pop(key, None) or self._factory()
            self._trackers[key] = tracker
            while len(self._trackers) > self.size:
                self._trackers.popitem(last=False)
            confirmed = tracker.feed(codes, self.clock())
            return confirmed, len(tracker.pending())

    def __len__(self) -> int:
        return len(self._trackers)
