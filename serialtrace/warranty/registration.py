"""Independent registration: a complaint about a customer you manage is registered only after you confirm it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..errors import Conflict
from ..i18n import _l
from ..trace.models import Customer
from ..trace.service import Author, author_fields
from .models import Claim, ClaimEvent

# The flag a caller resends to confirm (the API's body field, the form's checkbox).
CONFIRM_FIELD = "confirm_own_customer"


class OwnCustomer(Conflict):
    """The registrar is the customer's account manager and has not confirmed registering the complaint."""

    code = "own_customer"


def own_customer(session: Session, *, customer_id: int | None, author: Author | None, confirmed: bool) -> bool:
    """True when `author` manages the customer and confirmed; 409 own_customer when they manage it and did not;
    False for anyone else (or no customer, or the system)."""
    if not manages(session, customer_id=customer_id, author=author):
        return False
    customer = session.get_one(Customer, customer_id)
    if not confirmed:
        raise OwnCustomer(
            _l("you are the account manager of %(customer)s: confirm that you register this complaint yourself "
               "(the confirmation is logged), or let a colleague register it", customer=customer.name),
            details={"field": CONFIRM_FIELD, "customer_id": customer.id, "customer": customer.name,
                     "resend": {CONFIRM_FIELD: True}})
    return True


def record_confirmation(session: Session, claim: Claim, *, author: Author | None) -> None:
    """Flag the new claim as registered by its customer's account manager, with a timeline row saying so."""
    claim.own_customer_confirmed = True
    session.add(ClaimEvent(claim_id=claim.id, kind="confirmation",
                           reason="registered by the customer's account manager, who confirmed it",
                           **author_fields(author)))


def check_registrar(session: Session, claim: Claim, *, author: Author | None, confirmed: bool) -> bool:
    """Before a draft is registered: the same check as a direct registration, for whoever registers it now (409
    own_customer when they manage its customer and did not confirm). True when they confirmed."""
    return own_customer(session, customer_id=claim.customer_id, author=author, confirmed=confirmed)


def record_registrar(session: Session, claim: Claim, *, author: Author | None, confirmed: bool) -> None:
    """After a draft is registered: `author` is its registrar, flagged and logged when they confirmed as the
    customer's account manager."""
    # The claim has one author column and it answers "who registered it" (the report, "registered by me"); the
    # draft's writer stays on the draft's first timeline row, the registrar is also the author of the registered row.
    claim.author_id = getattr(author, "id", None)
    # The flag speaks of the registrar: a draft the manager wrote and a colleague registered is not flagged.
    claim.own_customer_confirmed = confirmed
    if confirmed:
        record_confirmation(session, claim, author=author)


def manages(session: Session, *, customer_id: int | None, author: Author | None) -> bool:
    """True when `author` is the account manager of the customer `customer_id`: the desk warns before registering."""
    author_id = getattr(author, "id", None)
    customer = session.get(Customer, customer_id) if customer_id is not None and author_id is not None else None
    return customer is not None and customer.account_manager_id == author_id
