"""Translation hook: every user-visible string goes through `_` so catalogs can be added without edits."""

from __future__ import annotations

from gettext import NullTranslations

_translations = NullTranslations()


def _(message: str, **values: object) -> str:
    """Translate `message` and fill %(name)s placeholders."""
    text = _translations.gettext(message)
    return text % values if values else text
