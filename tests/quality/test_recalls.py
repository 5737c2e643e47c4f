"""Recall campaigns: made from a batch, a component lot or a filter; refused for nothing or a batch already in one;
customers followed step by step with append-only notes; units returned counted; closed with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from serialtrace.accounts import service as accounts_service
from serialtrace.errors import Conflict, InvalidTransition, NotFound, ValidationError
from serialtrace.quality import recall_queries, recalls
from serialtrace.quality.models import RecallCustomer, RecallNote, RecallUnit
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, BatchEvent
from serialtrace.warranty import service as warranty_service
from serialtrace.warranty.models import UnitCase

TODAY = date(2025, 6, 2)


@pytest.fixture
def people(session):
    return {role: accounts_service.create_user(session, username=role, role=role)
            for role in ("quality", "warehouse", "coordinator")}


@pytest.fixture
def shop(session, make_batch):
    """Two customers; batch B1 (lot L1): 4 units, 2 to Alpha, 1 to Beta; batch B2 (lot L1 too): 2, 1 shipped to
    Beta; batch B3 (other lot) nothing shipped."""
    lot = trace_service.LotInput("Acme", "board", "L1")
    b1, s1 = make_batch(quantity=4, number="B1", inputs=[lot], produced_on=date(2025, 1, 10))
    b2, s2 = make_batch(quantity=2, number="B2", inputs=[lot], produced_on=date(2025, 2, 10))
    b3, s3 = make_batch(quantity=2, number="B3", inputs=[trace_service.LotInput("Acme", "board", "L2")],
                        produced_on=date(2025, 3, 10))
    alpha = trace_service.get_or_create_customer(session, name="Alpha", tax_id="7700000001")
    beta = trace_service.get_or_create_customer(session, name="Beta", tax_id="7700000002")
    trace_service.create_shipment(session, customer=alpha, shipped_on=date(2025, 2, 1), serials=s1[:2], today=TODAY)
    trace_service.create_shipment(session, customer=beta, shipped_on=date(2025, 2, 2), serials=[s1[2], s2[0]],
                                  today=TODAY)
    return {"batches": (b1, b2, b3), "serials": (s1, s2, s3), "alpha": alpha, "beta": beta}


def test_a_campaign_from_a_batch_recalls_its_shipped_units_with_their_customers(session, shop, people):
    b1 = shop["batches"][0]
    campaign = recalls.create_from_batch(session, number="B1", reason="capacitor", author=people["quality"])
    assert campaign.number.startswith("RC-") and len(campaign.number) == 9
    units = session.execute(select(RecallUnit.customer_id, func.count()).where(RecallUnit.campaign_id == campaign.id)
                            .group_by(RecallUnit.customer_id)).all()
    assert dict(units) == {shop["alpha"].id: 2, shop["beta"].id: 1}
    statuses = session.scalars(select(RecallCustomer.status).where(RecallCustomer.campaign_id == campaign.id)).all()
    assert statuses == ["to_contact", "to_contact"]
    session.refresh(b1)
    assert b1.status == "recalled"
    event = session.scalars(select(BatchEvent).where(BatchEvent.batch_id == b1.id)).one()
    assert (event.from_status, event.to_status, event.author) == ("released", "recalled", "quality")
    assert campaign.number in event.reason
    second = recalls.create_from_batch(session, number="B2", reason="x")
    assert int(second.number[3:]) == int(campaign.number[3:]) + 1


def test_a_campaign_from_a_lot_takes_every_batch_it_went_into(session, shop):
    campaign = recalls.create_from_lot(session, lot=recalls.find_component_lot(session, lot_number="L1",
                                                                               supplier="Acme", part="board"),
                                       reason="bad boards")
    assert sorted(campaign.scope["batches"]) == ["B1", "B2"]
    assert recall_queries.progress(session, campaign)["units_affected"] == 4
    assert {session.get(Batch, b.id).status for b in shop["batches"][:2]} == {"recalled"}
    assert session.get(Batch, shop["batches"][2].id).status == "released"


def test_a_campaign_from_a_filter_by_product_and_dates_or_batch_list(session, shop):
    by_dates = recalls.create_from_filter(session, sku="PR-100", produced_from=date(2025, 2, 1),
                                          produced_to=date(2025, 2, 28), reason="February")
    assert by_dates.scope["batches"] == ["B2"]
    by_list = recalls.create_from_filter(session, batch_numbers=["B1"], reason="list")
    assert by_list.scope["batches"] == ["B1"]
    with pytest.raises(NotFound, match="no batch NOPE"):
        recalls.create_from_filter(session, batch_numbers=["NOPE"], reason="x")
    with pytest.raises(ValidationError, match="needs the product SKU"):
        recalls.create_from_filter(session, batch_numbers=["B1"], produced_from=date(2025, 1, 1), reason="x")


def test_a_recall_of_nothing_or_of_unknown_things_is_refused_and_changes_nothing(session, shop):
    with pytest.raises(ValidationError, match="nothing to recall: no unit of batches B3 is out"):
        recalls.create_from_batch(session, number="B3", reason="x")
    with pytest.raises(NotFound, match="no batch 'ZZ'"):
        recalls.create_from_batch(session, number="ZZ", reason="x")
    with pytest.raises(NotFound):
        recalls.find_component_lot(session, lot_number="NOLOT")
    with pytest.raises(NotFound):
        recalls.find_component_lot(session, lot_id=999999)
    with pytest.raises(ValidationError, match="reason must not be empty"):
        recalls.create_from_batch(session, number="B1", reason=" ")
    assert session.get(Batch, shop["batches"][2].id).status == "released"
    assert session.scalar(select(func.count()).select_from(RecallUnit)) == 0


def test_a_batch_in_an_open_campaign_is_a_conflict_naming_it(session, shop):
    first = recalls.create_from_batch(session, number="B1", reason="x")
    with pytest.raises(Conflict, match=f"batch B1 is already in open recall campaign {first.number}") as exc:
        recalls.create_from_lot(session, lot=recalls.find_component_lot(session, lot_number="L1"), reason="y")
    assert exc.value.status_code == 409 and exc.value.details == {"batch": "B1", "campaign": first.number}
    recalls.close_campaign(session, number=first.number, reason="done")
    # Closed: a new campaign may take the batch again (it stays recalled, with no second event).
    again = recalls.create_from_batch(session, number="B1", reason="missed units")
    assert again.state == "open"
    assert session.scalar(select(func.count()).select_from(BatchEvent)
                          .where(BatchEvent.batch_id == shop["batches"][0].id)) == 1


def test_customer_steps_on_and_back_with_notes_that_are_append_only(session, shop, people):
    campaign = recalls.create_from_batch(session, number="B1", reason="x")
    alpha = shop["alpha"].id
    q = people["quality"]
    recalls.update_customer(session, number=campaign.number, customer_id=alpha, status="contacted",
                            note="called Ivanov", author=q)
    with pytest.raises(InvalidTransition, match="from contacted to closed"):
        recalls.update_customer(session, number=campaign.number, customer_id=alpha, status="closed", author=q)
    with pytest.raises(ValidationError, match="needs a note"):
        recalls.update_customer(session, number=campaign.number, customer_id=alpha, status="to_contact", author=q)
    with pytest.raises(ValidationError, match="status 'lost' is not known"):
        recalls.update_customer(session, number=campaign.number, customer_id=alpha, status="lost", author=q)
    with pytest.raises(ValidationError, match="give a new status or a note"):
        recalls.update_customer(session, number=campaign.number, customer_id=alpha, author=q)
    with pytest.raises(NotFound, match="is not in recall campaign"):
        recalls.update_customer(session, number=campaign.number, customer_id=999999, note="x", author=q)
    recalls.update_customer(session, number=campaign.number, customer_id=alpha, status="to_contact",
                            note="wrong number", author=q)
    note = recalls.update_customer(session, number=campaign.number, customer_id=alpha, note="letter sent", author=q)
    assert (note.status_from, note.status_to, note.author) == ("", "", "quality")
    listed = recall_queries.notes(session, campaign)[alpha]
    assert [(n["status_from"], n["status_to"], n["text"]) for n in listed] == [
        ("to_contact", "contacted", "called Ivanov"), ("contacted", "to_contact", "wrong number"),
        (None, None, "letter sent")]
    with pytest.raises(IntegrityError, match="recall_note is append-only"):
        with session.begin_nested():
            session.execute(update(RecallNote).where(RecallNote.id == note.id).values(text="edited"))


def test_returned_units_count_against_the_campaign_and_progress_adds_up(session, shop, people):
    serials = shop["serials"][0]
    # Before the campaign: a claim whose unit came back earlier does not count (and is not recalled).
    campaign = recalls.create_from_batch(session, number="B1", reason="x")
    claim = warranty_service.register_claim(session, serial=serials[0], symptom="no_power",
                                            author=people["warehouse"], today=TODAY).claim
    for to in ("triage", "awaiting_return"):
        warranty_service.transition_claim(session, claim_id=claim.id, to=to, author=people["coordinator"],
                                          today=TODAY)
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    before = recall_queries.progress(session, campaign)
    assert (before["units_returned"], before["units_affected"]) == (0, 3)
    warranty_service.receive_case(session, case_id=case.id, serial=serials[0], author=people["warehouse"])
    done = recall_queries.progress(session, campaign)
    assert (done["units_returned"], done["units_affected"]) == (1, 3)
    rows = {r["customer"]: (r["units"], r["returned"]) for r in recall_queries.customer_rows(session, campaign)}
    assert rows == {"Alpha": (2, 1), "Beta": (1, 0)}
    units = {r["serial"]: r["returned"] for r in recall_queries.unit_rows(session, campaign)}
    assert units == {serials[0]: True, serials[1]: False, serials[2]: False}
    recalls.update_customer(session, number=campaign.number, customer_id=shop["alpha"].id, status="contacted")
    assert recall_queries.progress(session, campaign)["customers"] == {
        "to_contact": 1, "contacted": 1, "units_returned": 0, "closed": 0}
    assert [c["number"] for c in recall_queries.unit_campaigns(session, session.scalar(
        select(RecallUnit.unit_id).where(RecallUnit.campaign_id == campaign.id).limit(1)))] == [campaign.number]


def test_closing_needs_a_reason_and_ends_the_campaigns_changes(session, shop):
    campaign = recalls.create_from_batch(session, number="B1", reason="x")
    with pytest.raises(ValidationError, match="reason must not be empty"):
        recalls.close_campaign(session, number=campaign.number, reason="")
    recalls.close_campaign(session, number=campaign.number.lower(), reason="all back")
    assert (campaign.state, campaign.scope["closed_reason"]) == ("closed", "all back")
    with pytest.raises(Conflict, match="is closed"):
        recalls.close_campaign(session, number=campaign.number, reason="again")
    with pytest.raises(Conflict, match="is closed"):
        recalls.update_customer(session, number=campaign.number, customer_id=shop["alpha"].id, note="late")
    assert recall_queries.list_campaigns(session)[0]["closed_reason"] == "all back"
    with pytest.raises(NotFound):
        recalls.get_campaign(session, "RC-999999")


@pytest.mark.parametrize(("current", "target", "ok"), [
    ("to_contact", "contacted", True), ("contacted", "units_returned", True), ("units_returned", "closed", True),
    ("to_contact", "units_returned", False), ("closed", "to_contact", False), ("contacted", "contacted", False)])
def test_steps_are_one_on_or_one_back(current, target, ok):
    if ok:
        recalls.ensure_step(current, target, note="")
    else:
        with pytest.raises(InvalidTransition):
            recalls.ensure_step(current, target, note="why")
