"""The admin area (/admin, admins only): users, API tokens, stations, products and the effective settings.

Every action is one transaction holding the change and its admin_event row (who, what, on what); a refused action
shows its form again with the reason next to the field it names, and changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ...accounts import policy as accounts_policy
from ...accounts import queries as accounts_queries
from ...accounts import service as accounts_service
from ...accounts.enums import ROLES
from ...accounts.models import User
from ...accounts.policy import MIN_LENGTH
from ...config import ENV_ALIASES, Settings
from ...errors import DomainError, NotFound, ValidationError
from ...station import queries as station_queries
from ...station import service as station_service
from ...station.models import ScannerStation
from ...trace import queries as trace_queries
from ...trace import service as trace_service
from ...trace.enums import WarrantyStart
from ...trace.models import Product
from ..auth import SESSION_VERSION, current_user, requires_page
from ..database import commit, db
from ..i18n import _, label, lazy_gettext, tr
from .common import settings, user_text

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Settings whose value is a secret (by the words in their names, so a new one is masked too): the page says
# whether it is set, never what it is.
SECRET_WORDS = ("key", "secret", "password", "token")
# Settings holding a URL whose password part is hidden.
URL_SETTINGS = frozenset({"database_url"})
# Latest admin actions on the admin start page.
RECENT_EVENTS = 30
# What each recorded admin action is called on the start page.
ACTION_LABELS = {
    "user.add": lazy_gettext("user added"),
    "user.role": lazy_gettext("role changed"),
    "user.password": lazy_gettext("password reset"),
    "user.deactivate": lazy_gettext("user deactivated"),
    "user.reactivate": lazy_gettext("user reactivated"),
    "user.unlock": lazy_gettext("sign-in unlocked"),
    "token.create": lazy_gettext("API token created"),
    "token.revoke": lazy_gettext("API token revoked"),
    "station.delete": lazy_gettext("station profile deleted"),
    "product.add": lazy_gettext("product added"),
    "product.edit": lazy_gettext("product changed"),
    "product.substitute_add": lazy_gettext("substitute added"),
    "product.substitute_remove": lazy_gettext("substitute removed"),
}


def _form(name: str) -> str:
    """A form field as text the database can store (NUL refused, naming the field), trimmed."""
    return user_text(request.form.get(name, ""), name).strip()


def _refused(exc: DomainError, template: str, **context: Any):
    """The page again with the reason and the field it names; the transaction is rolled back first."""
    db().rollback()
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    return render_template(template, error=exc.message, error_field=field, **context), exc.status_code


def _by() -> dict[str, Any]:
    """Who acts and from where, for the security log of the accounts services."""
    return {"actor": current_user(), "address": request.remote_addr or ""}


def _record(action: str, subject: str, **details: Any) -> None:
    accounts_service.record_admin_event(db(), author=current_user(), action=action, subject=subject, details=details)


@bp.get("")
@requires_page("admin.index")
def index():
    """The admin start page: the sections and the latest admin actions."""
    return render_template("admin_index.html", events=accounts_queries.list_admin_events(db(), limit=RECENT_EVENTS),
                           action_labels=ACTION_LABELS)


# Users ---------------------------------------------------------------------------------------------------------------

def _users_page(**context: Any) -> str:
    defaults = {"error": None, "error_field": None, "new": {"role": "warehouse"}}
    return render_template("admin_users.html", users=accounts_queries.list_users(db()),
                           locked=accounts_queries.locked_user_names(db()), roles=ROLES, min_length=MIN_LENGTH,
                           **{**defaults, **context})


@bp.get("/users")
@requires_page("admin.users")
def users():
    """Every user with role, state and lockout; the form to add one."""
    return _users_page()


def _new_password(field: str = "password") -> str:
    """The password typed twice; the rule itself is the accounts service's."""
    password = request.form.get(field, "")
    if password != request.form.get(f"{field}_confirm", ""):
        raise ValidationError(_("the password and its confirmation differ"), details={"field": f"{field}_confirm"})
    return password


@bp.post("/users")
@requires_page("admin.users")
def user_add():
    """Add a user with a role and a password that passes the rule."""
    new = {"username": _form("username"), "display_name": _form("display_name"), "email": _form("email"),
           "role": _form("role")}
    try:
        password = _new_password()
        _about("role", accounts_policy.ensure_role, new["role"])
        _about("password", accounts_policy.ensure_password, password, username=new["username"])
        user = _about("username", accounts_service.create_user, db(), username=new["username"], role=new["role"],
                      password=password, display_name=new["display_name"], email=new["email"], **_by())
        _record("user.add", user.username, role=user.role)
        commit()
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return _users_page(error=exc.message, error_field=field, new=new), exc.status_code
    flash(_("user %(name)s added with role %(role)s", name=user.username, role=_role_label(user.role)), "ok")
    return redirect(url_for("admin.user", user_id=user.id))


def _role_label(role: str) -> str:
    return str(label(role, "role"))


def _about(field: str, check, *args: Any, **kwargs: Any) -> Any:
    """`check(*args, **kwargs)`; a refusal naming no field is made to name `field`, for the form."""
    try:
        return check(*args, **kwargs)
    except DomainError as exc:
        if exc.details is None:
            exc.details = {"field": field}
        raise


def _user_page(user: User, status: int = 200, **context: Any):
    tokens = [t for t, owner in accounts_queries.list_tokens(db()) if owner.id == user.id]
    locked = accounts_queries.locked_user_names(db()).get(user.username)
    page = {"error": None, "error_field": None}
    page.update(context)
    return render_template("admin_user.html", user=user, roles=ROLES, tokens=tokens, locked=locked,
                           min_length=MIN_LENGTH, **page), status


def _user(user_id: int) -> User:
    return accounts_queries.get_user_by_id(db(), user_id)


@bp.get("/users/<int:user_id>")
@requires_page("admin.users")
def user(user_id: int):
    """One user: change the role, reset the password, deactivate or reactivate, unlock the sign-in."""
    return _user_page(_user(user_id))


def _user_action(user_id: int, action):
    """Run `action(user)` (which records its admin event) and commit; on refusal, the user's page with the reason."""
    user = _user(user_id)
    try:
        message = action(user)
        commit()
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return _user_page(_user(user_id), exc.status_code, error=exc.message, error_field=field)
    me = current_user()
    if me is not None and me.id == user.id:
        # The admin acted on their own account: this browser stays logged in with the new session version.
        session[SESSION_VERSION] = user.session_version
        if not me.has_role("admin"):
            flash(message, "ok")
            return redirect(url_for("pages.station"))
    flash(message, "ok")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/role")
@requires_page("admin.users")
def user_role(user_id: int):
    """Give the user another role; their sessions end so the new rights apply at once."""
    def change(user: User) -> str:
        role, before = _form("role"), user.role
        _about("role", accounts_service.change_role, db(), user, role=role, **_by())
        _record("user.role", user.username, before=before, after=role)
        return _("%(name)s now has the role %(role)s", name=user.username, role=_role_label(role))

    return _user_action(user_id, change)


@bp.post("/users/<int:user_id>/password")
@requires_page("admin.users")
def user_password(user_id: int):
    """Set a new password for the user; every session of theirs ends (their API tokens stay valid)."""
    def reset(user: User) -> str:
        _about("password", accounts_service.set_password, db(), user, password=_new_password(), **_by())
        _record("user.password", user.username)
        return _("password of %(name)s reset; their sessions have ended", name=user.username)

    return _user_action(user_id, reset)


@bp.post("/users/<int:user_id>/deactivate")
@requires_page("admin.users")
def user_deactivate(user_id: int):
    """Stop the user from logging in and from using their API tokens."""
    def deactivate(user: User) -> str:
        if user.id == current_user().id:
            raise ValidationError(_("you cannot deactivate yourself; ask another admin"), details={"field": "user"})
        if not user.active:
            raise ValidationError(_("user %(name)s is already inactive", name=user.username),
                                  details={"field": "user"})
        accounts_service.deactivate_user(db(), user.username, **_by())
        _record("user.deactivate", user.username)
        return _("user %(name)s deactivated; log-ins and API tokens are refused", name=user.username)

    return _user_action(user_id, deactivate)


@bp.post("/users/<int:user_id>/reactivate")
@requires_page("admin.users")
def user_reactivate(user_id: int):
    """Let a deactivated user log in again."""
    def reactivate(user: User) -> str:
        accounts_service.reactivate_user(db(), user, **_by())
        _record("user.reactivate", user.username)
        return _("user %(name)s can log in again", name=user.username)

    return _user_action(user_id, reactivate)


@bp.post("/users/<int:user_id>/unlock")
@requires_page("admin.users")
def user_unlock(user_id: int):
    """Forget the failed log-ins counted against the user name, ending its lockout."""
    def unlock(user: User) -> str:
        count = accounts_service.clear_failures(db(), user.username, **_by())
        _record("user.unlock", user.username, failures=count)
        return _("sign-in of %(name)s unlocked (%(n)s failed log-ins forgotten)", name=user.username, n=count)

    return _user_action(user_id, unlock)


# API tokens ----------------------------------------------------------------------------------------------------------

def _tokens_page(status: int = 200, **context: Any):
    page = {"error": None, "error_field": None, "secret": None, "new": {}}
    page.update(context)
    return render_template("admin_tokens.html", tokens=accounts_queries.list_tokens(db()),
                           users=[u for u in accounts_queries.list_users(db()) if u.active], **page), status


@bp.get("/tokens")
@requires_page("admin.tokens")
def tokens():
    """Every API token (never its secret) and the form to create one."""
    return _tokens_page()


@bp.post("/tokens")
@requires_page("admin.tokens")
def token_create():
    """Create a token for a user; its secret is shown on this answer only (only its hash is stored)."""
    new = {"name": _form("name"), "user": _form("user")}
    try:
        if not new["name"] or len(new["name"]) > 100:
            raise ValidationError(_("a token name is required (at most 100 characters)"), details={"field": "name"})
        owner = accounts_queries.find_user(db(), new["user"])
        if owner is None or not owner.active:
            raise ValidationError(_("choose an active user for the token"), details={"field": "user"})
        secret = accounts_service.create_token(db(), name=new["name"], user=owner, **_by())
        _record("token.create", new["name"], user=owner.username, prefix=secret[:10])
        commit()
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return _tokens_page(exc.status_code, error=exc.message, error_field=field, new=new)
    return _tokens_page(201, secret=secret, new={"name": new["name"], "user": owner.username})


@bp.post("/tokens/<int:token_id>/revoke")
@requires_page("admin.tokens")
def token_revoke(token_id: int):
    """Revoke one token; calls with it get 401 from now on."""
    try:
        token = accounts_service.revoke_token(db(), token_id, **_by())
        _record("token.revoke", token.name, prefix=token.prefix)
        commit()
    except DomainError as exc:
        db().rollback()
        return _tokens_page(exc.status_code, error=exc.message, error_field="token")
    flash(_("API token %(name)s (%(prefix)s…) revoked", name=token.name, prefix=token.prefix), "ok")
    return redirect(url_for("admin.tokens"))


# Stations ------------------------------------------------------------------------------------------------------------

@bp.get("/stations")
@requires_page("admin.stations")
def stations():
    """Every calibrated station with its scanner profile."""
    return render_template("admin_stations.html", stations=_stations_with_authors())


def _stations_with_authors() -> list[tuple[ScannerStation, str]]:
    names = {u.id: u.username for u in accounts_queries.list_users(db())}
    return [(s, names.get(s.updated_by_id, "")) for s in station_queries.list_stations(db())]


@bp.post("/stations/<int:station_id>/delete")
@requires_page("admin.stations")
def station_delete(station_id: int):
    """Forget a station's scanner profile; it reads scans as an uncalibrated station until calibrated again."""
    try:
        station = station_service.delete_station_profile(db(), station_id)
        _record("station.delete", station.name, profile=dict(station.profile))
        commit()
    except DomainError as exc:
        db().rollback()
        return render_template("admin_stations.html", stations=_stations_with_authors(),
                               error=exc.message), exc.status_code
    flash(_("the scanner profile of station %(name)s was deleted; calibrate the station again",
            name=station.name), "ok")
    return redirect(url_for("admin.stations"))


# Products ------------------------------------------------------------------------------------------------------------

def _months(value: str) -> int:
    """Warranty months from the form: a whole number (the range is the trace service's rule)."""
    if not value.isascii() or not value.isdigit():
        raise ValidationError(_("warranty months must be a whole number between 0 and 240"),
                              details={"field": "warranty_months"})
    return int(value)


def _shelf_life(value: str) -> int | None:
    """Shelf life months from the form: empty for none, else a whole number (the range is the trace service's rule)."""
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise ValidationError(_("shelf life must be a whole number of months, or empty for none"),
                              details={"field": "shelf_life_months"})
    return int(value)


def _products_page(status: int = 200, **context: Any):
    page = {"error": None, "error_field": None, "new": {"warranty_months": "24", "warranty_start": "shipment"}}
    page.update(context)
    return render_template("admin_products.html", products=trace_queries.list_products(db()),
                           starts=[w.value for w in WarrantyStart], **page), status


@bp.get("/products")
@requires_page("admin.products")
def products():
    """Every product and the form to add one (the same rules as `serialtrace products add`)."""
    return _products_page()


@bp.post("/products")
@requires_page("admin.products")
def product_add():
    """Register a product."""
    new = {key: _form(key) for key in ("sku", "name", "gtin", "warranty_months", "family", "warranty_start",
                                       "shelf_life_months")}
    try:
        product = trace_service.add_product(db(), sku=new["sku"], name=new["name"], gtin=new["gtin"] or None,
                                            warranty_months=_months(new["warranty_months"]), family=new["family"],
                                            warranty_start=new["warranty_start"] or "shipment")
        trace_service.set_product_shelf_life(db(), product, months=_shelf_life(new["shelf_life_months"]))
        _record("product.add", product.sku, name=product.name, gtin=product.gtin,
                warranty_months=product.warranty_months, family=product.family,
                shelf_life_months=product.shelf_life_months)
        commit()
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return _products_page(exc.status_code, error=exc.message, error_field=field, new=new)
    flash(_("product %(sku)s added", sku=product.sku), "ok")
    return redirect(url_for("admin.products"))


def _product(product_id: int) -> Product:
    product = db().get(Product, product_id)
    if product is None:
        raise NotFound(_("no product %(id)s", id=product_id))
    return product


@bp.get("/products/<int:product_id>")
@requires_page("admin.products")
def product(product_id: int):
    """The edit form of one product."""
    p = _product(product_id)
    values = {"name": p.name, "gtin": p.gtin or "", "warranty_months": str(p.warranty_months), "family": p.family,
              "shelf_life_months": "" if p.shelf_life_months is None else str(p.shelf_life_months),
              "replacement_warranty": p.replacement_warranty}
    return _product_page(p, values)


def _product_page(p: Product, values: dict[str, str], status: int = 200, **error: Any):
    """The product's edit form with its substitutes; `error` and `error_field` when refused."""
    return render_template("admin_product.html", product=p, values=values, error=error.get("error"),
                           error_field=error.get("error_field"),
                           substitutes=trace_queries.list_substitutes(db(), p)), status


@bp.post("/products/<int:product_id>")
@requires_page("admin.products")
def product_edit(product_id: int):
    """Change a product's name, warranty months, family, GTIN and shelf life."""
    p = _product(product_id)
    values = {key: _form(key) for key in ("name", "gtin", "warranty_months", "family", "shelf_life_months",
                                          "replacement_warranty")}
    try:
        changed = trace_service.update_product(db(), p, name=values["name"], gtin=values["gtin"] or None,
                                               warranty_months=_months(values["warranty_months"]),
                                               family=values["family"])
        before, after = trace_service.set_product_shelf_life(db(), p, months=_shelf_life(values["shelf_life_months"]))
        if before != after:
            changed["shelf_life_months"] = (before, after)
        # A form without the field (an older page) keeps the rule as it is.
        rule = values["replacement_warranty"] or p.replacement_warranty
        before, after = trace_service.set_replacement_warranty(db(), p, rule=rule)
        if before != after:
            changed["replacement_warranty"] = (before, after)
        if changed:
            _record("product.edit", p.sku, **{k: [before, after] for k, (before, after) in changed.items()})
        commit()
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return _product_page(_product(product_id), values, exc.status_code, error=exc.message, error_field=field)
    flash(_("product %(sku)s saved", sku=p.sku) if changed else _("nothing to change"), "ok")
    return redirect(url_for("admin.products"))


def _substitutes_changed(product_id: int, change: Callable[[], str]):
    """Run `change` (it returns the message to show) and commit; a refusal is shown instead and changes nothing."""
    try:
        message = change()
        commit()
    except DomainError as exc:
        db().rollback()
        flash(tr(exc.message), "error")
    else:
        flash(message, "ok")
    return redirect(url_for("admin.product", product_id=product_id))


@bp.post("/products/<int:product_id>/substitutes")
@requires_page("admin.products")
def product_substitute_add(product_id: int):
    """Let units of another product (by SKU or GTIN) be handed out in place of this one's."""
    p = _product(product_id)

    def add() -> str:
        other = trace_queries.get_product(db(), _form("substitute"))
        if trace_service.add_substitute(db(), product=p, substitute=other):
            _record("product.substitute_add", p.sku, substitute=other.sku)
        return _("%(substitute)s may now replace %(sku)s", substitute=other.sku, sku=p.sku)

    return _substitutes_changed(product_id, add)


@bp.post("/products/<int:product_id>/substitutes/<int:substitute_id>/remove")
@requires_page("admin.products")
def product_substitute_remove(product_id: int, substitute_id: int):
    """Stop another product's units replacing this one's."""
    p, other = _product(product_id), _product(substitute_id)

    def remove() -> str:
        trace_service.remove_substitute(db(), product=p, substitute=other)
        _record("product.substitute_remove", p.sku, substitute=other.sku)
        return _("%(substitute)s no longer replaces %(sku)s", substitute=other.sku, sku=p.sku)

    return _substitutes_changed(product_id, remove)


# Settings ------------------------------------------------------------------------------------------------------------

def _shown(name: str, value: Any) -> str:
    """A setting's value as the page shows it: secrets only as set or not, URLs without their password."""
    if any(word in name for word in SECRET_WORDS):
        return _("set (hidden)") if value else _("not set")
    if name in URL_SETTINGS and value:
        try:
            return make_url(value).render_as_string(hide_password=True)
        except ArgumentError:
            return _("set (hidden)")
    if value == "" or value is None:
        return "—"
    return str(value)


@bp.get("/settings", endpoint="settings")
@requires_page("admin.settings")
def settings_page():
    """The effective SERIALTRACE_* settings, read-only, secrets masked."""
    current, defaults = settings(), Settings()
    rows = []
    for f in fields(current):
        variable = ENV_ALIASES.get(f.name, f"SERIALTRACE_{f.name.upper()}")
        value = getattr(current, f.name)
        source = ("environment" if variable in os.environ
                  else "default" if value == getattr(defaults, f.name) else "configuration")
        rows.append({"variable": variable, "value": _shown(f.name, value), "source": source})
    return render_template("admin_settings.html", rows=rows)


# Calendars, teams and routing rules: their views register on this blueprint (imported last, as they use it).
from . import admin_teams  # noqa: E402,F401
