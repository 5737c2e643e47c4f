"""The rules of an instant replacement: substitutes, what stock is, and the warranty a replacement carries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.errors import Conflict, NotFound, ValidationError
from serialtrace.trace import queries as trace_queries
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Batch, Product, Shipment, Unit
from serialtrace.warranty import queries, service
from serialtrace.warranty.dossier import unit_dossier
from serialtrace.warranty.models import Replacement

TODAY = date(2025, 6, 2)


@pytest.fixture
def desk(session):
    """A warehouse worker at the desk."""
    return accounts_service.create_user(session, username="desk", role="warehouse")


@pytest.fixture
def setup(session, make_batch, desk, product):
    """A claim on a unit shipped on 2025-02-03 (24 months), and a batch of stock."""
    _, serials = make_batch(quantity=1)
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=TODAY)
    stock_batch, stock = make_batch(quantity=4)
    claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
    return claim, serials[0], stock, stock_batch


def _unit(session, serial):
    return session.scalars(select(Unit).where(Unit.serial == serial)).one()


def _links(session) -> int:
    return session.scalar(select(func.count()).select_from(Replacement))


def _successor(session, scheme) -> tuple[Product, list[str]]:
    """A successor model with one unit in stock."""
    successor = trace_service.add_product(session, sku="PR-110", name="Flow meter UR-110", gtin="04601234560023")
    _, serials = trace_service.register_batch(session, product=successor, quantity=1, scheme=scheme,
                                              produced_on=date(2025, 3, 3))
    return successor, serials


def test_a_substitute_the_product_allows_may_replace_it_and_only_then(session, setup, desk, scheme, product):
    claim, returned, _, _ = setup
    successor, (spare,) = _successor(session, scheme)
    with pytest.raises(ValidationError, match="same product or a substitute it allows"):
        service.replace_unit(session, claim_id=claim.id, replacement_serial=spare, author=desk, today=TODAY)
    # The rule goes one way: PR-100 may not stand in for PR-110 just because PR-110 may stand in for PR-100.
    assert trace_service.add_substitute(session, product=product, substitute=successor) is True
    assert trace_service.add_substitute(session, product=product, substitute=successor) is False
    assert [p.sku for p in trace_queries.list_substitutes(session, product)] == ["PR-110"]
    assert trace_queries.list_substitutes(session, successor) == []
    done = service.replace_unit(session, claim_id=claim.id, replacement_serial=spare, author=desk, today=TODAY)
    assert done.state == "replacement_shipped"
    assert session.scalars(select(Replacement.replacement_unit_id)).one() == _unit(session, spare).id


def test_substitute_management_refusals(session, product, scheme):
    successor, _ = _successor(session, scheme)
    with pytest.raises(ValidationError, match="PR-100 cannot be its own substitute"):
        trace_service.add_substitute(session, product=product, substitute=product)
    with pytest.raises(NotFound, match="PR-110 is not a substitute for PR-100"):
        trace_service.remove_substitute(session, product=product, substitute=successor)
    trace_service.add_substitute(session, product=product, substitute=successor)
    trace_service.remove_substitute(session, product=product, substitute=successor)
    assert trace_queries.list_substitutes(session, product) == []
    with pytest.raises(ValidationError, match="'continue' or 'restart', not 'forever'"):
        trace_service.set_replacement_warranty(session, product, rule="forever")
    assert product.replacement_warranty == "continue"


@pytest.mark.parametrize("status", ["refurbished", "swap_pool"])
def test_refurbished_and_swap_pool_units_are_stock(session, setup, desk, status):
    claim, _, stock, _ = setup
    unit = _unit(session, stock[0])
    if status == "refurbished":
        trace_service.set_unit_status(session, units=[unit.id], to="in_test")
    trace_service.set_unit_status(session, units=[unit.id], to=status)
    service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    assert _unit(session, stock[0]).status == "shipped"


@pytest.mark.parametrize("status", ["in_test", "scrapped"])
def test_units_outside_stock_are_refused_naming_their_status(session, setup, desk, status):
    claim, _, stock, _ = setup
    trace_service.set_unit_status(session, units=[_unit(session, stock[0]).id], to=status)
    with pytest.raises(Conflict) as refused:
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    assert stock[0] in str(refused.value) and status in str(refused.value)
    assert (_links(session), _unit(session, stock[0]).status) == (0, status)


def test_a_recalled_batch_is_never_stock(session, setup, desk):
    claim, _, stock, stock_batch = setup
    trace_service.set_batch_status(session, batch=session.get(Batch, stock_batch.id), status="recalled",
                                   reason="valve")
    with pytest.raises(Conflict) as refused:
        service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    assert stock[0] in str(refused.value) and "recalled" in str(refused.value)
    assert (_links(session), _unit(session, stock[0]).status) == (0, "in_stock")
    assert session.scalar(select(func.count()).select_from(Shipment)) == 1


def _replace_twice(session, setup, desk):
    """S is replaced by R1 on TODAY, R1 by R2 on 2025-09-01: a chain of two replacements."""
    claim, returned, stock, _ = setup
    service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    later = date(2025, 9, 1)
    second = service.register_claim(session, serial=stock[0], symptom="no_power", author=desk, today=later).claim
    service.replace_unit(session, claim_id=second.id, replacement_serial=stock[1], author=desk, today=later)
    return returned, stock[0], stock[1]


def test_a_replacement_continues_the_returned_units_warranty_along_the_chain(session, setup, desk):
    returned, first, second = _replace_twice(session, setup, desk)
    warranty = unit_dossier(session, _unit(session, first), today=date(2025, 7, 1))["warranty"]
    assert warranty == {"status": "in_warranty", "in_warranty": True, "until": "2027-02-03", "start": "2025-02-03",
                        "reason": f"in warranty until 2027-02-03 (continues the warranty of {returned}, replaced on "
                                  "2025-06-02)"}
    warranty = unit_dossier(session, _unit(session, second), today=date(2027, 2, 3))["warranty"]
    assert (warranty["status"], warranty["until"]) == ("in_warranty", "2027-02-03")
    assert warranty["reason"] == (f"in warranty until 2027-02-03 (continues the warranty of {first}, replaced on "
                                  "2025-09-01)")
    warranty = unit_dossier(session, _unit(session, second), today=date(2027, 2, 4))["warranty"]
    assert warranty["status"] == "expired"
    assert warranty["reason"] == (f"warranty expired on 2027-02-03 (continued the warranty of {first}, replaced on "
                                  "2025-09-01)")
    # The grace days count from the continued end, as for any unit.
    assert unit_dossier(session, _unit(session, second), today=date(2027, 2, 4), grace_days=1)["warranty"][
        "status"] == "in_warranty"


def test_a_restarting_product_gives_the_replacement_a_new_warranty_from_its_shipment(session, setup, desk, product):
    trace_service.set_replacement_warranty(session, product, rule="restart")
    returned, first, second = _replace_twice(session, setup, desk)
    warranty = unit_dossier(session, _unit(session, first), today=date(2025, 7, 1))["warranty"]
    assert warranty == {"status": "in_warranty", "in_warranty": True, "until": "2027-06-02", "start": "2025-06-02",
                        "reason": f"in warranty until 2027-06-02 (restarted when it replaced {returned} on "
                                  "2025-06-02, 24 months)"}
    warranty = unit_dossier(session, _unit(session, second), today=date(2027, 9, 2))["warranty"]
    assert (warranty["status"], warranty["until"]) == ("expired", "2027-09-01")
    assert warranty["reason"] == (f"warranty expired on 2027-09-01 (restarted when it replaced {first} on "
                                  "2025-09-01, 24 months)")
    # The unit replaced keeps its own warranty.
    assert unit_dossier(session, _unit(session, returned), today=TODAY)["warranty"]["until"] == "2027-02-03"


def test_the_desk_is_warned_by_the_continued_warranty(session, setup, desk):
    claim, returned, stock, _ = setup
    service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, today=TODAY)
    # Shipped on TODAY, its own 24 months would run to 2027-06-02; it continues the returned unit's to 2027-02-03.
    registered = service.register_claim(session, serial=stock[0], symptom="no_power", author=desk,
                                        today=date(2027, 3, 1))
    warning = next(w for w in registered.warnings if w["code"] == "out_of_warranty")
    assert warning["message"] == (f"out of warranty: warranty expired on 2027-02-03 (continued the warranty of "
                                  f"{returned}, replaced on 2025-06-02)")


def test_the_dossier_follows_a_chain_of_two_replacements_both_ways(session, setup, desk):
    returned, first, second = _replace_twice(session, setup, desk)

    def links(serial):
        return sorted((r["role"], r["returned_serial"], r["replacement_serial"])
                      for r in unit_dossier(session, _unit(session, serial), today=TODAY)["replacements"])

    assert links(returned) == [("returned", returned, first)]
    assert links(first) == [("replacement", returned, first), ("returned", first, second)]
    assert links(second) == [("replacement", first, second)]


def test_the_queue_lists_a_case_once_whatever_its_links(session, setup, desk):
    claim, returned, stock, _ = setup
    service.replace_unit(session, claim_id=claim.id, replacement_serial=stock[0], author=desk, on_desk=True,
                         today=TODAY)
    # A claim reopened and replaced again: a second link for the same claim and returned unit.
    session.add(Replacement(claim_id=claim.id, returned_unit_id=_unit(session, returned).id,
                            replacement_unit_id=_unit(session, stock[1]).id))
    session.flush()
    rows = [r for r in queries.test_queue(session) if r["claim_id"] == claim.id]
    assert [(r["serial"], r["replaced"]) for r in rows] == [(returned, True)]
