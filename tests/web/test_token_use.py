"""A write API call records its token's use in its own transaction on SQLite, instead of waiting for the write lock
it holds itself (which used to cost every write call the whole wait and never record the use)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from serialtrace.accounts import service as accounts_service
from serialtrace.accounts.models import ApiToken
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.web import create_app


def test_a_write_call_records_the_tokens_use(fresh_db_url):
    rt = Runtime.from_env({"database_url": fresh_db_url, "secret_key": "touch", "serial_key": "k"})
    with rt.transaction() as s:
        user = accounts_service.create_user(s, username="desk", role="warehouse")
        token = accounts_service.create_token(s, name="desk", user=user)
        trace_service.add_product(s, sku="PR-100", name="Flow meter", gtin="04601234560016")
        _, serials = trace_service.register_batch(s, product="PR-100", quantity=1, number="2501A00",
                                                  produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
    answer = create_app(runtime=rt).test_client().post(
        "/api/v1/claims", json={"serial": serials[0], "symptom": "no_power"},
        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.json
    with rt.read() as s:
        assert s.scalars(select(ApiToken.last_used_at)).one() is not None
    rt.engine.dispose()
