"""The unit page shows what the database knows: claims, tests, contacts by role, events in words, links, local times."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from serialtrace.trace import service
from serialtrace.trace.models import Unit

from .dossier_data import CLAIM_NUMBER, CUSTOMER, DESCRIPTION, REFERENCE, TEST_NOTES, make_history

MOSCOW = {"timezone": "Europe/Moscow"}


class _Dossier(HTMLParser):
    """The hrefs inside the dossier section and every element id of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if attrs.get("id") == "dossier":
            self._depth = 1
        elif self._depth and tag == "section":
            self._depth += 1
        if self._depth and tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])

    def handle_endtag(self, tag):
        if self._depth and tag == "section":
            self._depth -= 1


def _parse(html: str) -> _Dossier:
    parser = _Dossier()
    parser.feed(html)
    return parser


@pytest.fixture
def history(session, make_batch, users):
    """A unit shipped, claimed, returned, tested and replaced (tests/web/dossier_data.py)."""
    _, serials = make_batch(quantity=3, number="2502C02", line="Line 2", shift="B",
                            inputs=[service.LotInput("ООО «ЭлКомп»", "board", "L77096")])
    made = make_history(session, serials, engineer_id=users["engineer"].id)
    session.commit()
    return made


def _dossier_text(client, serial: str) -> str:
    resp = client.get(f"/units/{serial}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    return html[html.index('id="dossier"'):html.index("</section>", html.index('id="dossier"'))]


def _text_only(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("settings_overrides", [MOSCOW])
def test_unit_page_shows_claim_test_and_event_details_in_words(login, history, users):
    html = _dossier_text(login("warehouse"), history.serial)
    text = _text_only(html)
    # The claim: number with its anchor, state, priority, symptom and description in words, both dates.
    assert f'id="claim-{CLAIM_NUMBER}"' in html
    assert "In inspection" in text and "P2 · high" in text and "Does not switch on" in text
    assert DESCRIPTION in text
    assert "in_inspection" not in text and "no_power" not in text
    # The test: verdict and failure mode in words, the engineer, the notes.
    assert "Defect confirmed" in text and "Cracked solder joint" in text and "component_supplier" in text
    assert TEST_NOTES in text and users["engineer"].username in text
    # Events: the shipment's document and customer, status changes from and to, the claim and replacement.
    assert REFERENCE in text and "Shipped to customer → Returned" in text and "Returned → In test" in text
    assert f"Replacement unit {history.replacement}" in text
    # The heading names the serial, product and batch once each.
    head = _text_only(html[html.index('<header class="dossier-head">'):html.index("</header>")])
    assert head.count(history.serial) == 1 and head.count("Flow meter UR-100") == 1 and head.count("2502C02") == 1


@pytest.mark.parametrize("settings_overrides", [MOSCOW])
def test_times_are_shown_in_the_business_time_zone(login, history):
    text = _text_only(_dossier_text(login("warehouse"), history.serial))
    # Claim opened 07:15 UTC, closed 14:05 UTC, tested 09:30 UTC, replaced 06:00 UTC: Moscow is UTC+3.
    assert "2025-06-02 10:15" in text and "2025-06-20 17:05" in text
    assert "2025-06-05 12:30" in text and "2025-06-03 09:00" in text
    assert "07:15" not in text and "14:05" not in text


def test_times_stay_in_utc_when_the_business_is_there(login, history):
    text = _text_only(_dossier_text(login("warehouse"), history.serial))
    assert "2025-06-02 07:15" in text and "10:15" not in text


@pytest.mark.parametrize("role", ["warehouse", "coordinator", "supervisor", "quality", "admin"])
def test_roles_that_call_customers_see_the_contacts(login, history, role):
    text = _text_only(_dossier_text(login(role), history.serial))
    for field in ("name", "contact_name", "phone", "email", "address"):
        assert CUSTOMER[field] in text, field
    assert "Contact details are shown" not in text


@pytest.mark.parametrize("role", ["production", "engineer"])
def test_roles_that_work_on_the_unit_do_not_see_the_contacts(login, history, role):
    html = _dossier_text(login(role), history.serial)
    text = _text_only(html)
    assert CUSTOMER["name"] in text
    for field in ("contact_name", "phone", "email", "address"):
        assert CUSTOMER[field] not in text, field
    assert "mailto:" not in html and "tel:" not in html
    assert "Contact details are shown to the warehouse desk" in text


def test_the_station_hides_contacts_from_an_engineer_too(login, history):
    from .conftest import csrf_from

    client = login("engineer")
    token = csrf_from(client.get("/station").get_data(as_text=True))
    html = client.post("/station", data={"code": history.serial, "csrf_token": token}).get_data(as_text=True)
    assert 'id="dossier"' in html and CUSTOMER["name"] in html
    assert CUSTOMER["phone"] not in html and CUSTOMER["email"] not in html


def test_every_link_of_the_dossier_resolves(app, login, history):
    client = login("quality")
    page = client.get(f"/units/{history.serial}").get_data(as_text=True)
    parsed = _parse(page)
    followed = 0
    for href in parsed.hrefs:
        parts = urlsplit(href)
        if parts.scheme in ("tel", "mailto"):
            continue
        if not parts.path:
            # An anchor on this page: a claim row, a shipment row.
            assert parts.fragment in parsed.ids, href
            continue
        resp = client.get(href)
        assert resp.status_code == 200, (href, resp.status_code)
        if parts.fragment:
            assert parts.fragment in _parse(resp.get_data(as_text=True)).ids, href
        followed += 1
    # Batch (heading and produced event), the replacement unit (list and event) at the least.
    assert followed >= 4
    assert f"#claim-{CLAIM_NUMBER}" in parsed.hrefs and f"#shipment-{history.shipment_id}" in parsed.hrefs
    assert f"/units/{history.replacement}" in parsed.hrefs
    assert any(h.startswith("/batches/2502C02") for h in parsed.hrefs)
    # The component lot and the product link to their pages wherever the app has them.
    assert ("/lots/L77096" in parsed.hrefs) == ("pages.lot" in app.view_functions)
    assert ("/products/PR-100" in parsed.hrefs) == ("pages.product" in app.view_functions)


def test_the_replacement_links_back_to_the_claim_on_the_returned_unit(login, history):
    client = login("warehouse")
    page = client.get(f"/units/{history.replacement}").get_data(as_text=True)
    claim_link = f"/units/{history.serial}#claim-{CLAIM_NUMBER}"
    assert claim_link in _parse(page).hrefs
    assert f"claim-{CLAIM_NUMBER}" in _parse(client.get(claim_link).get_data(as_text=True)).ids


def test_an_event_with_a_payload_the_page_does_not_know_shows_it_as_stored(login, session, make_batch):
    _, serials = make_batch(quantity=1, number="N1")
    uid = session.scalars(select(Unit.id).where(Unit.serial == serials[0])).one()
    service.record_unit_events(session, kind="note", units=[uid], payload={"pallet": "П-17", "shelf": 4})
    session.commit()
    text = _text_only(_dossier_text(login("warehouse"), serials[0]))
    assert "pallet П-17" in text and "shelf 4" in text


def test_api_dossier_carries_the_new_fields(api, history):
    body = api("warehouse").get(f"/api/v1/units/{history.serial}").get_json()
    assert body["customer"]["address"] == CUSTOMER["address"]
    assert body["tests"][0]["claim_number"] == CLAIM_NUMBER and body["tests"][0]["engineer"] == "engineer"
    assert body["replacements"][0]["claim_number"] == CLAIM_NUMBER
    changes = [(e["kind"], e["from_status"], e["to_status"]) for e in body["events"] if e["to_status"]]
    assert changes == [("shipped", "in_stock", "shipped"), ("returned", "shipped", "returned"),
                       ("status", "returned", "in_test")]


@pytest.mark.parametrize(("role", "sees"), [("warehouse", True), ("quality", True), ("engineer", False),
                                            ("production", False)])
def test_the_api_dossier_follows_the_same_contact_rule(api, history, role, sees):
    body = api(role).get(f"/api/v1/units/{history.serial}").get_json()
    customers = [body["customer"]] + [s["customer"] for s in body["shipments"]]
    assert customers[0]["name"] == CUSTOMER["name"]
    for customer in customers:
        for field in ("contact_name", "phone", "email", "address"):
            assert (customer.get(field) == CUSTOMER[field]) is sees, (role, field)
    assert body.get("contacts_hidden", False) is not sees
