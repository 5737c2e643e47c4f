"""Claims whose returned unit reaches the test bench, through the desk's own services: the advance-replacement path
(replaced on the spot, the unit received later) and the standard path (sent in, then inspected)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import User
from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product
from serialtrace.warranty import procedures, service
from serialtrace.warranty.models import Claim, UnitCase

TODAY = date(2025, 6, 2)
STEPS = [{"name": "Power on", "kind": "pass_fail"},
         {"name": "Supply current", "kind": "measure", "low": 10, "high": 20, "unit": "mA"}]


@dataclass
class Bench:
    """The people, the claimed unit's serials (first claimed, the rest stock) and a factory of claims."""

    people: dict[str, User]
    serials: list[str]
    product: Product
    session: object
    used: int = 0

    def claim(self, *, advance: bool = True, receive: bool = True, today: date = TODAY) -> tuple[Claim, UnitCase]:
        """A new claim on the next shipped unit: replaced on the spot (advance) or sent in (awaiting_return), its
        case received when asked."""
        s, desk, office = self.session, self.people["warehouse"], self.people["coordinator"]
        serial, stock = self.serials[self.used], self.serials[self.used + 1]
        self.used += 2
        claim = service.register_claim(s, serial=serial, symptom="no_power", author=desk, today=today).claim
        if advance:
            service.replace_unit(s, claim_id=claim.id, replacement_serial=stock, author=desk, today=today)
        else:
            for to in ("triage", "awaiting_return"):
                service.transition_claim(s, claim_id=claim.id, to=to, author=office, today=today)
        case = s.scalars(select(UnitCase).where(UnitCase.claim_id == claim.id)).one()
        if receive:
            service.receive_case(s, case_id=case.id, serial=serial, author=desk)
        s.refresh(claim)
        s.refresh(case)
        return claim, case


def make_bench(session, make_batch, *, price: str | None = "120.00", procedure: bool = True,
               claims: int = 4) -> Bench:
    """Users per role, a product (priced, with a procedure) and 2 x `claims` units, every other one shipped."""
    people = {role: accounts_service.create_user(session, username=role, role=role)
              for role in ("warehouse", "coordinator", "engineer", "quality", "supervisor", "admin")}
    people["engineer2"] = accounts_service.create_user(session, username="engineer2", role="engineer",
                                                       display_name="Second Engineer")
    batch, serials = make_batch(quantity=2 * claims)
    product = session.get(Product, batch.product_id)
    product.price = Decimal(price) if price is not None else None
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials[::2],
                                  today=TODAY)
    if procedure:
        procedures.publish_procedure(session, product_id=product.id, steps=STEPS, author=people["quality"])
    session.flush()
    return Bench(people, serials, product, session)


def good_steps(current: float = 15) -> list[dict]:
    """Results of every step of STEPS."""
    return [{"name": "Power on", "passed": True}, {"name": "Supply current", "value": current}]
