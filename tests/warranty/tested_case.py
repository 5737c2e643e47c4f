"""A claim whose returned unit has been tested, built directly on the tables (the bench's own service is tested
elsewhere): for the disposition, comment, attachment and timeline tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import User
from serialtrace.trace import service as trace_service
from serialtrace.trace.enums import EventKind, UnitStatus
from serialtrace.trace.models import Customer, Product, Unit
from serialtrace.warranty import service
from serialtrace.warranty.models import Claim, UnitCase

TODAY = date(2025, 6, 2)


@dataclass
class Tested:
    """A claim with one tested case, the serials of its batch (the first is the claimed unit) and its customer."""

    claim: Claim
    case: UnitCase
    serials: list[str]
    customer: Customer


def people(session) -> dict[str, User]:
    """One user per role the warranty actions involve, named after the role."""
    return {role: accounts_service.create_user(session, username=role, role=role)
            for role in ("warehouse", "coordinator", "engineer", "quality", "supervisor", "production", "admin")}


def make_tested(session, make_batch, desk: User, *, price: str | None = "120.00", unit_status: str = "in_test",
                quantity: int = 3) -> Tested:
    """A shipped unit claimed, received and tested (verdict confirmed_defect), its unit `unit_status`."""
    batch, serials = make_batch(quantity=quantity)
    product = session.get(Product, batch.product_id)
    product.price = Decimal(price) if price is not None else None
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[:1],
                                  today=TODAY)
    claim = service.register_claim(session, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
    case = session.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
    service.receive_case(session, case_id=case.id, serial=serials[0], author=desk)
    unit = session.scalars(select(Unit).where(Unit.serial == serials[0])).one()
    if unit_status == UnitStatus.IN_TEST:
        trace_service.set_unit_status(session, units=[unit.id], to=UnitStatus.IN_TEST, kind=EventKind.STATUS)
    case.state, case.verdict = "tested", "confirmed_defect"
    session.flush()
    return Tested(claim, case, serials, customer)
