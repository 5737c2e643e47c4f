"""The OpenAPI document against the app: every route in it with its path parameters, the error answers on each
operation, and a property-based run of the document against the app (no 500, every answer as documented)."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import stateful as stateful_openapi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fakeprinter import FakePrinter

PREFIX = "/api/v1"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _document(app) -> dict:
    resp = app.test_client().get(f"{PREFIX}/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def _routes(app) -> dict[tuple[str, str], set[str]]:
    """(OpenAPI path, method) -> path parameter names, for every /api/v1 rule of the app."""
    out = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        for method in rule.methods & METHODS:
            out[(path, method.lower())] = set(rule.arguments)
    return out


def _operations(doc: dict) -> dict[tuple[str, str], dict]:
    return {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}


def test_every_api_route_is_in_the_document_with_its_path_parameters(app):
    doc = _document(app)
    assert doc["openapi"].startswith("3.1") and doc["servers"] == [{"url": PREFIX}]
    routes, operations = _routes(app), _operations(doc)
    assert len(routes) >= 16
    assert {("/cases/{id}", "get"), ("/cases/{id}/receive", "post"), ("/test-queue", "get")} <= set(operations)
    assert set(routes) == set(operations), "routes and documented operations differ"
    wrong = {key: (sorted(names), sorted(p["name"] for p in operations[key].get("parameters", ())
                                         if p["in"] == "path"))
             for key, names in routes.items()}
    wrong = {key: pair for key, pair in wrong.items() if pair[0] != pair[1]}
    assert wrong == {}, "(route parameters, documented path parameters)"


def test_every_operation_documents_its_error_answers_as_the_envelope(app):
    doc = _document(app)
    envelope = doc["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"error", "message"} and "details" in envelope["properties"]
    for (path, method), op in _operations(doc).items():
        if path == "/openapi.json":
            assert op["security"] == [] and set(op["responses"]) == {"200"}
            continue
        codes = set(op["responses"])
        needed = {"401", "409"} | ({"400", "413"} if method == "post" else set())
        assert needed <= codes, (path, method, sorted(codes))
        for code in codes - {"200", "201"}:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (path, method, code)
    assert "503" in _operations(doc)[("/scans/image", "post")]["responses"]
    assert "403" in _operations(doc)[("/batches", "post")]["responses"]
    # Limits the handlers enforce are in the document: 32-bit integers, the batch size, the date rule.
    batch = doc["components"]["schemas"]["BatchCreate"]["properties"]
    assert (batch["quantity"]["minimum"], batch["quantity"]["maximum"]) == (0, 10_000_000)
    line = doc["components"]["schemas"]["BatchLineCreate"]["properties"]["quantity"]
    assert (line["minimum"], line["maximum"]) == (1, 2**31 - 1)
    assert batch["produced_on"]["anyOf"][0]["format"] == "date"


def _invalid(resp, field: str, message: str) -> None:
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json() == {"error": "invalid", "message": message, "details": {"field": field}}


def test_model_errors_name_the_field_as_the_hand_checks_did(api, product, session):
    post = api("production").post
    _invalid(post("/api/v1/batches", json={"product": None, "quantity": 1}), "product", "field product is required")
    _invalid(post("/api/v1/batches", json={"quantity": 1}), "product", "field product is required")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "inputs": [7]}), "inputs[0]",
             "inputs[0] must be an object")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "inputs": {}}), "inputs",
             "field inputs must be a list")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "produced_on": 20250101}),
             "produced_on", "field produced_on must be a string")
    _invalid(post("/api/v1/batches", json={"product": "PR-100", "quantity": 1, "produced_on": "31.02.2025"}),
             "produced_on", "production date '31.02.2025' is not a real calendar date")
    warehouse = api("warehouse").post
    _invalid(warehouse("/api/v1/shipments", json={"customer": 5, "serials": ["X"]}), "customer",
             "field customer must be an object with name and tax_id")
    _invalid(warehouse("/api/v1/shipments", json={"customer": "X", "attributes": [1]}), "attributes",
             "field attributes must be an object")
    _invalid(warehouse("/api/v1/scans", json={"code": "X", "source": "fax"}), "source",
             "field source must be api or camera")
    resp = post("/api/v1/batches", json=[1, 2])
    assert resp.status_code == 422
    assert resp.get_json() == {"error": "invalid", "details": None,
                               "message": "send a JSON object with Content-Type: application/json"}
    assert api("quality").get("/api/v1/batches/anything").status_code == 404


def test_token_and_role_are_checked_before_the_body(app, api, users):
    bad = {"product": 7, "quantity": "ten"}
    assert app.test_client().post("/api/v1/batches", json=bad).status_code == 401
    resp = api("warehouse").post("/api/v1/batches", json=bad)
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"


# ---- the document run against the app ----

@pytest.fixture
def printer():
    """A raw-TCP printer on a loopback address: the only one the run's print jobs may reach."""
    fake = FakePrinter(port=0)
    yield fake
    fake.close()


@pytest.fixture
def settings_overrides(printer):
    return {"printers": f"{printer.host}:{printer.port}"}


@pytest.fixture
def api_schema(app, tokens, make_batch, session):
    """The served document, loaded through the WSGI app, with a batch of three units for the known-path runs."""
    _, serials = make_batch(quantity=3, number="2501A00")
    session.commit()
    return schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app), {"number": "2501A00", "serial": serials[0]}


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 20


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_property_run_finds_no_500_and_no_undocumented_answer(api_schema, tokens, mode):
    """Bodies, queries and paths drawn from the document (or, negative, breaking it) for every operation:
    no 500, and every answer (status, content type, body) is one the document declares. Derandomized and bounded,
    so the run is the same every time."""
    schema, known = api_schema
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    failures, calls, operations = [], [], set()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations.add(operation.label)
        names = re.findall(r"{(\w+)}", operation.path)
        # Drawn paths mostly find nothing; a second run on the known batch and unit reaches the answers with bodies.
        runs = [{}] + ([{n: known[n] for n in names}] if names and set(names) <= set(known) else [])
        for path_parameters in runs:

            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None))
            def run(case):
                calls.append((case.operation.label, case.call_and_validate(headers=headers, checks=CHECKS).status_code))

            try:
                run()
            except Exception as exc:  # every operation runs; the failures are reported together
                failures.append(f"{operation.label} {path_parameters or ''}: {exc}")
    assert not failures, "\n\n".join(failures)
    # The run reached every operation (schemathesis leaves out the document's own URL), and answers with bodies,
    # not only refusals.
    assert {label for label, _ in calls} == operations and len(operations) >= 16
    if mode == GenerationMode.POSITIVE:
        assert {label for label, status in calls if status in (200, 201)} >= {
            "GET /units/{serial}", "GET /batches/{number}", "GET /batches/{number}/recall", "POST /scans",
            "POST /batches/{number}/labels", "GET /print-jobs"}


# ---- the document's links, followed by a stateful run ----

def test_the_links_name_operations_and_fields_of_the_document(app):
    doc = _document(app)
    ids = {op["operationId"]: (path, method) for (path, method), op in _operations(doc).items()}
    linked = {}
    for (path, method), op in _operations(doc).items():
        for status, answer in op["responses"].items():
            for name, link in answer.get("links", {}).items():
                linked[(method.upper(), path, status, name)] = ids[link["operationId"]]
    assert linked[("POST", "/claims", "201", "ReplaceUnit")] == ("/claims/{id}/replace", "post")
    assert linked[("POST", "/claims/{id}/replace", "201", "GetCase")] == ("/cases/{id}", "get")
    assert linked[("GET", "/cases/{id}", "200", "RecordTest")] == ("/cases/{id}/tests", "post")
    assert linked[("GET", "/batches/{number}", "200", "PrintJobs")] == ("/print-jobs", "get")
    receive = doc["paths"]["/cases/{id}"]["get"]["responses"]["200"]["links"]["Receive"]
    assert receive["requestBody"] == {"serial": "$response.body#/expected_serial"}


STATEFUL_CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# The chain a desk and a bench walk; the run must get through each step at least once.
CHAIN = ("POST /claims", "POST /claims/{id}/replace", "GET /cases/{id}", "POST /cases/{id}/tests")


@pytest.fixture
def warranty_stock(session, make_batch):
    """Units in warranty at a customer (to claim) and free units of the same product (to hand out)."""
    from datetime import date

    from serialtrace.trace import service as trace_service

    _, serials = make_batch(quantity=24, number="2502B00")
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date.today(), serials=serials[:12])
    session.commit()
    return serials[:12], serials[12:]


@pytest.mark.slow
def test_stateful_run_follows_the_links_from_claim_to_test_record(app, tokens, warranty_stock, connection,
                                                                 monkeypatch):
    """Scenarios drawn along the document's links (claim -> replacement -> case -> receive / test, batches ->
    labels -> print jobs, ...): no 500, every answer as documented, and the desk-to-bench chain reached. The
    generated bodies get real serials, a symptom code and a verdict where the data must exist for the link to go on;
    everything else is drawn. Derandomized and bounded."""
    claimable, free = warranty_stock
    doc = _document(app)
    linked = {op["operationId"] for op in _operations(doc).values() for answer in op["responses"].values()
              if answer.get("links")}
    linked |= {link["operationId"] for op in _operations(doc).values() for answer in op["responses"].values()
               for link in answer.get("links", {}).values()}
    schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)
    # Only the document's own links: no inferred ones, and only the operations they join (the per-operation runs
    # above cover the rest), so the bounded budget goes to the chains.
    schema.config.phases.stateful.inference.algorithms = []
    schema = schema.include(operation_id=sorted(linked))
    # Schemathesis never starts a scenario with an operation whose input looks like a key of a resource no
    # operation produces; POST /claims' optional customer_id looks like one, yet the desk's chain starts there.
    likely_root = stateful_openapi.is_likely_root_transition
    monkeypatch.setattr(stateful_openapi, "is_likely_root_transition",
                        lambda operation, *rest: operation.label == "POST /claims" or likely_root(operation, *rest))
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    calls: dict[str, list[int]] = {}
    replaced_cases: set[int] = set()
    tested_cases: set[int] = set()
    pool: dict[str, list[str]] = {}

    class Machine(schema.as_state_machine()):
        def setup(self):
            # Each scenario starts from the seeded data: Hypothesis replays scenarios and needs the same answers.
            self.savepoint = connection.begin_nested()
            pool.update(claim=list(claimable), free=list(free))

        def teardown(self):
            self.savepoint.rollback()

        def before_call(self, case):
            case.headers = {**(case.headers or {}), **headers}
            body = case.body if isinstance(case.body, dict) else None
            if body is None:
                return
            if case.operation.label == "POST /claims" and pool["claim"]:
                body.update(serial=pool["claim"][0], symptom="no_power", channel="desk")
                body.pop("customer_id", None)
            elif case.operation.label == "POST /claims/{id}/replace" and pool["free"]:
                body["replacement_serial"] = pool["free"][0]
            elif case.operation.label == "POST /cases/{id}/tests":
                case.body = {"verdict": "no_fault_found", "notes": str(body.get("notes", ""))[:200]}

        def after_call(self, response, case):
            label = case.operation.label
            calls.setdefault(label, []).append(response.status_code)
            if response.status_code != 201:
                return
            if label == "POST /claims":
                pool["claim"].append(pool["claim"].pop(0))  # the next claim is about the next unit
            elif label == "POST /claims/{id}/replace":
                pool["free"].pop(0)
                replaced_cases.update(c["id"] for c in response.json()["cases"])
            elif label == "POST /cases/{id}/tests":
                tested_cases.add(case.path_parameters["id"])

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs or None)

    Machine.run(settings=settings(max_examples=80, stateful_step_count=10, derandomize=True, deadline=None,
                                  database=None, suppress_health_check=list(HealthCheck)))
    reached = {label: statuses.count(201) + statuses.count(200) for label, statuses in calls.items()}
    # Each step of the chain got through along the links. Whether one scenario walks all of it on the same case
    # within the budget depends on the ids the database hands out (PostgreSQL's sequences go on across tests), so
    # that is not required: the links from a replacement to its case and from a case to its tests are checked above.
    assert all(reached.get(label) for label in CHAIN), str(calls)
    assert replaced_cases and tested_cases, (sorted(replaced_cases), sorted(tested_cases), reached)
