"""POST /api/v1/claims/<id>/replace: the instant replacement over HTTP, its refusals, and two desks at once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Shipment, Unit, UnitEvent
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import ClaimEvent, Replacement, UnitCase
from serialtrace.web import create_app


@pytest.fixture
def stock(session, make_batch):
    """A claim on a unit shipped to a customer, and two units in stock; committed for the app."""
    _, serials = make_batch(quantity=3)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[:1])
    claim = warranty_service.register_claim(session, serial=serials[0], symptom="no_power", author=None,
                                            today=date.today()).claim
    session.commit()
    return claim.id, serials


def _counts(session) -> tuple:
    return (tuple(session.scalar(select(func.count()).select_from(t))
                  for t in (Replacement, Shipment, UnitEvent, ClaimEvent)),
            tuple(session.execute(select(Unit.status).order_by(Unit.id)).scalars()),
            tuple(session.execute(select(UnitCase.state)).scalars()))


def test_replace_answers_201_with_the_claim_and_its_replacement(api, session, stock):
    claim_id, serials = stock
    answer = api("warehouse").post(f"/api/v1/claims/{claim_id}/replace",
                                   json={"replacement_serial": serials[1], "on_desk": True})
    assert answer.status_code == 201, answer.json
    body = answer.json
    # The unit handed over at the desk is received: the claim waits on its verification.
    assert body["state"] == "pending_verification"
    assert [(r["returned_serial"], r["replacement_serial"]) for r in body["replacements"]] == [(serials[0],
                                                                                              serials[1])]
    assert [(c["serial"], c["state"]) for c in body["cases"]] == [(serials[0], "received")]
    assert [e["to"] for e in body["timeline"] if e["kind"] == "state_change"] == [
        "registered", "triage", "replacement_shipped", "pending_verification"]
    assert [e["replacement_serial"] for e in body["timeline"] if e["kind"] == "replacement"] == [serials[1]]
    assert [e["author"] for e in body["timeline"] if e["kind"] == "replacement"] == ["warehouse"]
    # The dossier of the replacement names the unit it stands in for.
    dossier = api("warehouse").get(f"/api/v1/units/{serials[1]}").json
    assert [(r["role"], r["returned_serial"]) for r in dossier["replacements"]] == [("replacement", serials[0])]


@pytest.mark.parametrize(("serial", "status", "words"), [
    ("NO-SUCH-1", 404, "NO-SUCH-1"), ("{returned}", 422, "is the returned unit"), ("", 422, "replacement")])
def test_bad_replacement_is_refused_and_changes_nothing(api, session, stock, serial, status, words):
    claim_id, serials = stock
    before = _counts(session)
    answer = api("warehouse").post(f"/api/v1/claims/{claim_id}/replace",
                                   json={"replacement_serial": serial.format(returned=serials[0])})
    assert answer.status_code == status, answer.json
    assert words in answer.json["message"]
    assert _counts(session) == before


def test_a_shipped_replacement_is_a_409_naming_it(api, session, stock):
    claim_id, serials = stock
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[1:2])
    session.commit()
    before = _counts(session)
    answer = api("coordinator").post(f"/api/v1/claims/{claim_id}/replace", json={"replacement_serial": serials[1]})
    assert answer.status_code == 409, answer.json
    assert serials[1] in answer.json["message"] and "not in stock" in answer.json["message"]
    assert _counts(session) == before


@pytest.mark.parametrize("role", ["engineer", "quality", "production"])
def test_roles_outside_the_desk_may_not_replace(api, session, stock, role):
    claim_id, serials = stock
    before = _counts(session)
    answer = api(role).post(f"/api/v1/claims/{claim_id}/replace", json={"replacement_serial": serials[1]})
    assert answer.status_code == 403
    assert _counts(session) == before


def _post_together(app, token: str, calls: list[tuple[int, str]]) -> list[tuple[int, dict]]:
    """POST each (claim, replacement) from its own thread and session, all released at once."""
    start = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i: int) -> None:
        client = app.test_client()
        claim_id, serial = calls[i]
        start.wait()
        resp = client.post(f"/api/v1/claims/{claim_id}/replace", json={"replacement_serial": serial},
                           headers={"Authorization": f"Bearer {token}"})
        out[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def desk_with_claims(db_url: str, *, quantity: int, claimed: list[int]) -> tuple[Runtime, str, list[str], list[int]]:
    """A committed desk user and token, `quantity` units, and one claim per index in `claimed` (those units shipped)."""
    rt = Runtime.from_env({"database_url": db_url, "secret_key": "replace", "serial_key": "k"})
    today = date.today()
    with rt.transaction() as s:
        user = accounts_service.create_user(s, username="desk", role="warehouse", password="desk-pass-1")
        token = accounts_service.create_token(s, name="desk-token", user=user)
        trace_service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")
        _, serials = trace_service.register_batch(s, product="PR-100", quantity=quantity, number="2501A00",
                                                  produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
        customer = trace_service.get_or_create_customer(s, name="ACME", tax_id="5401234567")
        shipped = sorted(set(claimed))
        trace_service.create_shipment(s, customer=customer, shipped_on=today, serials=[serials[i] for i in shipped])
        claims = [warranty_service.register_claim(s, serial=serials[i], symptom="no_power", author=user,
                                                  today=today).claim.id for i in claimed]
    return rt, token, serials, claims


def test_two_desks_at_once_one_wins_the_other_gets_409(fresh_db_url):
    rt, token, serials, claims = desk_with_claims(fresh_db_url, quantity=6, claimed=[0, 1, 2])
    app = create_app(runtime=rt)
    # The same replacement handed out on two claims; then the same claim replaced by two desks.
    same_replacement = _post_together(app, token, [(claims[0], serials[3]), (claims[1], serials[3])])
    same_claim = _post_together(app, token, [(claims[2], serials[4]), (claims[2], serials[5])])
    for outcome in (same_replacement, same_claim):
        statuses = sorted(status for status, _ in outcome)
        assert statuses == [201, 409], outcome
    loser = next(body for status, body in same_replacement if status == 409)
    assert serials[3] in loser["message"], loser
    loser = next(body for status, body in same_claim if status == 409)
    assert "replacement_shipped" in loser["message"] or "Replacement shipped" in loser["message"], loser
    with rt.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Replacement)) == 2
        assert s.scalar(select(func.count()).select_from(Shipment)) == 3
        assert s.scalar(select(func.count()).select_from(Unit).where(Unit.status == "in_stock")) == 1
    rt.engine.dispose()


def test_refusal_is_in_russian_for_a_russian_reader(app, tokens, stock):
    claim_id, serials = stock
    answer = app.test_client().post(f"/api/v1/claims/{claim_id}/replace", json={"replacement_serial": serials[0]},
                                    headers={"Authorization": f"Bearer {tokens['warehouse']}",
                                             "Accept-Language": "ru"})
    assert answer.status_code == 422
    assert answer.json["message"] == f"изделие {serials[0]} — это возвращённое изделие; отсканируйте замену со склада"
