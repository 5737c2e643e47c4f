"""Flood limits: the public routes (survey links, the sign-in form) per client address, the API per token.

An in-process sliding window: each worker process counts on its own, so with N processes a client gets up to N
times a limit in the worst case. Enough to stop one client flooding the survey form or the API; a site behind
several processes that needs a shared count sets it at the proxy as well. Over a limit the answer is 429 with
Retry-After and a message naming the limit.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from flask import Flask, g, jsonify, render_template, request

from ..config import Settings
from .i18n import _

# Addresses and tokens remembered at once per limit; past that the longest-idle ones are forgotten, so a flood of
# made-up addresses cannot grow the memory without bound (a forgotten key starts again from zero).
MAX_KEYS = 10_000


class SlidingWindow:
    """At most `limit` hits per key within any `window` seconds; thread-safe."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_KEYS) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, *, count: bool = True) -> float | None:
        """Count a hit for `key` (only look, with count=False); None when allowed, else the seconds until the next
        hit would be."""
        now = self.clock()
        with self._lock:
            times = self._hits.pop(key, None) or deque()
            self._hits[key] = times  # most recently used last
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return times[0] + self.window - now
            if count:
                times.append(now)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return None


class Limits:
    """The app's limits, by name; a limit of 0 is off."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        window = settings.rate_limit_window
        # "refused": API calls answered 401 (no, a made-up or a revoked token) per address, counted like sign-ins:
        # guessing tokens is guessing passwords, and varying the made-up token must not reset the count.
        sizes = {"survey": settings.rate_limit_survey, "login": settings.rate_limit_login,
                 "refused": settings.rate_limit_login, "api": settings.rate_limit_api}
        self.windows = {name: SlidingWindow(limit, window, clock=clock) for name, limit in sizes.items() if limit}


class KnownTokens:
    """Hashes of the bearer tokens this process accepted lately (bounded, longest-idle forgotten first).

    An address over the "refused" limit is still served for these: behind one NAT or proxy address, a station
    retrying with a revoked token must not lock out every other station that has been working all along.
    """

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._hashes: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> None:
        """Remember `key` as accepted."""
        with self._lock:
            self._hashes.pop(key, None)
            self._hashes[key] = None
            while len(self._hashes) > self.max_keys:
                self._hashes.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._hashes


def _token_key() -> str | None:
    """The bucket key of this request's bearer token (hashed: nothing kept is a usable secret), or None; worked
    out once per request, as the limit check and the answer's bookkeeping both ask."""
    if "rate_token_key" not in g:
        header = request.headers.get("Authorization", "")
        g.rate_token_key = ("token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()
                            if header.lower().startswith("bearer ") else None)
    return g.rate_token_key


def _bucket() -> tuple[str, str] | None:
    """(limit name, key) of this request, or None when no limit applies."""
    endpoint = request.endpoint or ""
    if endpoint in ("survey.survey", "survey.survey_answer"):
        return "survey", request.remote_addr or ""
    if endpoint == "auth.login" and request.method == "POST":
        return "login", request.remote_addr or ""
    if request.path.startswith("/api/") and endpoint != "api.openapi":
        # Counted per token; made-up ones are held back by "refused".
        return "api", _token_key() or "address:" + (request.remote_addr or "")
    return None


def _refuse(name: str, limit: int, window: int, retry: float):
    """The 429 answer naming the limit that was reached."""
    seconds = max(1, math.ceil(retry))
    if name == "refused":
        message = _("too many calls without a valid API token: the limit is %(limit)s in %(window)s seconds per "
                    "address; try again in %(seconds)s seconds", limit=limit, window=window, seconds=seconds)
    else:
        who = _("per API token") if name == "api" and request.headers.get("Authorization") else _("per address")
        message = _("too many requests: the limit is %(limit)s in %(window)s seconds %(who)s; try again in "
                    "%(seconds)s seconds", limit=limit, window=window, who=who, seconds=seconds)
    return _answer(message, limit, window, seconds)


def _answer(message: str, limit: int, window: int, seconds: int):
    headers = {"Retry-After": str(seconds)}
    details = {"limit": limit, "window": window, "retry_after": seconds}
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": "rate_limited", "message": message, "details": details}), 429, headers
    return render_template("error.html", status=429, message=message, back=None), 429, headers


def install(app: Flask, settings: Settings) -> None:
    """Check the limits before anything else reads the request (the token lookup, the form, the database)."""
    limits = app.extensions["serialtrace.ratelimit"] = Limits(settings)

    window_seconds = settings.rate_limit_window
    refused = limits.windows.get("refused")
    known = app.extensions["serialtrace.known_tokens"] = KnownTokens()

    def _check():
        found = _bucket()
        if found is None:
            return None
        if found[0] == "api" and refused is not None and found[1] not in known:
            retry = refused.hit(request.remote_addr or "", count=False)
            if retry is not None:
                return _refuse("refused", refused.limit, window_seconds, retry)
        window = limits.windows.get(found[0])
        retry = window.hit(found[1]) if window is not None else None
        return None if retry is None else _refuse(found[0], window.limit, window_seconds, retry)

    def _count_refusal(response):
        if refused is not None and request.path.startswith("/api/"):
            if response.status_code == 401:
                refused.hit(request.remote_addr or "")
            elif (key := _token_key()) is not None:
                known.add(key)
        return response

    # First in line: a flood is refused before the token is looked up or a session is opened.
    app.before_request_funcs.setdefault(None, []).insert(0, _check)
    app.after_request(_count_refusal)


def document_answers(doc: dict) -> None:
    """Add the 429 answer to every operation of the OpenAPI document the API limit applies to."""
    schema = {"$ref": "#/components/schemas/ErrorEnvelope"}
    answer = {"description": "rate_limited: too many calls with this token (or from this address without one); "
                             "details.retry_after and the Retry-After header say when to try again",
              "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
              "content": {"application/json": {"schema": schema}}}
    for path, item in doc["paths"].items():
        if path == "/openapi.json":
            continue
        for operation in item.values():
            operation["responses"].setdefault("429", answer)
