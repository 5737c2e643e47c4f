"""Rules every route keeps, walked over the app's whole URL map (pages and API): anonymous callers are refused,
form posts need the CSRF token, the security headers are on every answer, each role gets the answer its table
allows or a 403, and hostile path parameters and query strings are a 4xx, never a 500."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from werkzeug.routing import IntegerConverter
from werkzeug.routing.converters import AnyConverter

from serialtrace.accounts.enums import Role

from .test_guards import UNGUARDED

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Routes anyone may call, each with the reason (and the other guard that holds there); the rest need a login.
PUBLIC = {
    "auth.login": "the sign-in form (failed sign-ins lock out; posts are rate limited per address)",
    "auth.logout": "ends the caller's own session, if any",
    "pages.index": "sends the visitor on to the station or the sign-in form",
    "static": "stylesheets, scripts and images",
    "api.openapi": "the API description",
    "survey.survey": "the customer's survey link: its signed token is the proof (rate limited per address)",
    "survey.survey_answer": "the survey link's answer (rate limited per address)",
}
# Form posts that take no CSRF token: the survey link (its signed token is in the URL, see ui/survey_page.py).
NO_CSRF = {"survey.survey_answer"}
# Hostile path parameter values: huge ints, unicode, dot segments, NUL, a 10 kB string.
HOSTILE = ["9" * 40, "2147483648", "ünï©ødé-✓-😀", "..%2f..%2fetc", "a%00b", "x" * 10_240]
# Hostile query strings: repeated and mistyped parameters, huge page numbers and sizes, NUL, bad dates.
QUERIES = [
    "page=abc&page=2&page=-1&q=%00&q=" + "x" * 5000 + "&batch=%00&product=..&team=%F0%9F%98%80&all=maybe",
    "page=99999999999999999999999&per_page=99999999&limit=99999999&size=99999999&days=-99999999999&months=99999999",
    "from=2025-13-45&to=notadate&since=-1&until=1e309&state=..&sort=%00&fmt=exe&format=..&kind=%00",
]


def test_the_public_list_is_the_unguarded_views(app):
    assert set(PUBLIC) == UNGUARDED
    assert set(PUBLIC) <= set(app.view_functions)


def _value(rule, name: str) -> str:
    converter = rule._converters[name]
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "1" if isinstance(converter, IntegerConverter) else "X-1"


def _url(rule, **override: str) -> str:
    """The rule's URL with plausible (mostly unknown) values, or the given raw (already quoted) ones."""
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: override.get(m.group(1), _value(rule, m.group(1))), rule.rule)


def _rules(app, *, with_static: bool = False):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static" and not with_static:
            continue
        for method in sorted(rule.methods & set(METHODS)):
            yield rule, method


def _is_api(rule) -> bool:
    return rule.rule.startswith("/api/")


def _headers_ok(resp, rule, where: str, problems: list[str]) -> None:
    headers = resp.headers
    missing = [name for name in ("X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options",
                                 "Referrer-Policy", "Permissions-Policy") if name not in headers]
    if headers.get("X-Content-Type-Options", "nosniff") != "nosniff":
        missing.append("X-Content-Type-Options=nosniff")
    if rule.endpoint != "static" and headers.get("Cache-Control") != "no-store":
        missing.append(f"Cache-Control no-store (got {headers.get('Cache-Control')})")
    if missing:
        problems.append(f"{where}: {missing}")


def _call(client, method: str, url: str, **kw):
    return client.open(url, method=method, **kw)


# ---- (a) anonymous callers, (c) headers on their answers ----

def test_anonymous_callers_are_refused_everywhere_but_the_public_list(app):
    client = app.test_client()
    problems: list[str] = []
    for n, (rule, method) in enumerate(_rules(app, with_static=True)):
        if rule.endpoint in PUBLIC:
            continue
        url = _url(rule)
        # One address per call: refused API calls from one address are rate limited like failed sign-ins.
        address = {"REMOTE_ADDR": f"10.9.{n // 250}.{n % 250 + 1}"}
        resp = _call(client, method, url, json={} if _is_api(rule) and method != "GET" else None,
                     environ_base=address)
        resp.close()
        where = f"{method} {rule.rule}"
        if _is_api(rule):
            ok = resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"
        elif method == "GET":
            ok = resp.status_code == 302 and "/login" in resp.headers["Location"]
        else:
            # A cross-site form cannot get past the CSRF check (the station's scan forms check theirs after the
            # login, to renew an old token); with the check off (see below) the login is asked for.
            ok = resp.status_code == 400 or resp.status_code == 302 and "/login" in resp.headers["Location"]
        if not ok:
            problems.append(f"{where}: {resp.status_code} {resp.headers.get('Location', '')}")
        _headers_ok(resp, rule, where, problems)
    assert not problems, "\n".join(problems)


def test_anonymous_form_posts_with_the_csrf_check_off_are_sent_to_log_in(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    wrong = [f"{method} {rule.rule}: {resp.status_code}"
             for rule, method in _rules(app)
             if method != "GET" and not _is_api(rule) and rule.endpoint not in PUBLIC
             for resp in [_call(client, method, _url(rule))]
             if not (resp.status_code == 302 and "/login" in resp.headers["Location"])]
    assert not wrong, "\n".join(wrong)


def test_public_routes_answer_without_a_login_and_with_the_headers(app):
    client = app.test_client()
    problems: list[str] = []
    for rule, method in _rules(app, with_static=True):
        if rule.endpoint not in PUBLIC:
            continue
        url = _url(rule, filename="app.css") if rule.endpoint == "static" else _url(rule)
        resp = _call(client, method, url)
        resp.close()
        if resp.status_code >= 500 or resp.status_code == 401:
            problems.append(f"{method} {rule.rule}: {resp.status_code}")
        _headers_ok(resp, rule, f"{method} {rule.rule}", problems)
    assert not problems, "\n".join(problems)


# ---- (b) CSRF on every form post, also for API calls riding on the login cookie ----

def test_every_form_post_without_the_csrf_token_is_refused(app, login):
    client = login("admin")
    problems: list[str] = []
    for rule, method in _rules(app):
        if method == "GET" or rule.endpoint in NO_CSRF or rule.endpoint == "api.openapi":
            continue
        kwargs = {"json": {}} if _is_api(rule) else {"data": {"anything": "1"}}
        resp = _call(client, method, _url(rule), **kwargs)
        text = resp.get_data(as_text=True)
        if resp.status_code != 400 or "the form expired or was sent from elsewhere" not in text:
            problems.append(f"{method} {rule.rule}: {resp.status_code} {text[:120]!r}")
        _headers_ok(resp, rule, f"{method} {rule.rule}", problems)
    assert not problems, "\n".join(problems)


# ---- (d) the role table, asked of the server ----

def _allowed(view, role: str) -> bool:
    # The roles @requires / @requires_page put on the view: PAGE_ROLES' row for a page (test_navigation checks the
    # two agree), so this walk asks the server what the table says.
    roles = getattr(view, "required_roles", None)
    return roles is not None and (not roles or role == Role.ADMIN or role in roles)


@pytest.mark.slow
def test_each_role_gets_the_allowed_answer_or_a_403(app, login, api):
    """Every guarded route, for every role: refused roles get 403 (and the refusal changes nothing, since it comes
    before the view); allowed roles get past the role check (a GET is never 403 or 500 for them)."""
    app.config["WTF_CSRF_ENABLED"] = False
    problems: list[str] = []
    checked = {True: 0, False: 0}
    for role in [r.value for r in Role]:
        page_client, api_client = login(role), api(role)
        for rule, method in _rules(app):
            view = app.view_functions[rule.endpoint]
            if rule.endpoint in PUBLIC or rule.endpoint == "auth.logout":
                continue
            allowed = _allowed(view, role)
            if allowed and method != "GET":
                continue  # allowed actions are the feature tests' business; here only the refusals
            url = _url(rule)
            if _is_api(rule):
                resp = api_client.client.open(url, method=method, headers=api_client.headers,
                                              json={} if method != "GET" else None)
            else:
                resp = page_client.open(url, method=method)
            status = resp.status_code
            checked[allowed] += 1
            if (not allowed and status != 403) or (allowed and status in (403, 500)):
                problems.append(f"{role} {method} {rule.rule}: {status} (allowed={allowed})")
    assert not problems, "\n".join(problems)
    assert checked[False] > 500 and checked[True] > 300, checked


# ---- (e) hostile path parameters and query strings ----

@pytest.mark.slow
def test_hostile_path_parameters_are_never_a_500(app, login, api):
    app.config["WTF_CSRF_ENABLED"] = False
    page_client, api_client = login("admin"), api("admin")
    problems: list[str] = []
    for rule, method in _rules(app):
        if not rule.arguments:
            continue
        for name in sorted(rule.arguments):
            for value in HOSTILE:
                url = _url(rule, **{name: value if "%" in value else quote(value, safe="")})
                if _is_api(rule):
                    resp = api_client.client.open(url, method=method, headers=api_client.headers,
                                                  json={} if method != "GET" else None)
                else:
                    resp = page_client.open(url, method=method)
                if resp.status_code >= 500 or resp.status_code < 300 and method != "GET":
                    problems.append(f"{method} {rule.rule} {name}={value[:20]}: {resp.status_code}")
    assert not problems, "\n".join(problems)


# Far above any honest answer on the small test database, far below a stalled server: a query string that makes a
# route work without bound (a huge page size, a date range of centuries) shows up here on a loaded machine too.
SLOW_SECONDS = 5.0


@pytest.mark.slow
def test_hostile_query_strings_are_never_a_500_and_pages_stay_bounded(app, login, api):
    page_client, api_client = login("admin"), api("admin")
    problems: list[str] = []
    for rule, method in _rules(app):
        if method != "GET" or rule.endpoint in ("auth.login", "api.openapi"):
            continue
        for query in QUERIES:
            url = f"{_url(rule)}?{query}"
            client = api_client.client if _is_api(rule) else page_client
            started = time.perf_counter()
            resp = client.get(url, headers=api_client.headers if _is_api(rule) else None)
            took = time.perf_counter() - started
            if took > SLOW_SECONDS:
                problems.append(f"GET {rule.rule}?{query[:40]}: {took:.1f} s")
            if resp.status_code >= 500:
                problems.append(f"GET {rule.rule}?{query[:40]}: {resp.status_code}")
            elif resp.status_code == 200 and len(resp.get_data()) > 5_000_000:
                problems.append(f"GET {rule.rule}?{query[:40]}: {len(resp.get_data())} bytes")
    assert not problems, "\n".join(problems)


def test_an_id_past_32_bits_names_nothing(login, api):
    huge = "9" * 40
    assert api("admin").get(f"/api/v1/cases/{huge}/tests").status_code == 404  # not 405: POST shares the URL
    assert api("admin").get("/api/v1/cases/2147483648").status_code == 404
    page = login("admin")
    assert page.get(f"/admin/users/{huge}").status_code == 404
    assert page.get("/admin/users/2147483647").status_code == 404  # the largest id is looked up, and is not there
