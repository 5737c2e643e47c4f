"""The test bench: procedures per product, taking a case into test, test records with their verdicts; return
deadlines and billed claims for the ERP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, stream_with_context
from flask_openapi3 import Tag
from pydantic import BaseModel

from ...accounts.enums import Role
from ...config import business_today
from ...errors import ValidationError
from ...trace import queries as trace_queries
from ...trace.csvexport import csv_chunks
from ...warranty import bench, procedures, queries, service
from ...warranty.schemas import (
    BilledClaimsRead,
    BilledQuery,
    CaseRead,
    ExpiredReturnsRead,
    ExpireReturns,
    ProcedureCreate,
    ProductProcedureRead,
    TestCreate,
    TestCreatedRead,
    TestRecordsRead,
)
from ..auth import CLAIM_READERS, current_user, requires
from ..database import commit, db
from ..downloads import attachment, log_customer_export
from ..i18n import _, tr
from . import bp, errors, runtime
from .paths import CasePath, ProductPath

TAG = Tag(name="test bench", description="test procedures, taking cases into test, test records and verdicts")
BILLING = Tag(name="billing", description="return deadlines and billed claims for the ERP")
# The roles that see what customers are billed.
BILLING_ROLES = (Role.COORDINATOR, Role.SUPERVISOR, Role.QUALITY)


def _procedure(sku: str) -> dict:
    product = trace_queries.get_product(db(), sku)
    return {"product": product.sku,
            "procedure": procedures.procedure_read(procedures.current_procedure(db(), product.id))}


@bp.get("/products/<sku>/procedure", tags=[TAG], responses={200: ProductProcedureRead, **errors(401, 404, 409,
                                                                                                      422)})
@requires()
def get_procedure(path: ProductPath):
    """The product's current test procedure (null when it has none)."""
    return jsonify(_procedure(path.sku))


@bp.post("/products/<sku>/procedure", tags=[TAG],
         responses={201: ProductProcedureRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.QUALITY)
def post_procedure(path: ProductPath, body: ProcedureCreate):
    """Publish the product's next procedure version; earlier versions stay for the records made with them."""
    product = trace_queries.get_product(db(), path.sku)
    procedures.publish_procedure(db(), product_id=product.id, steps=[s.model_dump() for s in body.steps],
                                 author=current_user())
    commit()
    return jsonify(_procedure(product.sku)), 201


@bp.post("/cases/<int:id>/take", tags=[TAG], responses={200: CaseRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.ENGINEER)
def post_case_take(path: CasePath):
    """Take a received case into test; 409 naming the engineer when another one has it."""
    bench.take_case(db(), case_id=path.id, author=current_user())
    commit()
    return jsonify(queries.case_read(db(), path.id))


def _claim(claim) -> dict:
    return {"id": claim.id, "number": claim.number, "state": claim.state,
            "billed_amount": str(claim.billed_amount) if claim.billed_amount is not None else None,
            "billed_at": claim.billed_at.isoformat() if claim.billed_at else None}


def _warnings(warnings: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"code": w["code"], "message": tr(w["message"])} for w in warnings]


@bp.post("/cases/<int:id>/tests", tags=[TAG],
         responses={201: TestCreatedRead, **errors(400, 401, 403, 404, 409, 413, 422)})
@requires(Role.ENGINEER)
def post_case_test(path: CasePath, body: TestCreate):
    """Record the test of a received or in-test case (or, with supersedes, a correction of a record): steps judged
    against the procedure, verdict, failure codes; the claim then moves on (settled, billed or decided). A
    correction that changes whether the customer is billed bills a settled claim or withdraws a billed one's bill (409
    once the claim is resolved); `procedure_version` other than the current one is a 409."""
    done = bench.record_test(
        db(), case_id=path.id, verdict=body.verdict, steps=[s.model_dump() for s in body.steps],
        failure=body.failure.model_dump(), notes=body.notes, supersedes=body.supersedes, author=current_user(),
        bill_no_fault=runtime().settings.warranty_bill_no_fault, procedure_version=body.procedure_version)
    commit()
    record = next(r for r in queries.case_records(db(), path.id) if r["id"] == done.record.id)
    return jsonify({"record": record, "case": queries.case_read(db(), path.id), "claim": _claim(done.claim),
                    "warnings": _warnings(done.warnings)}), 201


@bp.get("/cases/<int:id>/tests", tags=[TAG],
        responses={200: TestRecordsRead, **errors(401, 403, 404, 409, 422)})
@requires(*CLAIM_READERS)
def get_case_tests(path: CasePath):
    """The case's test records, newest first, each with its steps; a superseded one names its correction."""
    return jsonify({"items": queries.case_records(db(), service.get_case(db(), path.id).id)})


@bp.post("/claims/expire-returns", tags=[BILLING],
         responses={200: ExpiredReturnsRead, **errors(400, 401, 403, 409, 413, 422)})
@requires(Role.COORDINATOR, Role.SUPERVISOR)
def post_expire_returns(body: ExpireReturns):
    """Cases past their return deadline become not_returned; their advance-replaced claims are billed. Running it
    again moves nothing new."""
    today = business_today(runtime().settings)
    moved = bench.expire_returns(db(), today=body.today or today, business_day=today, author=current_user())
    commit()
    return jsonify({"moved": [{"case_id": m.case.id, "serial": m.case.expected_serial,
                               "return_due": m.case.return_due.isoformat(), "claim": _claim(m.claim),
                               "warnings": _warnings(m.warnings)} for m in moved]})


def _since(text: str | None) -> datetime | None:
    """The `since` parameter as a moment (a date is its midnight, UTC unless it names a zone)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("since %(value)r is not an ISO date or date-time (2026-12-01 or 2026-12-01T08:00)",
                                value=text), details={"field": "since"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/claims/billed", tags=[BILLING], responses={200: BilledClaimsRead, **errors(401, 403, 409, 422)})
@requires(*BILLING_ROLES)
def get_billed_claims(query: BilledQuery):
    """Billed claims for the ERP, oldest bill first: customer, serial, product, amount, verdict."""
    return jsonify({"items": queries.billed_claims(db(), since=_since(query.since))})


class BilledCsv(BaseModel):
    """The billed claims as a CSV file."""

    model_config = {"openapi_extra": {"description": "number, customer, customer_tax_id, serial, product, amount, "
                                                     "billed_at, verdict",
                                      "content": {"text/csv": {"schema": {"type": "string"}}}}}


@bp.get("/claims/billed.csv", tags=[BILLING], responses={200: BilledCsv, **errors(401, 403, 409, 422)})
@requires(*BILLING_ROLES)
def get_billed_claims_csv(query: BilledQuery):
    """The billed claims as CSV (UTF-8 with the byte order mark Excel needs), for the ERP's import."""
    rows = queries.billed_claims(db(), since=_since(query.since))
    log_customer_export("billed-claims", fmt="csv")
    chunks = csv_chunks(rows, queries.BILLED_COLUMNS, bom=True, code_columns=("customer_tax_id", "serial"))
    return attachment(stream_with_context(chunks), "text/csv; charset=utf-8", "billed-claims.csv")
