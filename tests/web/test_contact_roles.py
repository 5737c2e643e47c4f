"""Customers' contact details (contact person, phone, email, address) reach only the roles that call customers:
every page, download and API answer that can show them is walked here for every role."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from serialtrace.accounts.enums import ROLES
from serialtrace.quality import recalls
from serialtrace.trace.dossier import CONTACT_FIELDS, CONTACT_ROLES
from serialtrace.warranty.models import Survey

from .dossier_data import CLAIM_NUMBER, CUSTOMER, make_history

BATCH = "2502C77"


@pytest.fixture
def world(session, make_batch, users):
    """A shipped, claimed unit of a recalled batch, its claim's survey whose mail to the customer failed."""
    batch, serials = make_batch(quantity=4, number=BATCH)
    made = make_history(session, serials, engineer_id=users["engineer"].id)
    session.add(Survey(claim_id=made.claim_id, email=CUSTOMER["email"], token_hash="0" * 64,
                       expires_at=datetime.now(UTC) + timedelta(days=30), mail_attempts=1,
                       mail_error=f"550 <{CUSTOMER['email']}>: recipient address rejected"))
    campaign = recalls.create_from_batch(session, number=BATCH, reason="cracked solder", author=users["quality"])
    session.commit()
    return {"serial": made.serial, "claim_id": made.claim_id, "campaign": campaign.number,
            "sku": session.get(type(batch), batch.id).product_id}


def _pages(w) -> list[str]:
    return [f"/units/{w['serial']}", f"/claims/{CLAIM_NUMBER}", f"/claims/{w['claim_id']}",
            f"/station/claims/{CLAIM_NUMBER}", "/test-queue", "/quality/recalls", "/quality/recalls.csv",
            f"/batches/{BATCH}", f"/batches/{BATCH}/recall.csv", f"/batches/{BATCH}/recall.csv?group=customer",
            f"/quality/recalls/{w['campaign']}", f"/quality/recalls/{w['campaign']}/customers.csv",
            f"/quality/recalls/{w['campaign']}/units.csv", "/quality/customers", "/quality/customers.csv",
            "/reports/registrations.csv", "/station", "/worklist", "/claims"]


def _api(w) -> list[str]:
    return [f"/api/v1/units/{w['serial']}", f"/api/v1/claims/{w['claim_id']}", f"/api/v1/batches/{BATCH}",
            f"/api/v1/batches/{BATCH}/recall", f"/api/v1/batches/{BATCH}/recall?format=csv&group=customer",
            f"/api/v1/recalls/{w['campaign']}", "/api/v1/recalls", "/api/v1/claims/billed",
            "/api/v1/claims/billed.csv", "/api/v1/worklist", "/api/v1/test-queue"]


def _shown(body: bytes) -> str:
    """The answer's text, JSON unescaped (Cyrillic arrives as \\u escapes)."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def _answer(response) -> tuple[int, str]:
    """Status and text, read at once (a streamed download must end before the next request starts)."""
    with response:
        return response.status_code, _shown(response.get_data())


def _contacts_in(text: str) -> list[str]:
    return [field for field in CONTACT_FIELDS if CUSTOMER[field] in text]


@pytest.mark.parametrize("role", ROLES)
def test_contact_details_reach_only_the_roles_that_call_customers(login, api, world, role):
    client, caller = login(role), api(role)
    answers = {url: _answer(client.get(url)) for url in _pages(world)}
    answers.update({url: _answer(caller.get(url)) for url in _api(world)})
    leaks = {url: _contacts_in(text) for url, (status, text) in answers.items() if status == 200}
    leaks = {url: fields for url, fields in leaks.items() if fields}
    if role in CONTACT_ROLES:
        # The walk can see contacts: the dossier, page and API, shows every field to these roles.
        for url in (f"/units/{world['serial']}", f"/api/v1/units/{world['serial']}"):
            assert set(leaks.get(url, ())) == set(CONTACT_FIELDS), url
    else:
        assert leaks == {}, f"{role} was shown contact details"
        # The walk reached the pages the role may open, so nothing passes by being refused everywhere.
        opened = {url for url, (status, _) in answers.items() if status == 200}
        assert f"/units/{world['serial']}" in opened and f"/api/v1/units/{world['serial']}" in opened
        if role == "engineer":
            assert f"/claims/{CLAIM_NUMBER}" in opened and f"/api/v1/claims/{world['claim_id']}" in opened
