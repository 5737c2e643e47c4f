"""Reads of recall campaigns: the list with progress, one campaign per customer, its units, a unit's campaigns.

A recalled unit counts as returned when, after its campaign started, it was taken back (a `returned` unit event,
which both the receiving scan and a hand-over at the desk write) or its unit case was received; read when asked,
so every way of taking a unit back counts and nothing has to remember to mark it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..trace.enums import EventKind
from ..trace.models import Batch, Customer, Product, Unit, UnitEvent
from ..warranty.models import UnitCase
from .models import RecallCampaign, RecallCustomer, RecallNote, RecallUnit
from .recalls import OPEN, STEPS

CUSTOMER_COLUMNS = ("customer_id", "customer", "tax_id", "contact_name", "email", "phone", "address", "status",
                    "units", "returned", "updated_at", "updated_by")
UNIT_COLUMNS = ("serial", "product_sku", "batch", "customer", "unit_status", "returned", "returned_at")


def returned_at(session: Session, campaign: RecallCampaign) -> dict[int, datetime]:
    """Unit id -> when it came back under the campaign, for its units back since the campaign started."""
    since = campaign.created_at
    mine = select(RecallUnit.unit_id).where(RecallUnit.campaign_id == campaign.id)
    events = session.execute(
        select(UnitEvent.unit_id, func.min(UnitEvent.at))
        .where(UnitEvent.unit_id.in_(mine), UnitEvent.kind == EventKind.RETURNED.value, UnitEvent.at >= since)
        .group_by(UnitEvent.unit_id)).all()
    cases = session.execute(
        select(UnitCase.unit_id, func.min(UnitCase.received_at))
        .where(UnitCase.unit_id.in_(mine), UnitCase.received_at.is_not(None), UnitCase.received_at >= since)
        .group_by(UnitCase.unit_id)).all()
    out: dict[int, datetime] = {}
    for unit_id, at in (*events, *cases):
        out[unit_id] = min(at, out[unit_id]) if unit_id in out else at
    return out


def _progress(statuses: Counter, affected: int, returned: int) -> dict[str, Any]:
    return {"customers": {str(s): statuses.get(str(s), 0) for s in STEPS}, "customers_total": sum(statuses.values()),
            "units_affected": affected, "units_returned": returned,
            "share_returned": returned / affected if affected else 0.0}


def progress(session: Session, campaign: RecallCampaign) -> dict[str, Any]:
    """Customers by status, units returned and affected."""
    statuses = Counter(dict(session.execute(
        select(RecallCustomer.status, func.count()).where(RecallCustomer.campaign_id == campaign.id)
        .group_by(RecallCustomer.status)).all()))
    affected = session.scalar(select(func.count()).select_from(RecallUnit)
                              .where(RecallUnit.campaign_id == campaign.id)) or 0
    return _progress(statuses, affected, len(returned_at(session, campaign)))


def campaign_dict(session: Session, campaign: RecallCampaign) -> dict[str, Any]:
    """A campaign's facts and progress (the list's row)."""
    scope = dict(campaign.scope or {})
    return {"number": campaign.number, "title": campaign.title, "reason": campaign.reason,
            "scope_kind": campaign.scope_kind, "scope": {k: v for k, v in scope.items()
                                                         if k not in ("closed_reason", "closed_by", "batch_ids")},
            "batches": scope.get("batches", []), "state": campaign.state, "created_at": campaign.created_at,
            "created_by": campaign.created_by, "closed_at": campaign.closed_at,
            "closed_reason": scope.get("closed_reason", ""), "closed_by": scope.get("closed_by", ""),
            "progress": progress(session, campaign)}


def list_campaigns(session: Session, *, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Campaigns, open ones first, newest first, with their progress."""
    stmt = select(RecallCampaign).order_by((RecallCampaign.state == OPEN).desc(), RecallCampaign.id.desc())
    if state:
        stmt = stmt.where(RecallCampaign.state == state)
    return [campaign_dict(session, c) for c in session.scalars(stmt.limit(limit))]


def customer_rows(session: Session, campaign: RecallCampaign) -> list[dict[str, Any]]:
    """One row per customer: contacts, status, units affected and returned, by customer name."""
    back = returned_at(session, campaign)
    units: dict[int, list[int]] = {}
    for unit_id, customer_id in session.execute(select(RecallUnit.unit_id, RecallUnit.customer_id)
                                                .where(RecallUnit.campaign_id == campaign.id)):
        units.setdefault(customer_id, []).append(unit_id)
    rows = session.execute(
        select(RecallCustomer, Customer).join(Customer, Customer.id == RecallCustomer.customer_id)
        .where(RecallCustomer.campaign_id == campaign.id).order_by(Customer.name, Customer.id)).all()
    return [{"id": rc.id, "customer_id": c.id, "customer": c.name, "tax_id": c.tax_id, "contact_name": c.contact_name,
             "email": c.email, "phone": c.phone, "address": c.address, "status": rc.status,
             "units": len(units.get(c.id, ())), "returned": sum(1 for u in units.get(c.id, ()) if u in back),
             "updated_at": rc.updated_at, "updated_by": rc.updated_by} for rc, c in rows]


def notes(session: Session, campaign: RecallCampaign) -> dict[int, list[dict[str, Any]]]:
    """Customer id -> its notes and status changes, oldest first."""
    out: dict[int, list[dict[str, Any]]] = {}
    for note, customer_id in session.execute(
            select(RecallNote, RecallCustomer.customer_id)
            .join(RecallCustomer, RecallCustomer.id == RecallNote.recall_customer_id)
            .where(RecallCustomer.campaign_id == campaign.id).order_by(RecallNote.created_at, RecallNote.id)):
        out.setdefault(customer_id, []).append(
            {"id": note.id, "author": note.author, "text": note.text, "status_from": note.status_from or None,
             "status_to": note.status_to or None, "created_at": note.created_at})
    return out


def unit_rows(session: Session, campaign: RecallCampaign) -> list[dict[str, Any]]:
    """One row per recalled unit: serial, product, batch, customer, status now, and when it came back."""
    back = returned_at(session, campaign)
    rows = session.execute(
        select(Unit.id, Unit.serial, Unit.status, Product.sku, Batch.number, Customer.name)
        .select_from(RecallUnit).join(Unit, Unit.id == RecallUnit.unit_id)
        .join(Batch, Batch.id == Unit.batch_id).join(Product, Product.id == Batch.product_id)
        .outerjoin(Customer, Customer.id == RecallUnit.customer_id)
        .where(RecallUnit.campaign_id == campaign.id).order_by(Customer.name, Batch.number, Unit.serial)).all()
    return [{"serial": r.serial, "product_sku": r.sku, "batch": r.number, "customer": r.name,
             "unit_status": r.status, "returned": r.id in back, "returned_at": back.get(r.id)} for r in rows]


def unit_campaigns(session: Session, unit_id: int) -> list[dict[str, Any]]:
    """The open campaigns recalling this unit: number, title, reason, and whether it is back under each."""
    campaigns = list(session.scalars(
        select(RecallCampaign).join(RecallUnit, RecallUnit.campaign_id == RecallCampaign.id)
        .where(RecallUnit.unit_id == unit_id, RecallCampaign.state == OPEN).order_by(RecallCampaign.id)))
    return [{"number": c.number, "title": c.title, "reason": c.reason, "created_at": c.created_at,
             "returned": unit_id in returned_at(session, c)} for c in campaigns]
