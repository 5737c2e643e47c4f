"""What a scan opens and how loud it is, for the station page and the scan field in every page's header."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, request, url_for
from flask_wtf.csrf import CSRFError

from ...config import business_today
from ...quality import recall_queries
from ...station import queries as station_queries
from ...station.policy import Signal, scan_signal
from ..database import db
from ..i18n import _, format_moment, tr
from .common import settings

# Results that name one record with a page of its own: a scan of it opens that page.
OPENS_PAGE = frozenset({"unit", "batch", "claim", "lot", "product"})


def match_url(match: dict[str, Any], matches: list[dict[str, Any]] = ()) -> str | None:
    """The page of what a match names (a claim: its unit's dossier at the claim)."""
    kind = match.get("kind")
    if kind in ("unit", "claim"):
        # The same serial in two products: the product's SKU narrows it (the unit page takes a GTIN or SKU).
        twins = sum(1 for m in matches if m.get("kind") == "unit" and m.get("serial") == match.get("serial"))
        extra = {"gtin": match.get("product_sku")} if twins > 1 or kind == "claim" else {}
        anchor = f"claim-{match['number']}" if kind == "claim" and match.get("number") else None
        return url_for("pages.unit", serial=match["serial"], _anchor=anchor, **extra)
    if kind == "batch":
        return url_for("pages.batch", number=match["batch"], product=match.get("product_sku"))
    if kind == "lot":
        return url_for("pages.lot", number=match["batch"])
    if kind == "product":
        return url_for("pages.product", sku=match["product_sku"])
    return None


def shown_result(scan: dict[str, Any]) -> str:
    """The result a scan is shown as: for a double trigger pull, what the first pull found."""
    return scan.get("repeat_of") or scan["result"]


def signal_of(scan: dict[str, Any], dossier: dict[str, Any] | None = None) -> Signal:
    """The scan's signal: green, amber or red with the reasons, from what its one match is known to be."""
    matches = scan["matches"]
    facts: dict[str, Any] = {}
    if len(matches) == 1 and shown_result(scan) in OPENS_PAGE:
        s = settings()
        facts = station_queries.scan_facts(db(), matches[0], today=business_today(s),
                                           grace_days=s.warranty_grace_days, dossier=dossier)
        unit = facts.get("unit") or {}
        if unit.get("id") and "recalls" not in facts:
            # The open recall campaigns of the unit (a claim's too): the signal names them first.
            facts = {**facts, "recalls": recall_queries.unit_campaigns(db(), unit["id"])}
    return scan_signal(shown_result(scan), facts, matched=len(matches))


def previous_text(scan: dict[str, Any]) -> str | None:
    """"Scanned here before: <when> by <user>" (or "within a second" for a double pull), or None."""
    previous = scan.get("previous")
    if not previous:
        return None
    when = format_moment(previous["at"])
    if scan["result"] == "repeat":
        return _("Scanned twice: the same code again within a second (first at %(when)s); counted once", when=when)
    if previous.get("user"):
        return _("Repeat: scanned here before on %(when)s by %(user)s", when=when, user=previous["user"])
    return _("Repeat: scanned here before on %(when)s", when=when)


def scan_answer(scan: dict[str, Any]) -> dict[str, Any]:
    """The JSON the header's scan field reads: the signal, the reasons in words, the page to open or the choices."""
    matches = scan["matches"]
    shown = shown_result(scan)
    signal = signal_of(scan)
    url = match_url(matches[0], matches) if shown in OPENS_PAGE and len(matches) == 1 else None
    choices = [] if url else [{"kind": m["kind"], "label": tr(m["label"]), "url": match_url(m, matches)}
                              for m in matches]
    return {"code": scan["code"], "result": scan["result"], "shown": shown, "signal": signal.colour,
            "reasons": [tr(r) for r in signal.reasons], "message": tr(scan.get("message")), "url": url,
            "choices": choices, "previous": previous_text(scan)}


def flash_signal(scan: dict[str, Any], signal: Signal) -> None:
    """Carry the signal to the page a scan opens: shown there in its colour, with its tone."""
    words = "; ".join(str(tr(r)) for r in signal.reasons)
    text = _("%(found)s: %(reasons)s", found=tr(scan.get("message") or ""), reasons=words)
    previous = previous_text(scan)
    flash(_("%(found)s. %(previous)s", found=text, previous=previous) if previous else text,
          f"signal {signal.colour}")


def from_our_page() -> bool:
    """True when the request came from a page of this site (the browser's Origin, else its Referer)."""
    source = request.headers.get("Origin") or request.referrer or ""
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc == request.host


def token_refused() -> bool:
    """Check the scan form's CSRF token: False when it is good (or checks are off), True when a page of ours sent
    an old one; a token missing or wrong from anywhere else is the usual CSRFError (400)."""
    from .. import csrf

    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return False
    try:
        csrf.protect()
    except CSRFError:
        # A page of ours left open across a new login has an old token: the scan is kept and sent again with a
        # fresh one. Another site's form is refused as before (and SameSite cookies keep it logged out anyway).
        if not from_our_page():
            raise
        return True
    return False
