"""The navigation: the header menu and the admin sections, each shown only to the roles that may open it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request, url_for

from .auth import PAGE_ROLES, may_open
from .i18n import lazy_gettext


@dataclass(frozen=True)
class Link:
    """One navigation entry: the page's endpoint (a key of PAGE_ROLES), its label and its keyboard shortcut."""

    endpoint: str
    label: Any
    accesskey: str = ""
    # Endpoints starting with this (or with one of these) also mark the entry current (the admin area's forms belong
    # to their section).
    covers: str | tuple[str, ...] = ""


# The header menu, in the order of a working day at the desk.
MENU: tuple[Link, ...] = (
    Link("pages.station", lazy_gettext("Station"), "s"),
    Link("pages.worklist", lazy_gettext("Worklist"), "w", covers="pages.team_board"),
    Link("pages.units", lazy_gettext("Units"), "u"),
    Link("pages.batches", lazy_gettext("Batches"), "b"),
    Link("pages.claims", lazy_gettext("Claims"), "k", covers="pages.claim"),
    Link("pages.scans", lazy_gettext("Scan log")),
    Link("pages.import_page", lazy_gettext("Import"), "i"),
    Link("labels.page", lazy_gettext("Labels"), "l"),
    Link("pages.test_queue", lazy_gettext("Test queue"), "q", covers="pages.case"),
    Link("pages.codes", lazy_gettext("Failure codes")),
    Link("pages.knowledge_list", lazy_gettext("Knowledge base"), covers="pages.knowledge"),
    Link("pages.registration_report", lazy_gettext("Registrations")),
    Link("pages.quality_batches", lazy_gettext("Quality"), covers="pages.quality_"),
    Link("admin.index", lazy_gettext("Admin"), "a", covers="admin."),
)
# The admin area's own sections, shown on every admin page.
ADMIN_SECTIONS: tuple[Link, ...] = (
    Link("admin.users", lazy_gettext("Users"), covers="admin.user"),
    Link("admin.tokens", lazy_gettext("API tokens"), covers="admin.token"),
    Link("admin.stations", lazy_gettext("Stations"), covers="admin.station"),
    Link("admin.products", lazy_gettext("Products"), covers="admin.product"),
    Link("admin.customers", lazy_gettext("Customers"), covers="admin.customer"),
    Link("admin.settings", lazy_gettext("Settings"), covers="admin.setting"),
    Link("admin.calendars", lazy_gettext("Calendars"), covers="admin.calendar"),
    Link("admin.teams", lazy_gettext("Teams"), covers="admin.team"),
    Link("admin.routing", lazy_gettext("Routing"), covers="admin.routing"),
    Link("admin.security_events", lazy_gettext("Security log"), covers="admin.security_events"),
)
# The quality dashboard's sections (endpoints named pages.quality_*), shown on every quality page.
QUALITY_SECTIONS: tuple[Link, ...] = (
    Link("pages.quality_batches", lazy_gettext("Claim rates"), covers=("pages.quality_batch", "pages.quality_lot")),
    Link("pages.quality_field", lazy_gettext("Field failures"), covers="pages.quality_field"),
    Link("pages.quality_sla", lazy_gettext("SLA compliance"), covers="pages.quality_sla"),
    Link("pages.quality_eightds", lazy_gettext("8D / CAPA"), covers="pages.quality_eightd"),
    Link("pages.quality_recalls", lazy_gettext("Recalls"), covers="pages.quality_recall"),
    Link("pages.quality_compare", lazy_gettext("Root causes"), covers="pages.quality_compare"),
    Link("pages.quality_customers", lazy_gettext("Customers"), covers="pages.quality_customer"),
)


def links(entries: tuple[Link, ...]) -> list[dict[str, Any]]:
    """The entries the current user may open, with their URL and whether the current page is theirs."""
    user = g.get("user")
    here = request.endpoint or ""
    return [{"endpoint": entry.endpoint, "url": url_for(entry.endpoint), "label": entry.label,
             "accesskey": entry.accesskey,
             "current": here == entry.endpoint or bool(entry.covers and here.startswith(entry.covers))}
            for entry in entries if entry.endpoint in current_app.view_functions and may_open(user, entry.endpoint)]


def install(app: Flask) -> None:
    """Offer `menu()`, `admin_sections()`, `quality_sections()` and `may_open(endpoint)` to the templates."""
    missing = [entry.endpoint for entry in MENU + ADMIN_SECTIONS + QUALITY_SECTIONS if entry.endpoint not in PAGE_ROLES]
    if missing:
        raise RuntimeError(f"navigation entries without a row in PAGE_ROLES: {missing}")
    app.jinja_env.globals.update(menu=lambda: links(MENU), admin_sections=lambda: links(ADMIN_SECTIONS),
                                 quality_sections=lambda: links(QUALITY_SECTIONS),
                                 may_open=lambda endpoint: may_open(g.get("user"), endpoint))
