"""Translation wiring: Flask-Babel's catalogs, the reader's language and the template filters that show
messages, enum labels, dates and numbers in it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date as babel_format_date
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_datetime, get_locale, get_translations, gettext, lazy_gettext, refresh

from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, Message, is_language
from ..i18n import translate as _translate

_ = gettext
# For strings built at import time (module-level tables): translated each time they are shown.
__all__ = ["_", "lazy_gettext", "refresh", "tr", "tr_all", "label", "install", "select_language"]

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
# Dates people at a desk read at a glance: ISO 8601 in English (as the ERP files and labels write them), the
# Russian day.month.year in Russian; times on the 24-hour clock in both.
DATE_PATTERNS = {"en": "yyyy-MM-dd", "ru": "dd.MM.yyyy"}
DATETIME_PATTERNS = {"en": "yyyy-MM-dd HH:mm", "ru": "dd.MM.yyyy HH:mm"}

babel = Babel()


def select_language() -> str:
    """The reader's language: their own setting, else the browser's (Accept-Language), else English.

    A setting that names no language we have (a removed catalog, a hand-edited row) is English, not an error.
    """
    user = g.get("user") if has_request_context() else None
    setting = getattr(user, "language", None)
    if setting:
        return setting if is_language(setting) else DEFAULT_LANGUAGE
    if has_request_context():
        return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def language() -> str:
    """The language of the current request as a code from LANGUAGES."""
    locale = get_locale()
    return locale.language if locale is not None and is_language(locale.language) else DEFAULT_LANGUAGE


def tr(value: Any) -> Any:
    """A message raised below web, in the reader's language (dates in its parameters too); anything else as it is."""
    return _translate(_localised(value), get_translations()) if isinstance(value, Message) else value


def tr_all(value: Any) -> Any:
    """`value` with every message in it translated: lists, tuples and dict values are walked (error details)."""
    if isinstance(value, Message):
        return tr(value)
    if isinstance(value, dict):
        return {key: tr_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [tr_all(item) for item in value]
    return value


def _localised(message: Message) -> Message:
    """`message` with its date parameters written the reader's way (nested messages are handled by render)."""
    if not any(isinstance(v, date) for v in message.params.values()):
        return message
    localised = copy.copy(message)
    localised.params = {k: format_day(v) if isinstance(v, date) else v for k, v in message.params.items()}
    return localised


def label(value: Any, kind: str | Mapping[str, Any]) -> Any:
    """The human label of an enum value, from its domain's label table (a name in enum_labels.TABLES, or the
    table itself), in the reader's language; a value the table lacks is shown as it is."""
    from .enum_labels import TABLES

    if value is None or value == "":
        return "—"
    table = TABLES[kind] if isinstance(kind, str) else kind
    found = table.get(str(value))
    return tr(found) if found is not None else value


def _as_datetime(value: Any) -> datetime | None:
    """A stored moment (datetime or ISO text); naive ones were stored in UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_day(value: Any) -> str:
    """A calendar day (date or ISO text) the reader's way; text that is no date is shown as it is."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        return format_moment(value)
    if not isinstance(value, date):
        return "—" if value is None else str(value)
    lang = language()
    return babel_format_date(value, DATE_PATTERNS[lang], locale=lang)


def format_moment(value: Any) -> str:
    """A moment (datetime or ISO text) in the business time zone (SERIALTRACE_TIMEZONE), the reader's way."""
    moment = _as_datetime(value)
    if moment is None:
        return "—" if value is None else str(value)
    return format_datetime(moment, DATETIME_PATTERNS[language()])


def format_count(value: Any) -> str:
    """A number with the reader's digit grouping (1,000 or 1 000)."""
    from flask_babel import format_decimal

    if isinstance(value, int | float | Decimal):
        return format_decimal(value)
    return "—" if value is None else str(value)


def _finalize(value: Any) -> Any:
    # Every {{ expression }} passes here: a message raised below web shows in the reader's language.
    return tr(value) if isinstance(value, Message) else value


def install(app: Flask, timezone: str) -> None:
    """Catalogs from serialtrace/translations, the language and time zone selectors, the template filters."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, default_locale=DEFAULT_LANGUAGE, locale_selector=select_language,
                   timezone_selector=lambda: timezone)
    env = app.jinja_env
    env.finalize = _finalize
    env.filters.update(label=label, tr=tr, day=format_day, moment=format_moment, count=format_count)
    env.globals.update(languages=LANGUAGES, current_language=language)
