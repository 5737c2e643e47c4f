"""Hostile input and the browser's side: malformed JSON on every endpoint, security headers, cookies, CSV cells."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from serialtrace.db import load_models
from serialtrace.trace import service
from serialtrace.web import create_app

metadata = load_models()

DEEP = 100_000
# Bodies that are not JSON an API call can read: each must be a 400 with the envelope, on every endpoint.
MALFORMED = {
    "arrays nested 100,000 deep": "[" * DEEP + "]" * DEEP,
    "objects nested 100,000 deep": '{"a":' * DEEP + "1" + "}" * DEEP,
    "arrays nested 500 deep": '{"code": ' + "[" * 500 + "]" * 500 + "}",
    "not JSON": "code=1&quantity=2",
    "cut off": '{"code": "0460123',
    "invalid UTF-8": b'{"code": "\xff\xfe", "product": "\xc3"}',
    "NaN": '{"quantity": NaN, "product": "PR-100"}',
    "Infinity": '{"quantity": -Infinity, "product": "PR-100"}',
    "integer of 5,000 digits": '{"quantity": 1' + "0" * 5000 + ', "product": "PR-100"}',
    "exponent out of range": '{"quantity": 1e999, "product": "PR-100"}',
}
# Bodies that parse but are the wrong shape, or come with the wrong content type: any 4xx, never a 500.
WRONG_SHAPE = {
    "an array": ("[]", "application/json"),
    "a string": ('"text"', "application/json"),
    "a number": ("1", "application/json"),
    "null": ("null", "application/json"),
    "empty": ("", "application/json"),
    "wrong types": ('{"code": 1, "product": [], "quantity": "x", "customer": 5, "batches": {}, "serials": "x", '
                    '"inputs": 7, "format": [], "printer": {}, "from": "a", "to": -1, "batch": 3, "station": [], '
                    '"source": 1, "template": 2, "attributes": [1], "shipped_on": 20250101, "number": true}',
                    "application/json"),
    "nested wrong types": ('{"product": 7, "quantity": 1, "inputs": [1, "x", {"quantity": 1.5}], '
                           '"customer": {"name": {"a": 1}}, "batches": [{"batch": [], "quantity": -3}], '
                           '"serials": [1, null], "attributes": {"a": {"b": {"c": {"d": {"e": {"f": {"g": '
                           '{"h": {"i": {"j": {"k": 1}}}}}}}}}}}}', "application/json"),
    "lone surrogates": ('{"code": "\\ud800", "product": "\\udfff", "customer": {"name": "\\udfff"}, '
                        '"batch": "\\ud800", "printer": "\\ud800", "\\ud800": 1}', "application/json"),
    "JSON as text/plain": ('{"code": "X"}', "text/plain"),
    "a form": ("code=X&product=PR-100", "application/x-www-form-urlencoded"),
}


def _json_endpoints(app) -> list[str]:
    """Every /api/v1 URL that takes a body, its path parameters filled with plausible values."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/v1/") or not rule.methods & {"POST", "PUT", "PATCH"}:
                continue
            values = {name: 1 if isinstance(rule._converters[name], IntegerConverter) else "2501A00"
                      for name in rule.arguments}
            urls.append(url_for(rule.endpoint, **values))
    return sorted(urls)


def _counts(session) -> dict[str, int]:
    return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


def _envelope(resp) -> dict:
    body = resp.get_json(silent=True)
    assert isinstance(body, dict) and set(body) == {"error", "message", "details"}, resp.get_data()[:300]
    assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"]
    return body


def test_the_walk_covers_the_json_endpoints(app):
    urls = _json_endpoints(app)
    assert {"/api/v1/scans", "/api/v1/batches", "/api/v1/shipments", "/api/v1/print-jobs"} <= set(urls)
    assert "/api/v1/batches/2501A00/labels" in urls and "/api/v1/print-jobs/1/resume" in urls


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_json_is_400_with_the_envelope_on_every_endpoint(app, tokens, session, make_batch, name):
    make_batch(quantity=2, number="2501A00")
    session.commit()
    before = _counts(session)
    client = app.test_client()
    body = MALFORMED[name]
    for url in _json_endpoints(app):
        resp = client.post(url, data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert resp.status_code == 400, (url, resp.status_code, resp.get_data()[:300])
        envelope = _envelope(resp)
        assert envelope["error"] == "malformed_json", (url, envelope)
    assert _counts(session) == before


def test_malformed_json_messages_name_the_fault(api):
    caller = api("admin")

    def message(body):
        return caller.post("/api/v1/scans", data=body, content_type="application/json").get_json()["message"]

    assert message(MALFORMED["arrays nested 100,000 deep"]) == "the JSON is nested more than 32 levels deep"
    assert message(MALFORMED["invalid UTF-8"]) == "the body is not UTF-8 text (byte 10)"
    assert message(MALFORMED["cut off"]).startswith("the body is not valid JSON: Unterminated string")
    assert message(MALFORMED["NaN"]) == "the body holds NaN, which is not a JSON number"
    assert message(MALFORMED["exponent out of range"]) == "the number 1e999 is out of range"
    assert message(MALFORMED["integer of 5,000 digits"]) == "a number in the body has too many digits"


@pytest.mark.parametrize("name", sorted(WRONG_SHAPE))
def test_wrong_shapes_are_4xx_with_the_envelope_on_every_endpoint(app, tokens, session, make_batch, name):
    make_batch(quantity=2, number="2501A00")
    session.commit()
    before = _counts(session)
    client = app.test_client()
    body, content_type = WRONG_SHAPE[name]
    for url in _json_endpoints(app):
        resp = client.post(url, data=body, content_type=content_type,
                           headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert 400 <= resp.status_code < 500, (url, resp.status_code, resp.get_data()[:300])
        _envelope(resp)
    assert _counts(session) == before


def test_valid_json_still_works_and_a_surrogate_pair_is_text(api, product):
    body = '{"product": "PR-100", "quantity": 1, "line": "\\ud83d\\ude00"}'
    resp = api("production").post("/api/v1/batches", data=body, content_type="application/json")
    assert resp.status_code == 201, resp.get_json()
    assert api("production").get(resp.headers["Location"]).get_json()["line"] == "\U0001F600"


def test_anonymous_malformed_json_is_still_401(app, users):
    resp = app.test_client().post("/api/v1/scans", data="[" * DEEP, content_type="application/json")
    assert resp.status_code == 401 and _envelope(resp)["error"] == "unauthorized"


# ---- headers and cookies ----

@pytest.fixture
def make_app(make_runtime):
    """The app with extra settings, bound to the test transaction like the `app` fixture."""

    def _make(**overrides):
        return create_app(runtime=make_runtime(**overrides))

    return _make


def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[0]


def test_https_gets_hsts_and_a_secure_session_cookie(app, users):
    resp = app.test_client().get("/login", base_url="https://station.local")
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "; Secure" in _session_cookie(resp)


def test_plain_http_gets_neither_hsts_nor_a_secure_cookie(app, users):
    resp = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in resp.headers
    assert "; Secure" not in _session_cookie(resp)


def test_cookie_secure_setting_marks_the_cookie_even_on_http(make_app, users):
    resp = make_app(session_cookie_secure=True).test_client().get("/login")
    assert "; Secure" in _session_cookie(resp)


def test_forwarded_https_counts_only_with_proxy_fix(make_app, users):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.7", "X-Forwarded-Host": "trace.example"}
    trusting = make_app(proxy_fix=1).test_client().get("/login", headers=forwarded)
    assert "; Secure" in _session_cookie(trusting)
    assert trusting.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Without SERIALTRACE_PROXY_FIX the header may come from anyone, so it changes nothing.
    direct = make_app().test_client().get("/login", headers=forwarded)
    assert "; Secure" not in _session_cookie(direct) and "Strict-Transport-Security" not in direct.headers


def test_bad_proxy_fix_is_a_config_error(make_app):
    from serialtrace.config import ConfigError

    with pytest.raises(ConfigError, match="SERIALTRACE_PROXY_FIX must be at least 0, not -1"):
        make_app(proxy_fix=-1)


def test_permissions_policy_allows_the_camera_and_nothing_else(app, users):
    policy = app.test_client().get("/login").headers["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in policy.split(","))
    assert features.pop("camera") == "(self)"
    assert {"microphone", "geolocation", "payment", "usb"} <= set(features)
    assert set(features.values()) == {"()"}


def test_customer_data_is_not_cached(app, api, login, make_batch, session):
    _, serials = make_batch(quantity=2, number="2501A00")
    customer = service.get_or_create_customer(session, name="ООО «ГазМонтаж»", tax_id="6623456789")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials)
    session.commit()
    quality = login("quality")
    for url in (f"/units/{serials[0]}", f"/units?q={serials[0][:4]}", "/batches/2501A00", "/batches",
                "/batches/2501A00/recall.csv", "/station"):
        resp = quality.get(url)
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "no-store", url
    for url in (f"/api/v1/units/{serials[0]}", "/api/v1/batches/2501A00", "/api/v1/batches/2501A00/recall",
                "/api/v1/batches/2501A00/recall?format=csv", "/api/v1/units/NOPE"):
        resp = api("quality").get(url)
        assert resp.headers["Cache-Control"] == "no-store", url
    # Static files hold no customer data and may be cached.
    with app.test_client().get("/static/app.css") as static:  # closing it closes the file it streams
        assert "no-store" not in static.headers.get("Cache-Control", "")


# ---- CSV exports ----

HOSTILE = '=HYPERLINK("http://x")'


def _recall_rows(text: str) -> list[dict[str, str]]:
    # Recall files start with the byte order mark Excel needs to read UTF-8.
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _ship_hostile(session, make_batch):
    _, serials = make_batch(quantity=2, number="2501A00")
    customer = service.get_or_create_customer(session, name=HOSTILE, tax_id="6623456789", email="@buyer",
                                              contact_name="-Ivanov", phone="+7 495 123-45-67")
    service.create_shipment(session, customer=customer, shipped_on=date(2025, 3, 14), serials=serials,
                            reference="-42", carrier="Деловые линии")
    session.commit()
    return serials


def test_recall_csv_neutralises_formula_cells_in_api_and_page(api, login, make_batch, session):
    serials = _ship_hostile(session, make_batch)
    api_text = api("quality").get("/api/v1/batches/2501A00/recall?format=csv").get_data(as_text=True)
    page_text = login("quality").get("/batches/2501A00/recall.csv").get_data(as_text=True)
    assert api_text == page_text
    rows = _recall_rows(api_text)
    assert len(rows) == 2
    for row in rows:
        assert row["customer"] == "'" + HOSTILE
        assert row["shipment_reference"] == "'-42"
        assert row["email"] == "'@buyer" and row["contact_name"] == "'-Ivanov" and row["phone"] == "'+7 495 123-45-67"
        # Everything else comes out as stored.
        assert row["serial"] in serials and row["carrier"] == "Деловые линии" and row["tax_id"] == "6623456789"
        assert row["shipped_on"] == "2025-03-14" and row["quantity"] == "1" and row["batch"] == "2501A00"


def test_recall_csv_from_the_cli_is_neutralised_too(session, make_batch):
    from serialtrace.trace import genealogy
    from serialtrace.trace.models import Batch

    _ship_hostile(session, make_batch)
    batch = session.scalars(select(Batch).where(Batch.number == "2501A00")).one()
    # `serialtrace recall --csv` writes these same chunks.
    rows = _recall_rows("".join(genealogy.recall_csv(genealogy.recall_rows(session, batch_ids=[batch.id]))))
    assert {r["customer"] for r in rows} == {"'" + HOSTILE}


def test_safe_cell_leaves_ordinary_values_alone():
    from serialtrace.trace.csvexport import safe_cell

    for value in ("48111943474", "SN-0001", "ООО «Ромашка»", "a=b", "", 5, None, "2025-03-14", "1+1"):
        assert safe_cell(value) == value
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(value) == "'" + value
