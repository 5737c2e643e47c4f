"""The unit dossier as pages show it: contacts only for the roles that call customers, every event's payload in
words, and every record the dossier names (batch, component lot, product, claim, shipment, other unit) a link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from werkzeug.routing import BuildError

from ...trace.dossier import may_see_contacts, without_contacts
from ..i18n import _, format_day, label


@dataclass(frozen=True)
class Detail:
    """One fact of an event: what it is, its value in words, and the page of the record it names (if any)."""

    label: str
    text: str
    href: str | None = None


def link_for(endpoint: str, **values: Any) -> str | None:
    """The URL of a page, or None while this app has no such page (the lot and product pages come and go with
    the app's version; a dossier must render either way)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def for_page(dossier: dict[str, Any], user: Any) -> dict[str, Any]:
    """The dossier for `user`'s page: contacts left out unless the role needs them, links and event details added."""
    page = dossier if may_see_contacts(user) else without_contacts(dossier)
    page = {**page, "contacts_hidden": page.get("contacts_hidden", False)}
    product, batch = page["product"], page["batch"]
    page["product"] = {**product, "href": link_for("pages.product", sku=product["sku"])}
    page["batch"] = {**batch, "href": url_for("pages.batch", number=batch["number"], product=product["sku"]),
                     "inputs": [{**i, "href": link_for("pages.lot", number=i["lot"])} for i in batch["inputs"]]}
    page["claim_hrefs"] = _claim_hrefs(page)
    page["replacements"] = [{**r, "other_serial": r["replacement_serial"] if r["role"] == "returned"
                             else r["returned_serial"]} for r in page["replacements"]]
    page["events"] = [{**e, "details": event_details(e, page)} for e in page["events"]]
    return page


def _claim_hrefs(page: dict[str, Any]) -> dict[str, str]:
    """Claim number -> where the claim is shown: this unit's claim list, or the returned unit's for a claim this
    unit was handed out for."""
    hrefs = {r["claim_number"]: url_for("pages.unit", serial=r["returned_serial"], _anchor=f"claim-{r['claim_number']}")
             for r in page["replacements"] if r["claim_number"] and r["role"] == "replacement"}
    hrefs.update({c["number"]: f"#claim-{c['number']}" for c in page["claims"]})
    return hrefs


def event_details(event: dict[str, Any], page: dict[str, Any]) -> list[Detail]:
    """The event's payload as labelled facts in the reader's language, in a fixed order, links where they name a
    record; keys this page does not know are shown as they are stored."""
    payload = dict(event.get("payload") or {})
    payload.pop("to_status", None)
    out: list[Detail] = []
    if event.get("to_status"):
        before = label(event["from_status"], "unit_status") if event.get("from_status") else "?"
        out.append(Detail(_("Status"), f"{before} → {label(event['to_status'], 'unit_status')}"))
    for key, show in _SHOWN.items():
        if key in payload:
            detail = show(payload.pop(key), payload, page)
            if detail is not None:
                out.append(detail)
    out.extend(Detail(str(key), _plain(value)) for key, value in payload.items())
    return out


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "—" if value is None or value == "" else str(value)


def _claim(number: Any, _payload: dict, page: dict) -> Detail:
    return Detail(_("Claim"), str(number), page["claim_hrefs"].get(number))


def _batch(number: Any, _payload: dict, page: dict) -> Detail:
    href = page["batch"]["href"] if number == page["batch"]["number"] else url_for("pages.batch", number=number)
    return Detail(_("Batch"), str(number), href)


def _shipment(shipment_id: Any, payload: dict, page: dict) -> Detail:
    """The shipment's document, pointing at its row in the shipments table; the customer named with it."""
    shipment = next((s for s in page["shipments"] if s["id"] == shipment_id), None)
    reference = payload.pop("reference", None) or (shipment or {}).get("reference") or f"#{shipment_id}"
    return Detail(_("Document"), reference, f"#shipment-{shipment_id}" if shipment else None)


def _customer(customer_id: Any, _payload: dict, page: dict) -> Detail | None:
    names = {s["customer"]["id"]: s["customer"]["name"] for s in page["shipments"]}
    return Detail(_("Customer"), names.get(customer_id, f"#{customer_id}"))


def _replacement(unit_id: Any, payload: dict, page: dict) -> Detail:
    """The unit handed out in this one's place, by the claim the event names (or the only replacement)."""
    handed = [r for r in page["replacements"] if r["role"] == "returned"]
    match = [r for r in handed if r["claim_number"] == payload.get("claim")] or handed[:1]
    if not match:
        return Detail(_("Replacement unit"), f"#{unit_id}")
    serial = match[0]["replacement_serial"]
    return Detail(_("Replacement unit"), serial, url_for("pages.unit", serial=serial))


def _job(job_id: Any, _payload: dict, _page: dict) -> Detail:
    return Detail(_("Label job"), f"#{job_id}")


def _text(title: Callable[[], str], kind: str | None = None, day: bool = False):
    def show(value: Any, _payload: dict, _page: dict) -> Detail | None:
        if value is None or value == "":
            return None
        text = label(value, kind) if kind else format_day(value) if day else _plain(value)
        return Detail(title(), str(text))
    return show


# Payload keys in the order they are shown; the titles are looked up when shown, in the reader's language.
_SHOWN: dict[str, Callable[[Any, dict, dict], Detail | None]] = {
    "claim": _claim,
    "batch": _batch,
    "line": _text(lambda: _("Line")),
    "produced_on": _text(lambda: _("Produced on"), day=True),
    "shipment_id": _shipment,
    "reference": _text(lambda: _("Document")),
    "customer_id": _customer,
    "shipped_on": _text(lambda: _("Shipped on"), day=True),
    "job_id": _job,
    "template": _text(lambda: _("Label template")),
    "output": _text(lambda: _("Output")),
    "printer": _text(lambda: _("Printer")),
    "verdict": _text(lambda: _("Verdict"), "verdict"),
    "failure_mode": _text(lambda: _("Failure mode"), "failure_mode"),
    "disposition": _text(lambda: _("Disposition"), "unit_status"),
    "replacement_unit_id": _replacement,
}
