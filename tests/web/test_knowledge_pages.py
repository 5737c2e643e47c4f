"""Knowledge base pages: the list and its empty state, writing and editing (a stale form refused), old versions,
files with their limits, escaped text, and "Suggested solutions" with "This solved it" on a claim in triage."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product
from serialtrace.warranty import knowledge, service
from serialtrace.warranty.models import KnowledgeArticle, KnowledgeUse

from .conftest import csrf_from
from tests import images

TODAY = date(2025, 6, 2)
PNG = images.PNG
EVIL = '<script>alert("x")</script>'


@pytest.fixture
def settings_overrides(tmp_path):
    return {"instance_dir": str(tmp_path), "attachment_max_bytes": 1000}


@pytest.fixture
def claim(session, make_batch, users):
    batch, serials = make_batch(quantity=1)
    session.get(Product, batch.product_id).family = "flow"
    customer = trace_service.get_or_create_customer(session, name="Vodokanal", tax_id="7701234567")
    trace_service.create_shipment(session, customer=customer, shipped_on=date(2025, 2, 3), serials=serials,
                                  today=TODAY)
    made = service.register_claim(session, serial=serials[0], symptom="no_power", author=users["warehouse"],
                                  today=TODAY).claim
    session.commit()
    return made


@pytest.fixture
def article(session, claim, users):
    made = knowledge.create_article(session, title=f"Reseat {EVIL}", body=f"Line one\nLine two {EVIL}",
                                    product_family="flow", symptom="no_power", author=users["engineer"])
    session.commit()
    return made


def _post(client, page_url, url, data, **kw):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kw)


def test_the_list_shows_an_empty_state_then_articles(login, claim, session, users):
    client = login("warehouse")
    page = client.get("/knowledge").get_data(as_text=True)
    assert 'id="knowledge-empty"' in page and 'id="knowledge-new"' not in page
    knowledge.create_article(session, title="Grease it", symptom="noise", author=users["engineer"])
    session.commit()
    page = client.get("/knowledge?symptom=noise").get_data(as_text=True)
    assert "Grease it" in page
    assert 'id="knowledge-empty"' in client.get("/knowledge?q=nothing").get_data(as_text=True)


def test_writing_an_article_from_the_form_and_escaping_it(login, claim, session):
    client = login("engineer")
    answer = _post(client, "/knowledge/new", "/knowledge/new",
                   {"title": EVIL, "body": f"a\nb {EVIL}", "product_family": "flow", "symptom": "no_power"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert EVIL not in page and "&lt;script&gt;" in page
    assert "a\nb &lt;script&gt;" in page  # line breaks kept, in a pre element
    refused = _post(client, "/knowledge/new", "/knowledge/new", {"title": "", "symptom": "smells"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)


def test_editing_keeps_old_versions_and_refuses_a_stale_form(login, article, session):
    client = login("coordinator")
    url = f"/knowledge/{article.id}"
    fields = {"title": "Reseat", "body": "new", "product_family": "flow", "symptom": "no_power", "version": "1"}
    assert _post(client, url, f"{url}/edit", fields).status_code == 302
    stale = _post(client, url, f"{url}/edit", {**fields, "body": "mine"})
    assert stale.status_code == 409 and "version 2" in stale.get_data(as_text=True)
    old = client.get(f"{url}/versions/1").get_data(as_text=True)
    assert "Line two &lt;script&gt;" in old and EVIL not in old
    assert "new" in client.get(f"{url}/versions/2").get_data(as_text=True)
    assert client.get(f"{url}/versions/3").status_code == 404


def test_files_from_the_page_and_their_limits(login, article):
    client = login("engineer")
    url = f"/knowledge/{article.id}"

    def upload(data, name):
        return _post(client, url, f"{url}/files", {"files": (io.BytesIO(data), name)},
                     content_type="multipart/form-data")

    assert upload(PNG, "wiring.png").status_code == 302
    assert upload(PNG * 20, "big.png").status_code == 413
    assert upload(b"MZ\x90\x00" * 10, "tool.png").status_code == 415
    page = client.get(url).get_data(as_text=True)
    assert page.count("wiring.png") >= 1 and "big.png" not in page


def test_claim_page_suggests_and_marks_once(login, claim, article, session):
    client = login("coordinator")
    page = client.get(f"/claims/{claim.number}").get_data(as_text=True)
    assert 'id="knowledge"' in page and f'id="solved-{article.id}"' in page and EVIL not in page
    answer = _post(client, f"/claims/{claim.number}", f"/knowledge/{article.id}/solved", {"claim_id": str(claim.id)})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f'id="solved-{article.id}"' not in page and "solved-here" in page
    again = _post(client, f"/claims/{claim.number}", f"/knowledge/{article.id}/solved", {"claim_id": str(claim.id)})
    assert again.status_code == 302
    session.expire_all()
    assert session.get(KnowledgeArticle, article.id).successes == 1
    assert len(session.scalars(select(KnowledgeUse)).all()) == 1


def test_readers_without_the_right_role(login, claim, article):
    quality = login("quality")
    page = quality.get(f"/claims/{claim.number}").get_data(as_text=True)
    assert 'id="knowledge"' in page and f'id="solved-{article.id}"' not in page
    token = csrf_from(page)
    assert quality.post(f"/knowledge/{article.id}/solved", data={"claim_id": str(claim.id), "csrf_token": token}
                        ).status_code == 403
    warehouse = login("warehouse")
    assert warehouse.get("/knowledge/new").status_code == 403
    assert 'id="edit-form"' not in warehouse.get(f"/knowledge/{article.id}").get_data(as_text=True)
    assert login("production").get("/knowledge").status_code == 403


def test_no_suggestions_once_the_claim_leaves_triage(login, claim, article, session, users):
    service.transition_claim(session, claim_id=claim.id, to="cancelled", reason="duplicate",
                             author=users["coordinator"], today=TODAY)
    session.commit()
    assert 'id="knowledge"' not in login("coordinator").get(f"/claims/{claim.number}").get_data(as_text=True)
