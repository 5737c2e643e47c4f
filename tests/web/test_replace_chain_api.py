"""Replacement chains over HTTP (followable both ways, with the warranty each unit carries) and two desks replacing
the same returned unit on two claims at once, on both databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Shipment, Unit
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import Replacement
from serialtrace.web import create_app

from .test_replace_api import _post_together, desk_with_claims


def test_a_chain_of_two_replacements_is_followable_both_ways(api, session, make_batch):
    _, serials = make_batch(quantity=3)
    today = date.today()
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=today, serials=serials[:1])
    claim = warranty_service.register_claim(session, serial=serials[0], symptom="no_power", author=None,
                                            today=today).claim
    session.commit()
    desk = api("warehouse")
    assert desk.post(f"/api/v1/claims/{claim.id}/replace", json={"replacement_serial": serials[1]}).status_code == 201
    second = desk.post("/api/v1/claims", json={"serial": serials[1], "symptom": "no_power"})
    assert second.status_code == 201, second.json
    answer = desk.post(f"/api/v1/claims/{second.json['id']}/replace", json={"replacement_serial": serials[2]})
    assert answer.status_code == 201, answer.json

    def step(serial: str) -> dict:
        """What the dossier of `serial` says it replaced and was replaced by."""
        dossier = desk.get(f"/api/v1/units/{serial}").json
        return {r["role"]: r["returned_serial"] if r["role"] == "replacement" else r["replacement_serial"]
                for r in dossier["replacements"]}

    # Forwards from the first unit to the last, and back again, one hop at a time.
    assert step(serials[0]) == {"returned": serials[1]}
    assert step(serials[1]) == {"replacement": serials[0], "returned": serials[2]}
    assert step(serials[2]) == {"replacement": serials[1]}
    warranty = desk.get(f"/api/v1/units/{serials[2]}").json["warranty"]
    assert warranty["until"] == desk.get(f"/api/v1/units/{serials[0]}").json["warranty"]["until"]
    assert f"continues the warranty of {serials[1]}" in warranty["reason"]


def test_two_desks_replacing_the_same_unit_on_two_claims_one_wins(fresh_db_url):
    # The customer phoned and e-mailed: two claims on the one unit, each at its own desk.
    rt, token, serials, claims = desk_with_claims(fresh_db_url, quantity=3, claimed=[0, 0])
    app = create_app(runtime=rt)
    outcome = _post_together(app, token, [(claims[0], serials[1]), (claims[1], serials[2])])
    assert sorted(status for status, _ in outcome) == [201, 409], outcome
    loser = next(body for status, body in outcome if status == 409)
    assert f"unit {serials[0]} was already replaced by" in loser["message"], loser
    with rt.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Replacement)) == 1
        assert s.scalar(select(func.count()).select_from(Shipment)) == 2
        assert s.scalar(select(func.count()).select_from(Unit).where(Unit.status == "in_stock")) == 1
    rt.engine.dispose()
