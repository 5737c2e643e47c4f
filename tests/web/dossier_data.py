"""Data for dossier and recall tests: a unit shipped, claimed, returned, tested and replaced; a shipped batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from serialtrace.trace import service
from serialtrace.trace.models import Unit
from serialtrace.warranty.models import Claim, Replacement, TestRecord

CUSTOMER = {"name": "МУП «Горсети»", "tax_id": "5401234567", "contact_name": "Иванов Пётр Сергеевич",
            "phone": "+7 383 222-33-44", "email": "ops@gorseti.example",
            "address": "630099, Новосибирск, ул. Ленина, 1"}
CLAIM_NUMBER = "CL-2025-0042"
DESCRIPTION = "Не включается после грозы; индикатор не горит"
TEST_NOTES = "Трещина пайки на U3, замена платы"
# Moments stored in UTC; in Europe/Moscow (UTC+3) they read three hours later.
OPENED_AT = datetime(2025, 6, 2, 7, 15, tzinfo=UTC)
TESTED_AT = datetime(2025, 6, 5, 9, 30, tzinfo=UTC)
CLOSED_AT = datetime(2025, 6, 20, 14, 5, tzinfo=UTC)
REPLACED_AT = datetime(2025, 6, 3, 6, 0, tzinfo=UTC)
REFERENCE = "РТУ-000123"


@dataclass(frozen=True)
class History:
    """What was made: the claimed unit, the unit handed out in its place, the shipment of the first."""

    serial: str
    replacement: str
    shipment_id: int
    claim_id: int


def _unit_id(session: Session, serial: str) -> int:
    return session.scalars(select(Unit.id).where(Unit.serial == serial)).one()


def make_history(session: Session, serials: list[str], *, engineer_id: int | None = None) -> History:
    """Ship serials[0] and serials[1] to the customer, open a claim on serials[0], take it back and test it, and
    hand out serials[2] in its place. Flushes; the caller commits."""
    customer = service.get_or_create_customer(session, **CUSTOMER)
    shipment = service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14),
                                       serials=serials[:2], reference=REFERENCE, carrier="Деловые линии",
                                       destination="Новосибирск")
    unit_id, handed_id = _unit_id(session, serials[0]), _unit_id(session, serials[2])
    claim = Claim(number=CLAIM_NUMBER, unit_id=unit_id, customer_id=customer.id, state="in_inspection",
                  symptom="no_power", description=DESCRIPTION, priority="P2", opened_at=OPENED_AT,
                  closed_at=CLOSED_AT)
    session.add(claim)
    session.flush()
    # The events are written now, after the shipment's, as the desk would write them.
    service.set_unit_status(session, units=[unit_id], to="returned", kind="returned", payload={"claim": CLAIM_NUMBER})
    service.set_unit_status(session, units=[unit_id], to="in_test", payload={"claim": CLAIM_NUMBER})
    session.add(TestRecord(unit_id=unit_id, claim_id=claim.id, verdict="confirmed_defect",
                           failure_mode="solder_joint_crack", root_cause="component_supplier", notes=TEST_NOTES,
                           tested_at=TESTED_AT, engineer_id=engineer_id))
    swap = service.create_shipment(session, customer=customer, shipped_on=date(2025, 6, 3), serials=serials[2:3],
                                   reference="ЗАМ-000007")
    session.add(Replacement(claim_id=claim.id, returned_unit_id=unit_id, replacement_unit_id=handed_id,
                            shipment_id=swap.id, created_at=REPLACED_AT))
    service.record_unit_events(session, kind="replaced", units=[unit_id],
                               payload={"claim": CLAIM_NUMBER, "replacement_unit_id": handed_id})
    session.flush()
    return History(serial=serials[0], replacement=serials[2], shipment_id=shipment.id, claim_id=claim.id)


RECALL_GORSETI = {"name": "МУП «Горсети»", "tax_id": "5401234567", "contact_name": "Иванов П. С.",
                  "phone": "+7 383 222-33-44", "email": "ops@gorseti.example", "address": "Новосибирск, ул. Ленина, 1"}
RECALL_SMIRNOV = {"name": "ИП Смирнов А.В.", "tax_id": "500100732259", "phone": "84951234567"}


def ship_for_recall(session: Session, serials: list[str]) -> None:
    """Ship serials[0:2] to Горсети and serials[2] to Смирнов, then take serials[1] back; serials[3] stays home.
    Flushes; the caller commits."""
    gorseti = service.get_or_create_customer(session, **RECALL_GORSETI)
    smirnov = service.get_or_create_customer(session, **RECALL_SMIRNOV)
    service.create_shipment(session, customer=gorseti, shipped_on=date(2025, 3, 14), serials=serials[:2],
                            reference="РТУ-1")
    service.create_shipment(session, customer=smirnov, shipped_on=date(2025, 3, 20), serials=serials[2:3],
                            reference="РТУ-2")
    service.set_unit_status(session, units=[_unit_id(session, serials[1])], to="returned", kind="returned")
    session.flush()
