"""Messages marked for translation below `web`: English text that keeps its message id and parameters.

Standard library only, so the pure packages (gs1, scanner, labels, serials) can mark their messages too. A
`Message` is a `str` holding the English text, so the CLI, logs, JSON and tests read English as before; `web`
translates it where it is shown (`Message.render` with the request's catalog). The extractor knows `_l` and
`_n` (plural) as keywords (see babel.cfg and the Makefile's i18n targets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

# The languages the catalogs cover, named in their own language, in the order the language switch lists them.
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"


class Catalog(Protocol):
    """What a message needs of a catalog (gettext.NullTranslations and Babel's Translations have it)."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


class Message(str):
    """English text of `msgid` filled with `params`, remembering both so it can be shown in another language."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        """The message `msgid` (an English template with %(name)s placeholders) filled with `params`."""
        obj = super().__new__(cls, _fill(msgid, params, None))
        obj.msgid = msgid
        obj.params = params
        return obj

    def template(self, catalog: Catalog) -> str:
        """The message's template in the catalog's language."""
        return catalog.gettext(self.msgid)

    def render(self, catalog: Catalog) -> str:
        """The message in the catalog's language; parameters that are messages are translated too."""
        try:
            return _fill(self.template(catalog), self.params, catalog)
        except (KeyError, ValueError, TypeError):
            # A translation naming a placeholder the message lacks must not break the page: show the English.
            return _fill(self.msgid, self.params, catalog)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (worker processes) keeps the id and parameters, not only the English text.
        return (_rebuild, (type(self), self.msgid, self.params, self.__dict__))


def _rebuild(cls: type[Message], msgid: str, params: dict[str, Any], state: dict[str, Any]) -> Message:
    obj = str.__new__(cls, _fill(state.get("english", msgid), params, None))
    obj.__dict__.update(state)
    obj.msgid, obj.params = msgid, params
    return obj


class Plural(Message):
    """A message with a count: English picks the singular or plural template, a catalog its own plural form."""

    plural: str
    number: int
    english: str

    def __new__(cls, singular: str, plural: str, count: int, /, **params: Any) -> Plural:
        """`singular` or `plural` (English templates) by `count`, filled with `params` and `count`."""
        params = {"count": count, **params}
        english = singular if count == 1 else plural
        obj = str.__new__(cls, _fill(english, params, None))
        obj.msgid, obj.plural, obj.number, obj.params = singular, plural, count, params
        obj.english = english
        return obj

    def template(self, catalog: Catalog) -> str:
        """The template for this count in the catalog's language."""
        return catalog.ngettext(self.msgid, self.plural, self.number)


class Coded(Message):
    """Stored codes (a status, a list of states) in a sentence: English text keeps the codes as they are stored
    and the API documents them; a translation shows their labels instead."""

    labels: tuple[Message, ...]

    def __new__(cls, codes: str, labels: tuple[Message, ...] = ()) -> Coded:
        """`codes` as the English text shows them; `labels` their human labels, in order."""
        obj = str.__new__(cls, codes)
        obj.msgid, obj.params, obj.labels = codes, {}, labels
        return obj

    def render(self, catalog: Catalog) -> str:
        """The labels in the catalog's language, or the codes when it has no translation for them (English)."""
        shown = [label.render(catalog) for label in self.labels]
        if not self.labels or shown == [str(label) for label in self.labels]:
            return str(self)
        return ", ".join(shown)


def _fill(template: str, params: Mapping[str, Any], catalog: Catalog | None) -> str:
    """`template` % params, parameters that are messages rendered with `catalog` (English without one); a
    template without parameters is returned as it is (a literal % stays)."""
    if not params:
        return template
    values = {key: value.render(catalog) if catalog is not None and isinstance(value, Message) else value
              for key, value in params.items()}
    return template % values


def translate(value: Any, catalog: Catalog) -> Any:
    """`value` translated with `catalog` when it is a Message; anything else unchanged."""
    return value.render(catalog) if isinstance(value, Message) else value


def _l(msgid: str, /, **params: Any) -> Message:
    """Mark `msgid` for translation (the extractor's keyword) and fill its placeholders; English until shown."""
    return Message(msgid, **params)


def _n(singular: str, plural: str, count: int, /, **params: Any) -> Plural:
    """Mark a message with a count for translation (`%(count)s` in both templates); English until shown."""
    return Plural(singular, plural, count, **params)


def coded(values: Any, table: Mapping[str, str]) -> Coded:
    """One stored code, or several (shown comma-separated), with their labels from the label `table`."""
    items = [values] if isinstance(values, str) else list(values)
    labels = tuple(message_of(table.get(str(value), str(value))) for value in items)
    return Coded(", ".join(str(value) for value in items), labels)


def message_of(text: Any) -> Message:
    """`text` as a Message: itself when it is one, else a message whose id is the text (shown as it is)."""
    return text if isinstance(text, Message) else Message(str(text))


def is_language(code: object) -> bool:
    """True when `code` names a language the catalogs cover."""
    return isinstance(code, str) and code in LANGUAGES
