"""The knowledge base over HTTP: writing and versioned edits (409 when stale), files with their limits, a claim's
suggestions and "this solved it", each route's roles."""

from __future__ import annotations

import io
from datetime import date

import pytest

from serialtrace.trace import service as trace_service
from serialtrace.trace.models import Product
from serialtrace.warranty import service

from tests import images

TODAY = date(2025, 6, 2)
PNG = images.PNG
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
LIMIT = 1000


@pytest.fixture
def settings_overrides(tmp_path):
    return {"instance_dir": str(tmp_path), "attachment_max_bytes": LIMIT}


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


def _create(api, role="engineer", **fields):
    body = {"title": "Reseat the connector", "body": "Open the lid", "product_family": "flow", "symptom": "no_power",
            **fields}
    return api(role).post("/api/v1/knowledge", json=body)


def test_write_edit_and_read_versions(api, claim):
    made = _create(api)
    assert made.status_code == 201, made.json
    article = made.json
    assert (article["version"], article["successes"], article["files"]) == (1, 0, [])
    edited = api("coordinator").post(f"/api/v1/knowledge/{article['id']}", json={"version": 1, "body": "New"})
    assert edited.status_code == 200, edited.json
    assert (edited.json["version"], edited.json["title"], edited.json["body"]) == (2, "Reseat the connector", "New")
    stale = api("quality").post(f"/api/v1/knowledge/{article['id']}", json={"version": 1, "body": "Mine"})
    assert stale.status_code == 409 and stale.json["details"]["field"] == "version"
    versions = api("warehouse").get(f"/api/v1/knowledge/{article['id']}/versions").json["items"]
    assert [(v["version"], v["body"], v["author"]) for v in versions] == [(2, "New", "coordinator"),
                                                                          (1, "Open the lid", "engineer")]
    retired = api("engineer").post(f"/api/v1/knowledge/{article['id']}", json={"version": 2, "active": False})
    assert retired.json["active"] is False
    assert api("engineer").get("/api/v1/knowledge").json["items"] == []
    assert len(api("engineer").get("/api/v1/knowledge?retired=true").json["items"]) == 1


def test_bad_input_names_the_field(api, claim):
    answer = _create(api, symptom="smells")
    assert answer.status_code == 422 and answer.json["details"]["field"] == "symptom"
    answer = _create(api, product_family="toasters")
    assert answer.status_code == 422 and answer.json["details"]["field"] == "product_family"
    assert api("engineer").get("/api/v1/knowledge/999").status_code == 404


def test_filters(api, claim):
    _create(api)
    _create(api, title="Grease it", symptom="noise", product_family="")
    items = api("warehouse").get("/api/v1/knowledge?symptom=noise").json["items"]
    assert [a["title"] for a in items] == ["Grease it"]
    assert [a["title"] for a in api("warehouse").get("/api/v1/knowledge?q=reseat").json["items"]] == [
        "Reseat the connector"]
    assert [a["title"] for a in api("warehouse").get("/api/v1/knowledge?family=flow").json["items"]] == [
        "Reseat the connector"]


def test_files_upload_download_and_limits(api, claim):
    article = _create(api).json

    def upload(data, name):
        return api("engineer").post(f"/api/v1/knowledge/{article['id']}/files", content_type="multipart/form-data",
                                    data={"file": (io.BytesIO(data), name, "image/png")})

    kept = upload(PNG, "wiring.png")
    assert kept.status_code == 201, kept.json
    assert upload(PNG * 20, "big.png").status_code == 413
    assert upload(HTML, "page.png").status_code == 415
    assert [f["id"] for f in api("warehouse").get(f"/api/v1/knowledge/{article['id']}").json["files"]] == [
        kept.json["id"]]
    got = api("warehouse").get(f"/api/v1/knowledge/files/{kept.json['id']}")
    assert got.status_code == 200 and got.data == PNG
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment")


def test_suggestions_and_solutions(api, claim):
    exact = _create(api).json
    anything = _create(api, title="Check the fuse", product_family="", symptom="").json
    _create(api, title="Grease it", symptom="noise")
    items = api("warehouse").get(f"/api/v1/claims/{claim.id}/suggestions").json["items"]
    assert [a["id"] for a in items] == [exact["id"], anything["id"]]
    marked = api("coordinator").post(f"/api/v1/claims/{claim.id}/solutions", json={"article_id": anything["id"]})
    assert marked.status_code == 201 and marked.json["successes"] == 1
    again = api("engineer").post(f"/api/v1/claims/{claim.id}/solutions", json={"article_id": anything["id"]})
    assert again.status_code == 409 and again.json["details"]["field"] == "article_id"
    items = api("warehouse").get(f"/api/v1/claims/{claim.id}/suggestions").json["items"]
    assert [(a["id"], a["successes"], a["solved_here"]) for a in items] == [(anything["id"], 1, True),
                                                                             (exact["id"], 0, False)]
    timeline = api("warehouse").get(f"/api/v1/claims/{claim.id}").json["timeline"]
    assert [e["reason"] for e in timeline if e["kind"] == "knowledge"] == ["Check the fuse"]


def test_roles(api, claim):
    assert _create(api, role="warehouse").status_code == 403
    assert _create(api, role="production").status_code == 403
    article = _create(api, role="quality").json
    assert api("production").get("/api/v1/knowledge").status_code == 403
    assert api("production").get(f"/api/v1/claims/{claim.id}/suggestions").status_code == 403
    for role in ("warehouse", "quality"):
        answer = api(role).post(f"/api/v1/claims/{claim.id}/solutions", json={"article_id": article["id"]})
        assert answer.status_code == 403
    assert api("warehouse").post(f"/api/v1/knowledge/{article['id']}", json={"version": 1, "title": "x"}
                                 ).status_code == 403
    assert api("admin").post(f"/api/v1/claims/{claim.id}/solutions", json={"article_id": article["id"]}
                             ).status_code == 201
