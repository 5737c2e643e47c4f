"""Messages marked for translation below `web`: English text that keeps its message id and parameters.

Standard library only, so the pure packages (gs1, scanner, labels, serials) can mark their messages too. A
`Message` is a `str` holding the English text, so the CLI, logs, JSON and tests read English as before; `web`
translates it where it is shown (`Message.render` with the request's catalog). The extractor knows `_l` as a
keyword (see babel.cfg and the Makefile's i18n targets).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

# English names of the languages the catalogs cover, in the order the language switch lists them.
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"


class Message(str):
    """English text of `msgid` filled with `params`, remembering both so it can be shown in another language."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        """The message `msgid` (an English template with %(name)s placeholders) filled with `params`."""
        text = _fill(msgid, params, str)
        obj = super().__new__(cls, text)
        obj.msgid = msgid
        obj.params = params
        return obj

    def render(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of `gettext`; parameters that are messages are translated too."""
        convert = functools.partial(translate, gettext=gettext)
        try:
            return _fill(gettext(self.msgid), self.params, convert)
        except (KeyError, ValueError, TypeError):
            # A translation naming a placeholder the message lacks must not break the page: show the English.
            return _fill(self.msgid, self.params, convert)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (worker processes) keeps the id and parameters, not only the English text.
        return (_rebuild, (self.msgid, self.params))


def _rebuild(msgid: str, params: dict[str, Any]) -> Message:
    return Message(msgid, **params)


def _fill(template: str, params: Mapping[str, Any], convert: Callable[[Any], Any]) -> str:
    """`template` % params; a template without placeholders is returned as it is (a literal % stays)."""
    if not params:
        return template
    values = {key: convert(value) if isinstance(value, Message) else value for key, value in params.items()}
    return template % values


def translate(value: Any, gettext: Callable[[str], str]) -> Any:
    """`value` translated when it is a Message; anything else unchanged."""
    return value.render(gettext) if isinstance(value, Message) else value


def _l(msgid: str, /, **params: Any) -> Message:
    """Mark `msgid` for translation (the extractor's keyword) and fill its placeholders; English until shown."""
    return Message(msgid, **params)


def message_of(text: Any) -> Message:
    """`text` as a Message: itself when it is one, else a message whose id is the text (shown as it is)."""
    return text if isinstance(text, Message) else Message(str(text))


def is_language(code: object) -> bool:
    """True when `code` names a language the catalogs cover."""
    return isinstance(code, str) and code in LANGUAGES
