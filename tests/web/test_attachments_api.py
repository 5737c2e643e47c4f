"""Claim files over HTTP: comments, attachments (limits by size and content, safe download headers)."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from serialtrace.warranty.models import Attachment, Comment

from ..warranty.tested_case import make_tested
from tests import images

JPEG, PNG = images.JPEG, images.PNG
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
LIMIT = 1000


@pytest.fixture
def settings_overrides(tmp_path):
    return {"instance_dir": str(tmp_path), "attachment_max_bytes": LIMIT}


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "attachments"


@pytest.fixture
def tested(session, make_batch, users):
    made = make_tested(session, make_batch, users["warehouse"])
    session.commit()
    return made


def _upload(api, role, claim_id, data, name, content_type="application/octet-stream", **fields):
    form = {"file": (io.BytesIO(data), name, content_type), **fields}
    return api(role).post(f"/api/v1/claims/{claim_id}/attachments", data=form, content_type="multipart/form-data")


def _left(session, folder) -> tuple:
    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return files, session.scalar(select(func.count()).select_from(Attachment))


def test_upload_list_and_download_with_safe_headers(api, session, tested, folder):
    answer = _upload(api, "engineer", tested.claim.id, JPEG, "Фото шва.jpg", "image/jpeg",
                     case_id=str(tested.case.id))
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert {k: body[k] for k in ("claim_id", "case_id", "filename", "content_type", "size", "inline", "author")} == {
        "claim_id": tested.claim.id, "case_id": tested.case.id, "filename": "Фото шва.jpg",
        "content_type": "image/jpeg", "size": len(JPEG), "inline": True, "author": "engineer"}
    stored = session.get(Attachment, body["id"]).stored_name
    assert _left(session, folder) == ([stored], 1)
    listed = api("quality").get(f"/api/v1/claims/{tested.claim.id}/attachments").json["items"]
    assert [a["id"] for a in listed] == [body["id"]]
    download = api("coordinator").get(f"/api/v1/attachments/{body['id']}")
    assert download.status_code == 200 and download.data == JPEG
    assert download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('Фото шва.jpg')}" in disposition
    assert "sandbox" in download.headers["Content-Security-Policy"]
    inline = api("coordinator").get(f"/api/v1/attachments/{body['id']}?inline=true")
    assert inline.headers["Content-Disposition"].startswith("inline;")
    timeline = api("warehouse").get(f"/api/v1/claims/{tested.claim.id}").json["timeline"]
    assert [(e["filename"], e["author"]) for e in timeline if e["kind"] == "attachment"] == [("Фото шва.jpg",
                                                                                            "engineer")]


def test_a_text_file_is_never_shown_inline(api, tested):
    made = _upload(api, "engineer", tested.claim.id, b"reading 4.2 mA\n", "notes.txt", "text/html").json
    assert (made["content_type"], made["inline"]) == ("text/plain; charset=utf-8", False)
    download = api("engineer").get(f"/api/v1/attachments/{made['id']}?inline=true")
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert download.headers["Content-Disposition"] == "attachment; filename=notes.txt"


@pytest.mark.parametrize(("data", "name", "declared"), [
    (EXE, "invoice.jpg", "image/jpeg"), (HTML, "photo.png", "image/png"),
])
def test_forbidden_content_is_415_naming_the_allowed_types_and_leaves_nothing(api, session, tested, folder, data,
                                                                              name, declared):
    answer = _upload(api, "engineer", tested.claim.id, data, name, declared)
    assert answer.status_code == 415
    assert answer.json["message"] == ("the file's content is not an allowed type; allowed: JPEG, PNG, WebP, PDF, "
                                      "plain text or CSV")
    assert _left(session, folder) == ([], 0)


def test_a_file_over_the_limit_is_413_naming_the_limit_and_leaves_nothing(api, session, tested, folder):
    answer = _upload(api, "engineer", tested.claim.id, JPEG + b"\x00" * LIMIT, "big.jpg", "image/jpeg")
    assert answer.status_code == 413
    assert (answer.json["message"], answer.json["details"]) == (
        f"the file is larger than the limit of {LIMIT} bytes", {"field": "file", "limit": LIMIT})
    assert _left(session, folder) == ([], 0)


@pytest.mark.parametrize(("fields", "field"), [
    ({"case_id": "x1"}, "case_id"), ({"case_id": "999999"}, "case_id"), ({"test_record_id": "5"}, "test_record_id"),
])
def test_bad_form_fields_are_422_naming_them(api, session, tested, folder, fields, field):
    answer = _upload(api, "engineer", tested.claim.id, PNG, "a.png", **fields)
    assert answer.status_code == 422 and answer.json["details"]["field"] == field, answer.json
    assert _left(session, folder) == ([], 0)


def test_no_file_is_422_and_production_may_not_upload(api, session, tested, folder):
    answer = api("engineer").post(f"/api/v1/claims/{tested.claim.id}/attachments", data={"case_id": "1"},
                                  content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.json["details"]["field"] == "file"
    assert _upload(api, "production", tested.claim.id, PNG, "a.png").status_code == 403
    assert api("engineer").get("/api/v1/attachments/999999").status_code == 404
    assert _left(session, folder) == ([], 0)


def test_anonymous_callers_get_401(app, tested):
    assert app.test_client().get(f"/api/v1/claims/{tested.claim.id}/attachments").status_code == 401
    assert app.test_client().get("/api/v1/attachments/1").status_code == 401


def test_comments_over_http(api, session, tested):
    answer = api("coordinator").post(f"/api/v1/claims/{tested.claim.id}/comments",
                                     json={"body": "Called the customer.", "visibility": "customer"})
    assert answer.status_code == 201
    assert {k: answer.json[k] for k in ("body", "visibility", "author")} == {
        "body": "Called the customer.", "visibility": "customer", "author": "coordinator"}
    timeline = api("engineer").get(f"/api/v1/claims/{tested.claim.id}").json["timeline"]
    assert [(e["body"], e["visibility"]) for e in timeline if e["kind"] == "comment"] == [
        ("Called the customer.", "customer")]
    for body, field in (({"body": "  "}, "body"), ({"body": "x", "visibility": "public"}, "visibility"),
                        ({"body": "x" * 4001}, "body"), ({}, "body")):
        refused = api("coordinator").post(f"/api/v1/claims/{tested.claim.id}/comments", json=body)
        assert refused.status_code == 422 and refused.json["details"]["field"] == field, refused.json
    assert api("production").post(f"/api/v1/claims/{tested.claim.id}/comments",
                                  json={"body": "hi"}).status_code == 403
    assert api("engineer").post("/api/v1/claims/999999/comments", json={"body": "hi"}).status_code == 404
    assert session.scalar(select(func.count()).select_from(Comment)) == 1
