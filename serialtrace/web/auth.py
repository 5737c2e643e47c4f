"""Who is asking (session cookie for pages, bearer tokens for the API) and server-side role checks."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import current_app, g, redirect, request, session, url_for

from ..accounts import policy as accounts_policy
from ..accounts import queries as accounts_queries
from ..accounts import security_log
from ..accounts.enums import Role
from ..accounts.models import User
from ..db import transaction
from ..errors import Contention, PermissionDenied, Unauthorized
from .database import db
from .i18n import _

# The session cookie's copy of the user's session version; a cookie whose copy is old is ignored and cleared.
SESSION_VERSION = "session_version"

R = Role
# Any logged-in user.
ANYONE: tuple[str, ...] = ()
# Who may open each page people navigate to (admins always may). The page's @requires_page check on the server and
# its link in the navigation both read this one entry, so a role is shown a link exactly when the page would open.
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "pages.station": ANYONE,
    "pages.units": ANYONE,
    "pages.batches": ANYONE,
    "pages.scans": (R.WAREHOUSE, R.COORDINATOR, R.SUPERVISOR, R.QUALITY),
    "pages.import_page": (R.PRODUCTION, R.WAREHOUSE),
    "labels.page": (R.PRODUCTION, R.WAREHOUSE),
    "pages.claims": (R.WAREHOUSE, R.COORDINATOR, R.ENGINEER, R.QUALITY, R.SUPERVISOR),
    "pages.claim": (R.WAREHOUSE, R.COORDINATOR, R.ENGINEER, R.QUALITY, R.SUPERVISOR),
    # The knowledge base: everyone who reads claims.
    "pages.knowledge_list": (R.WAREHOUSE, R.COORDINATOR, R.ENGINEER, R.QUALITY, R.SUPERVISOR),
    # The desk's complaint and replacement flow: the roles that register claims and hand out replacements.
    "pages.station_complaint": (R.WAREHOUSE, R.COORDINATOR, R.SUPERVISOR),
    "pages.station_claim": (R.WAREHOUSE, R.COORDINATOR, R.SUPERVISOR),
    "pages.test_queue": (R.ENGINEER, R.QUALITY, R.SUPERVISOR),
    "pages.case": (R.ENGINEER, R.QUALITY, R.SUPERVISOR, R.COORDINATOR),
    # Quality keeps the failure-code lists; engineers and coordinators read them.
    "pages.codes": (R.QUALITY, R.ENGINEER, R.COORDINATOR),
    # Everyone with stage work reads their worklist (the claim readers: warehouse receives returns, coordinators
    # triage and decide, engineers inspect, quality verifies); a team's board checks its members and supervisors.
    "pages.worklist": (R.WAREHOUSE, R.COORDINATOR, R.ENGINEER, R.QUALITY, R.SUPERVISOR),
    "pages.procedure": (R.QUALITY,),
    # The daily control of registration: who registered what, own-customer confirmations, stale drafts.
    "pages.registration_report": (R.SUPERVISOR, R.QUALITY),
    # Claim rates per batch and component lot: quality finds the outliers, supervisors watch them.
    "pages.quality_batches": (R.QUALITY, R.SUPERVISOR),
    # Root causes (claim rate by attribute) and customers ABC / XYZ: read like the claim rates.
    "pages.quality_compare": (R.QUALITY, R.SUPERVISOR),
    "pages.quality_customers": (R.QUALITY, R.SUPERVISOR),
    # 8D / CAPA records: quality and supervisors run them (EIGHTD_MANAGERS); engineers and coordinators read them.
    "pages.quality_eightds": (R.QUALITY, R.SUPERVISOR, R.ENGINEER, R.COORDINATOR),
    "pages.quality_eightd": (R.QUALITY, R.SUPERVISOR, R.ENGINEER, R.COORDINATOR),
    # Recall campaigns: quality and supervisors run them (RECALL_MANAGERS); coordinators read them, as they read
    # the recall lists.
    "pages.quality_recalls": (R.COORDINATOR, R.QUALITY, R.SUPERVISOR),
    "pages.quality_recall": (R.COORDINATOR, R.QUALITY, R.SUPERVISOR),
    # Failures over time in the field (Nevada, Weibull, forecast): read like the claim rates.
    "pages.quality_field": (R.QUALITY, R.SUPERVISOR),
    # SLA compliance (first response, resolution, share breached): quality measures it, supervisors answer for it.
    "pages.quality_sla": (R.QUALITY, R.SUPERVISOR),
    "admin.index": (R.ADMIN,),
    "admin.users": (R.ADMIN,),
    "admin.tokens": (R.ADMIN,),
    "admin.stations": (R.ADMIN,),
    "admin.products": (R.ADMIN,),
    "admin.customers": (R.ADMIN,),
    "admin.settings": (R.ADMIN,),
    "admin.calendars": (R.ADMIN,),
    "admin.teams": (R.ADMIN,),
    "admin.routing": (R.ADMIN,),
    "admin.security_events": (R.ADMIN,),
}
# Who reads a claim's data over the API (the claim, its cases, test records, dispositions and files): the claim
# page's readers, so no role reads over the API what its pages refuse it.
CLAIM_READERS: tuple[str, ...] = PAGE_ROLES["pages.claim"]
# Who opens, edits, links and closes 8Ds (pages and API); the other readers of pages.quality_eightds only read.
EIGHTD_MANAGERS: tuple[str, ...] = (R.QUALITY, R.SUPERVISOR)


def load_user() -> None:
    """Put the current user (or None) on g from a bearer token or the session cookie."""
    g.user = None
    g.via_token = False
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        user = accounts_queries.user_for_token(db(), token, address=request.remote_addr or "")
        if user is None:
            _log_rejected_token(token)
            raise Unauthorized(_("invalid or revoked API token"))
        g.user, g.via_token = user, True
        return
    user_id = session.get("user_id")
    if user_id is not None:
        user = db().get(User, user_id)
        if accounts_policy.is_session_current(user, session.get(SESSION_VERSION)):
            g.user = user
        else:
            # Ended by a logout, a password change or a deactivation (here or on another device): drop the cookie.
            session.clear()


def _log_rejected_token(token: str) -> None:
    """Put a refused token in the security log, in a transaction of its own: the refusal rolls the request back."""
    # The lookup only read; a SQLite writer session would otherwise hold the write lock the log entry needs.
    db().rollback()
    try:
        with transaction(current_app.extensions["serialtrace"].sessions) as s:
            security_log.record_token_rejected(s, address=request.remote_addr or "", prefix=token)
    except Contention:
        # A busy log is no reason to answer anything but the 401 the token earned.
        current_app.logger.warning("security log busy: a refused API token from %s was not logged",
                                   request.remote_addr)


def current_user() -> User | None:
    """The logged-in user or token owner."""
    return g.get("user")


def requires(*roles: str) -> Callable:
    """Allow the view to users holding one of `roles` (admins always); no roles means any logged-in user."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    raise Unauthorized(_("log in or send an API token (Authorization: Bearer ...)"))
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and not user.has_role(*roles):
                raise PermissionDenied(_("your role %(role)s may not do this; it needs %(roles)s",
                                         role=user.role, roles=" or ".join(roles)))
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the test that checks every view is guarded
        return wrapped

    return decorator


def requires_page(endpoint: str) -> Callable:
    """@requires with the roles PAGE_ROLES gives `endpoint`, so the page and its navigation link always agree."""
    return requires(*PAGE_ROLES[endpoint])


def may_open(user: User | None, endpoint: str) -> bool:
    """True when `user` would get the page `endpoint` (listed in PAGE_ROLES) rather than a 403 or the login."""
    roles = PAGE_ROLES[endpoint]
    return user is not None and user.active and (not roles or user.has_role(*roles))
