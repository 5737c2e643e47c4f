"""What the pages share: the `pages` blueprint, the settings, the station cookie, text checks and the dossier."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from ...config import Settings, business_today
from ...errors import ValidationError
from ...quality import recall_queries
from ...runtime import Runtime
from ...trace.models import Unit
from ...trace.policy import MAX_INT
from ...warranty.dossier import unit_dossier
from ..auth import current_user
from ..database import db
from ..i18n import _
from .dossier_view import for_page

# One blueprint for the station and trace pages, so their endpoints (pages.station, pages.unit ...) stay as the
# templates name them.
bp = Blueprint("pages", __name__)
STATION_COOKIE = "st_station"
STATION_COOKIE_DAYS = 365
# The browser's station device key (station.service.save_station_profile): only the device that calibrated a
# station first (or an admin) may change its scanner profile.
STATION_KEY_COOKIE = "st_station_key"


def runtime() -> Runtime:
    """The app's runtime."""
    return current_app.extensions["serialtrace"]


def settings() -> Settings:
    """The app's settings."""
    return runtime().settings


def dossier(unit: Unit) -> dict:
    """The unit's dossier as the pages show it (dossier_view: contacts by role, links, events in words)."""
    # Warranty is judged on the business's calendar day (SERIALTRACE_TIMEZONE), not the server's.
    s = settings()
    found = unit_dossier(db(), unit, today=business_today(s), grace_days=s.warranty_grace_days)
    # The open recall campaigns the unit is in: every page and station that shows the unit says so loudly.
    found["recalls"] = recall_queries.unit_campaigns(db(), unit.id)
    return for_page(found, current_user())


def user_text(value: str, field: str) -> str:
    """`value` when the database can store it; a NUL character is a 422 naming the field."""
    # PostgreSQL refuses NUL in text outright (SQLite stores it), so it is stopped here the same on both.
    if "\x00" in value:
        raise ValidationError(_("%(field)s contains a NUL character; type or scan it again", field=field),
                              details={"field": field})
    return value


def optional_id(value: str, field: str) -> int | None:
    """A record id typed or chosen in a form or query string; empty is None, anything but digits a 422."""
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise ValidationError(_("%(field)s must be a whole number, not %(value)r", field=field, value=value),
                              details={"field": field})
    if int(value) > MAX_INT:
        # No row has such an id; PostgreSQL would refuse the comparison's parameter instead of finding nothing.
        raise ValidationError(_("%(field)s must be at most %(limit)s", field=field, limit=MAX_INT),
                              details={"field": field})
    return int(value)


def station_name() -> str:
    """The station this browser scans for: the form field, else the station cookie."""
    # The form field wins so one browser can be moved to another desk without clearing cookies.
    return user_text((request.form.get("station") or request.cookies.get(STATION_COOKIE) or "").strip(), "station")
