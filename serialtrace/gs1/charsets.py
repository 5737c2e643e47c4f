"""GS1 character sets 82, 39 and 64 and the check of a value against one."""

from __future__ import annotations

import re

from ..i18n import _l
from .errors import GS1Error

CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
CSET39 = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# File-safe base64 (RFC 4648 section 5) plus "=" padding, used by the digital signature AI.
CSET64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
DIGITS = frozenset("0123456789")

# Regex character classes built from the sets above, so the fast path and the error
# messages can never disagree about which characters are allowed.
REGEX_CLASS = {
    "N": "[0-9]",
    "X": "[!\"%&'()*+,\\-./0-9:;<=>?A-Z_a-z]",
    "Y": "[#\\-/0-9A-Z]",
    "Z": "[A-Za-z0-9_=\\-]",
}
CHARSET = {"N": DIGITS, "X": CSET82, "Y": CSET39, "Z": CSET64}
CHARSET_NAME = {"N": "a digit", "X": "in character set 82", "Y": "in character set 39",
                "Z": "in character set 64"}


# One scan in C instead of a Python generator step per character.
_CSET82_RUN = re.compile(REGEX_CLASS["X"] + "*")
_CSET39_RUN = re.compile(REGEX_CLASS["Y"] + "*")


def is_cset82(text: str) -> bool:
    """Tell whether every character of text is in GS1 character set 82."""
    return _CSET82_RUN.fullmatch(text) is not None


def is_cset39(text: str) -> bool:
    """Tell whether every character of text is in GS1 character set 39."""
    return _CSET39_RUN.fullmatch(text) is not None


def ensure_charset(ai: str, kind: str, text: str) -> None:
    """Raise GS1Error naming the first character of text outside the set of kind (N, X, Y, Z)."""
    allowed = CHARSET[kind]
    for c in text:
        if c not in allowed:
            raise GS1Error(_l("(%(ai)s) character %(char)r is not %(charset)s", ai=ai, char=c,
                              charset=CHARSET_NAME[kind]))
