"""Strict JSON request bodies: whatever a client sends, a malformed body is a 400 naming the fault, never a 500."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Request, g, request
from flask.json.provider import DefaultJSONProvider

from ..errors import DomainError

# Nothing the API takes is nested anywhere near this; the parser itself recurses, so depth must stay bounded.
MAX_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class MalformedBody(DomainError):
    """A request body that is not JSON an API call can read (syntax, encoding, nesting, numbers)."""

    status_code = 400
    code = "malformed_json"


class MalformedJSON(ValueError):
    """Raised by `loads`; a ValueError, so Flask's silent get_json answers None for it as for any syntax error."""


def _refuse_constant(name: str) -> float:
    raise MalformedJSON(f"the body holds {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJSON(f"the number {text[:20]} is out of range")
    return value


def loads(data: str | bytes | bytearray) -> Any:
    """Parse a JSON document strictly: UTF-8, finite numbers, at most MAX_DEPTH levels deep.

    A lone surrogate escape ("\\ud800") parses: the API's field checks refuse it with 422 naming the field.
    """
    if isinstance(data, (bytes, bytearray)):
        try:
            # JSON between systems is UTF-8 (RFC 8259); a leading byte order mark is tolerated.
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MalformedJSON(f"the body is not UTF-8 text (byte {exc.start})") from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise MalformedJSON(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except MalformedJSON:
        raise
    except ValueError:
        # int() refuses integers longer than 4300 digits; nothing the API takes comes close.
        raise MalformedJSON("a number in the body has too many digits") from None
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _ensure_depth(value)
    return value


def _ensure_depth(value: Any) -> None:
    """MalformedJSON when containers nest deeper than MAX_DEPTH (walks containers only, without recursion)."""
    level = [value] if isinstance(value, (list, dict)) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise MalformedJSON(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (list, dict))]


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with the strict parser; answers are written as before."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


class StrictRequest(Request):
    """A request whose failed JSON parse is a MalformedBody naming the fault (Flask's is a bare 400)."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            return super().on_json_loading_failed(e)
        raise MalformedBody(str(e))


def check_json_body() -> None:
    """Parse an API call's JSON body up front, so every endpoint refuses a malformed one the same way."""
    if request.method not in _BODY_METHODS or not request.path.startswith("/api/") or not request.is_json:
        return
    if g.get("user") is None:
        return  # the view answers 401 first; a stranger's body is not worth parsing
    if not request.get_data(cache=True):
        return  # an empty body is the view's to judge: most answer that they need a JSON object
    request.get_json()  # cached, so the view's own get_json reads this result


def install(app: Flask) -> None:
    """Use the strict parser for every request of `app`; call right after the app is made."""
    app.json = StrictJSONProvider(app)
    app.request_class = StrictRequest
