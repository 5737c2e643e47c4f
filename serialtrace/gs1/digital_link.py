"""GS1 Digital Link URIs: reading AI data out of them and writing them from AI data."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import quote, unquote

from ..i18n import _l
from .errors import GS1Error
from .rules import _as_pairs, check_associations, check_value
from .table import AI_TABLE

# Short names the Digital Link standard allows in the path instead of numeric AIs.
CONVENIENCE_ALPHAS = {
    "gtin": "01", "itip": "8006", "cpid": "8010", "gln": "414", "party": "417",
    "gsrnp": "8017", "gsrn": "8018", "gcn": "255", "sscc": "00", "gdti": "253",
    "ginc": "401", "gsin": "402", "grai": "8003", "giai": "8004",
    "cpv": "22", "lot": "10", "ser": "21", "cpsn": "8011", "glnx": "254", "srin": "8019",
    "tpx": "235",
}

_SCHEME = re.compile(r"(?:https?|HTTPS?)://")
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::[0-9]*)?")
# Characters RFC 3986 allows in a URI; anything else (space, <, >, {, }, \, ^, `, |, non-ASCII)
# must arrive percent-encoded.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
# The shape nearly every label prints, /01/{gtin}[/10/{lot}][/21/{serial}] with nothing
# percent-encoded and no query, read by one regular expression; segment characters are those
# of _URI_CHARS minus the delimiters, so anything this takes the full parser would split the
# same way.
_SEGMENT = r"([A-Za-z0-9\-._~:@!$&'()*+,;=]+)"
_COMMON_SHAPE = re.compile(
    r"(?:https?|HTTPS?)://[A-Za-z0-9.\-]+(?::[0-9]*)?/01/([0-9]{14})"
    rf"(?:/10/{_SEGMENT})?(?:/21/{_SEGMENT})?"
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_GTIN_SHORT = frozenset((8, 12, 13))


def _decode(text: str, *, query: bool) -> str:
    if "%" not in text and (not query or "+" not in text):
        return text  # nothing encoded: the usual serial or GTIN segment
    if _BAD_PERCENT.search(text):
        raise GS1Error(_l("bad percent-encoding in %(text)r", text=text))
    if query:
        text = text.replace("+", " ")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise GS1Error(_l("percent-encoding in %(text)r is not UTF-8", text=text)) from None


def _pad_gtin(ai: str, value: str) -> str:
    # GTIN-8, -12 and -13 are written without leading zeros in many URIs; the AI holds 14.
    if ai in ("01", "02") and len(value) in _GTIN_SHORT and value.isascii() and value.isdigit():
        return value.zfill(14)
    return value


def _path_ai(segment: str) -> str:
    return CONVENIENCE_ALPHAS.get(segment, segment)


def _fits(path: tuple[str, ...], qualifiers: list[str]) -> bool:
    position = 0
    for q in qualifiers:
        try:
            position = path.index(q, position) + 1
        except ValueError:
            return False
    return True


# The verdict on a key qualifier path depends only on the AIs in it, and URIs of one label
# layout repeat the same few paths, so verdicts are remembered (bounded like rules._verdicts).
_path_verdicts: dict[tuple[str, ...], str | None] = {}
_query_qualifiers: dict[tuple[str, ...], frozenset[str]] = {}
_MAX_MEMO = 4096
_Verdict = TypeVar("_Verdict")


def _memo(cache: dict[tuple[str, ...], _Verdict], key: tuple[str, ...], compute: Callable[[], _Verdict]) -> _Verdict:
    try:
        return cache[key]
    except KeyError:
        if len(cache) >= _MAX_MEMO:
            cache.clear()
        value = cache[key] = compute()
        return value


def _qualifier_path_error(key: str, qualifiers: list[str]) -> str | None:
    return _memo(_path_verdicts, (key, *qualifiers), lambda: _path_error(key, qualifiers))


def _path_error(key: str, qualifiers: list[str]) -> str | None:
    paths = AI_TABLE[key].dl_qualifiers or ()
    if any(_fits(path, qualifiers) for path in paths):
        return None
    allowed = " | ".join("/".join(p) for p in paths if p) or "none"
    shown = "/".join(f"({q})" for q in qualifiers[:4]) + ("/..." if len(qualifiers) > 4 else "")
    return f"{shown} after ({key}) is not a valid key qualifier path (allowed: {allowed})"


def parse_digital_link(uri: str) -> list[tuple[str, str]]:
    """Read the AI data of a GS1 Digital Link URI: path key and qualifiers, then query attributes."""
    if not isinstance(uri, str) or not _SCHEME.match(uri):
        raise GS1Error(_l("a GS1 Digital Link URI starts with http:// or https://"))
    common = _COMMON_SHAPE.fullmatch(uri)
    if common is not None:
        gtin, lot, serial = common.groups()
        pairs: list[tuple[str, str]] = [("01", gtin)]
        if lot is not None:
            pairs.append(("10", lot))
        if serial is not None:
            pairs.append(("21", serial))
        return _checked(pairs)
    if not _URI_CHARS.fullmatch(uri):
        bad = next(c for c in uri if not _URI_CHARS.fullmatch(c))
        raise GS1Error(_l("character %(bad)r is not allowed in a URI", bad=bad))
    rest = uri[uri.index("://") + 3:].split("#", 1)[0]
    slash = rest.find("/")
    question = rest.find("?")
    if slash < 0 or (0 <= question < slash):
        raise GS1Error(_l("a GS1 Digital Link URI needs a path after the domain"))
    host = rest[:slash]
    if not _HOST.fullmatch(host):
        raise GS1Error(_l("%(host)r is not a valid domain", host=host))
    path, _, query = rest[slash:].partition("?")
    segments = path.split("/")[1:]

    pairs = []
    reason = "no GS1 primary key in the URI path"
    for start in range(len(segments) - 2, -1, -2):
        key = _path_ai(segments[start])
        spec = AI_TABLE.get(key)
        if spec is None or not spec.is_dl_primary_key:
            continue
        names = [_path_ai(s) for s in segments[start + 2::2]]
        problem = _qualifier_path_error(key, names)
        if problem is None:
            for ai, raw in zip([key] + names, segments[start + 1::2], strict=True):
                pairs.append((ai, _pad_gtin(ai, _decode(raw, query=False))))
            break
        reason = problem
    else:
        raise GS1Error(reason)
    key = pairs[0][0]
    used = [ai for ai, _ in pairs[1:]]
    # A qualifier that could have stood in this path must not hide in the query.
    qualifiers = _memo(
        _query_qualifiers,
        (key, *used),
        lambda: frozenset(q for p in AI_TABLE[key].dl_qualifiers or () if _fits(p, used) for q in p),
    ) if query else frozenset()
    for item in query.split("&") if query else ():
        name, equals, raw = item.partition("=")
        # Parameters that are not AIs belong to the resolver, not to the AI data.
        if not equals or not name.isdigit():
            continue
        spec = AI_TABLE.get(name)
        if spec is None:
            raise GS1Error(_l("unknown AI (%(name)s) in the URI query", name=name))
        if name in qualifiers:
            raise GS1Error(_l("(%(name)s) is a key qualifier of (%(key)s) and belongs in the URI path", name=name,
                              key=key))
        if not spec.dl_attribute:
            raise GS1Error(_l("(%(name)s) cannot be a Digital Link query attribute", name=name))
        if not raw:
            raise GS1Error(_l("(%(name)s) is empty", name=name))
        pairs.append((name, _pad_gtin(name, _decode(raw, query=True))))
    return _checked(pairs)


def _checked(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen = set()
    for ai, value in pairs:
        if ai in seen:
            raise GS1Error(_l("(%(ai)s) appears more than once in the URI", ai=ai))
        seen.add(ai)
        check_value(AI_TABLE[ai], value)
    check_associations(pairs)
    return pairs


def build_digital_link(pairs: Iterable[tuple[str, str]], *, domain: str = "https://id.gs1.org") -> str:
    """Build a GS1 Digital Link URI: primary key, qualifiers in order, other AIs as query."""
    if not isinstance(domain, str) or not _SCHEME.match(domain):
        raise GS1Error(_l("domain must start with http:// or https://, got %(domain)r", domain=domain))
    unique = list(dict.fromkeys(_as_pairs(pairs)))
    for ai, value in unique:
        if ai not in AI_TABLE:
            raise GS1Error(_l("unknown AI (%(ai)s)", ai=ai))
        check_value(AI_TABLE[ai], value)
    check_associations(unique)
    key = next((ai for ai, _ in unique if AI_TABLE[ai].is_dl_primary_key), None)
    if key is None:
        raise GS1Error(_l("no AI that can be a Digital Link primary key, such as (01) or (00)"))
    values = dict(unique)
    paths = AI_TABLE[key].dl_qualifiers or ()
    all_qualifiers = {q for p in paths for q in p}
    present = [ai for ai, _ in unique if ai in all_qualifiers]
    path_ais = None
    for path in paths:
        if all(q in path for q in present):
            path_ais = [key] + [q for q in path if q in values]
            break
    if path_ais is None:
        shown = ", ".join(f"({q})" for q in present)
        raise GS1Error(_l("%(shown)s cannot all qualify (%(key)s) in one Digital Link path", shown=shown, key=key))
    rest = [(ai, v) for ai, v in unique if ai not in path_ais]
    # Same order as the element string: predefined-length AIs first.
    rest.sort(key=lambda p: AI_TABLE[p[0]].separator_required)
    for ai, _ in rest:
        if not AI_TABLE[ai].dl_attribute:
            raise GS1Error(_l("(%(ai)s) cannot be a Digital Link query attribute", ai=ai))
    uri = domain.rstrip("/") + "".join(f"/{ai}/{quote(values[ai], safe='')}" for ai in path_ais)
    if rest:
        uri += "?" + "&".join(f"{ai}={quote(v, safe='')}" for ai, v in rest)
    return uri
