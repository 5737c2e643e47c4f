"""Two people pressing "This solved it" on the same claim at once, on a real committed database: one mark counts,
the other is a 409, never a 500 or a second success."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select

from serialtrace.accounts import service as accounts_service
from serialtrace.runtime import Runtime
from serialtrace.trace import service as trace_service
from serialtrace.warranty import knowledge, service
from serialtrace.warranty.models import ClaimEvent, KnowledgeArticle, KnowledgeUse
from serialtrace.web import create_app

TODAY = date(2025, 6, 2)
RACERS = 4


def _setup(url: str) -> tuple[Runtime, list[str], int, int]:
    """A committed claim on a "flow" unit, an article for it and a token per racer."""
    rt = Runtime.from_env({"database_url": url, "secret_key": "race", "serial_key": "k"})
    with rt.transaction() as s:
        desk = accounts_service.create_user(s, username="desk", role="warehouse", password="desk-pass-1")
        tokens = [accounts_service.create_token(s, name=f"t{i}", user=accounts_service.create_user(
            s, username=f"coordinator{i}", role="coordinator", password="desk-pass-1")) for i in range(RACERS)]
        trace_service.add_product(s, sku="PR-100", name="Flow meter", family="flow")
        _, serials = trace_service.register_batch(s, product="PR-100", quantity=1, number="2501A00",
                                                  produced_on=date(2025, 1, 13), scheme=rt.serial_scheme())
        customer = trace_service.get_or_create_customer(s, name="Vodokanal", tax_id="7701234567")
        trace_service.create_shipment(s, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                      today=TODAY)
        claim = service.register_claim(s, serial=serials[0], symptom="no_power", author=desk, today=TODAY).claim
        article = knowledge.create_article(s, title="Reseat", product_family="flow", symptom="no_power",
                                           author=None)
        ids = (claim.id, article.id)
    return rt, tokens, *ids


def test_simultaneous_marks_of_one_claim_count_once(fresh_db_url):
    rt, tokens, claim_id, article_id = _setup(fresh_db_url)
    app = create_app(runtime=rt)
    start = threading.Barrier(RACERS)
    statuses: list[int] = [0] * RACERS

    def run(i: int) -> None:
        client = app.test_client()
        start.wait()
        statuses[i] = client.post(f"/api/v1/claims/{claim_id}/solutions", json={"article_id": article_id},
                                  headers={"Authorization": f"Bearer {tokens[i]}"}).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201] + [409] * (RACERS - 1), statuses
    with rt.read() as s:
        assert s.get(KnowledgeArticle, article_id).successes == 1
        assert s.scalar(select(func.count()).select_from(KnowledgeUse)) == 1
        assert s.scalar(select(func.count()).select_from(ClaimEvent).where(ClaimEvent.kind == "knowledge")) == 1
    rt.engine.dispose()
