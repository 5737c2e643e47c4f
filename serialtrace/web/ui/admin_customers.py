"""Admin page of customers and their account managers (admins only): one form per customer, logged as admin events."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from ...accounts import queries as accounts_queries
from ...errors import DomainError, NotFound
from ...trace import queries as trace_queries
from ...trace import service as trace_service
from ...trace.models import Customer
from ..auth import requires_page
from ..database import commit, db
from ..i18n import _, lazy_gettext
from .admin import ACTION_LABELS, _form, _record, bp

ACTION_LABELS.update({"customer.manager": lazy_gettext("account manager changed")})


def _customers_page(status: int = 200, **context: Any):
    """Every customer with its account manager, and the active users one may be given."""
    users = {u.id: u for u in accounts_queries.list_users(db())}
    page = {"error": None, "error_field": None, "failed_id": None, **context}
    return render_template("admin_customers.html", customers=trace_queries.list_customers(db()), users=users,
                           active=[u for u in users.values() if u.active], **page), status


@bp.get("/customers")
@requires_page("admin.customers")
def customers():
    """Customers and their account managers: registering a complaint about one's own customer asks to confirm."""
    return _customers_page()


@bp.post("/customers/<int:customer_id>/manager")
@requires_page("admin.customers")
def customer_manager(customer_id: int):
    """Give the customer an account manager (an active user), or none."""
    customer = db().get(Customer, customer_id)
    if customer is None:
        raise NotFound(_("no customer %(id)s", id=customer_id))
    try:
        before, after = trace_service.set_account_manager(db(), customer, username=_form("account_manager") or None)
        if before != after:
            _record("customer.manager", customer.name, before=before, after=after)
        commit()
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return _customers_page(exc.status_code, error=exc.message, error_field=field, failed_id=customer_id)
    flash(_("%(customer)s: account manager %(user)s", customer=customer.name, user=after) if after else
          _("%(customer)s: no account manager", customer=customer.name), "ok")
    return redirect(url_for("admin.customers", _anchor=f"customer-{customer_id}"))
